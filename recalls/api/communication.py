"""REST: what a recall says and does around the incident.

GET   recalls/{code}/tasks/                          list (open first, soonest due)
POST  recalls/{code}/tasks/                          add a task for a department
GET   recalls/{code}/tasks/{id}/                     one task
POST  recalls/{code}/tasks/{id}/complete/            its owner, department or recall managers
GET   recalls/{code}/press-inquiries/                list (open first, soonest due)
POST  recalls/{code}/press-inquiries/                log one (Marketing)
GET   recalls/{code}/press-inquiries/{id}/           one inquiry
POST  recalls/{code}/press-inquiries/{id}/answer/    answer or decline (Marketing)
GET   press-inquiries/                               every recall's, for Marketing's
                                                     desk (filters: status, recall)
GET   press-inquiries/{id}/                          one inquiry
GET   recalls/{code}/statements/                     list, newest first
POST  recalls/{code}/statements/                     draft (Marketing)
GET   recalls/{code}/statements/{id}/                one statement
PATCH recalls/{code}/statements/{id}/                edit a draft (its author)
POST  recalls/{code}/statements/{id}/submit/         for approval (its author)
POST  recalls/{code}/statements/{id}/approve/        by a second role (Quality);
POST  recalls/{code}/statements/{id}/reject/         never by the author
POST  recalls/{code}/statements/{id}/publish/        an approved one (Marketing)
GET   recalls/{code}/notifications/                  consignees notified
POST  recalls/{code}/notifications/                  log one (once per consignee)
"""

from __future__ import annotations

import django_filters
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework import status as http
from rest_framework.decorators import action

from coordination.api.support import idempotent
from recalls import selectors
from recalls import serializers as s
from recalls.api.base import (
    APPROVE,
    COMMUNICATE,
    ERRORS,
    RECALL_CODE,
    STALE,
    IncidentChildViewSet,
    RecallApiViewSet,
)
from recalls.models import PressInquiry, RecallIncident
from recalls.services import communication as services


def _read_docs(plural: str, singular: str):
    return extend_schema_view(
        list=extend_schema(summary=f"The recall's {plural}", parameters=[RECALL_CODE]),
        retrieve=extend_schema(
            summary=f"One {singular}", parameters=[RECALL_CODE], responses={404: ERRORS[404]}
        ),
    )


# ---------------------------------------------------------------------------- tasks


@_read_docs("tasks", "task")
class TaskViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, IncidentChildViewSet):
    serializer_class = s.RecallTaskSerializer
    selector = selectors.incident_tasks
    required_permissions = {
        "list": ["recalls.view_recalltask"],
        "retrieve": ["recalls.view_recalltask"],
        "create": ["recalls.add_recalltask"],
        # The owner completes their own task whatever their role; the service decides.
        "complete": ["recalls.view_recalltask"],
    }

    @extend_schema(
        summary="Add a task for a department, with its owner and due date",
        parameters=[RECALL_CODE],
        request=s.TaskCreateSerializer,
        responses={201: s.RecallTaskSerializer, **ERRORS},
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        data = self.validated(s.TaskCreateSerializer)
        task = services.task_add(
            actor=request.user,
            incident_id=self.incident.pk,
            title=data["title"],
            department=data["department"],
            owner_id=data["owner"].pk,
            due_date=data["due_date"],
        )
        return self.output(s.RecallTaskSerializer, task, http.HTTP_201_CREATED)

    @extend_schema(
        summary="Mark the task done (its owner, its department or the recall managers)",
        parameters=[RECALL_CODE],
        request=None,
        responses={200: s.RecallTaskSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def complete(self, request, *args, **kwargs):
        task = services.task_complete(actor=request.user, task_id=self.get_object().pk)
        return self.output(s.RecallTaskSerializer, task)


# ---------------------------------------------------------------------------- press


@_read_docs("press inquiries", "press inquiry")
class PressInquiryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, IncidentChildViewSet):
    serializer_class = s.PressInquirySerializer
    selector = selectors.press_inquiries
    required_permissions = {
        "list": ["recalls.view_pressinquiry"],
        "retrieve": ["recalls.view_pressinquiry"],
        "create": [COMMUNICATE],
        "answer": [COMMUNICATE],
    }

    @extend_schema(
        summary="Log a press inquiry (Marketing)",
        parameters=[RECALL_CODE],
        request=s.PressInquiryCreateSerializer,
        responses={201: s.PressInquirySerializer, **ERRORS},
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        data = self.validated(s.PressInquiryCreateSerializer)
        inquiry = services.press_inquiry_log(
            actor=request.user, incident_id=self.incident.pk, **data
        )
        return self.output(s.PressInquirySerializer, inquiry, http.HTTP_201_CREATED)

    @extend_schema(
        summary="Answer the inquiry, or record that we declined to comment (Marketing)",
        parameters=[RECALL_CODE],
        request=s.PressAnswerSerializer,
        responses={200: s.PressInquirySerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def answer(self, request, *args, **kwargs):
        inquiry = self.get_object()
        data = self.validated(s.PressAnswerSerializer)
        answered = services.press_inquiry_answer(
            actor=request.user,
            inquiry_id=inquiry.pk,
            answer=data["answer"],
            decline=data["decline"],
        )
        return self.output(s.PressInquirySerializer, answered)


class PressDeskFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=PressInquiry.Status.choices)
    recall = django_filters.ModelChoiceFilter(
        queryset=RecallIncident.objects.all(),
        to_field_name="code",
        field_name="incident",
        label="Recall code",
        error_messages={"invalid_choice": "No recall %(value)s."},
    )

    class Meta:
        model = PressInquiry
        fields: list[str] = []


@extend_schema_view(
    list=extend_schema(summary="Press inquiries about every recall, open first, soonest due"),
    retrieve=extend_schema(summary="One press inquiry", responses={404: ERRORS[404]}),
)
class PressDeskViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RecallApiViewSet):
    serializer_class = s.PressInquirySerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = PressDeskFilter
    lookup_value_regex = "[^/]+"
    required_permissions = {
        "list": ["recalls.view_pressinquiry"],
        "retrieve": ["recalls.view_pressinquiry"],
    }

    def get_queryset(self):
        return selectors.press_inquiries()


# ----------------------------------------------------------------------- statements


@_read_docs("statements", "statement")
class StatementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, IncidentChildViewSet):
    serializer_class = s.StatementSerializer
    selector = selectors.incident_statements
    required_permissions = {
        "list": ["recalls.view_statement"],
        "retrieve": ["recalls.view_statement"],
        "create": [COMMUNICATE],
        "partial_update": [COMMUNICATE],
        "submit": [COMMUNICATE],
        "approve": [APPROVE],
        "reject": [APPROVE],
        "publish": [COMMUNICATE],
    }

    @extend_schema(
        summary="Draft a statement (Marketing)",
        parameters=[RECALL_CODE],
        request=s.StatementCreateSerializer,
        responses={201: s.StatementSerializer, **ERRORS},
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        data = self.validated(s.StatementCreateSerializer)
        statement = services.statement_draft(
            actor=request.user, incident_id=self.incident.pk, **data
        )
        return self.output(s.StatementSerializer, statement, http.HTTP_201_CREATED)

    @extend_schema(
        summary="Edit a draft or sent-back statement (its author; send `version`)",
        parameters=[RECALL_CODE],
        request=s.StatementUpdateSerializer,
        responses={200: s.StatementSerializer, **ERRORS, **STALE},
    )
    def partial_update(self, request, *args, **kwargs):
        statement = self.get_object()
        data = self.validated(s.StatementUpdateSerializer)
        edited = services.statement_edit(
            actor=request.user,
            statement_id=statement.pk,
            expected_version=data["version"],
            title=data.get("title", statement.title),
            body=data.get("body", statement.body),
        )
        return self.output(s.StatementSerializer, edited)

    def _step(self, serializer_class, service, **extra):
        statement = self.get_object()
        data = self.validated(serializer_class)
        version = data.pop("version")
        done = service(
            actor=self.request.user,
            statement_id=statement.pk,
            expected_version=version,
            **data,
            **extra,
        )
        return self.output(s.StatementSerializer, done)

    @extend_schema(
        summary="Submit the statement for approval (its author)",
        parameters=[RECALL_CODE],
        request=s.StatementVersionSerializer,
        responses={200: s.StatementSerializer, **ERRORS, **STALE},
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, *args, **kwargs):
        return self._step(s.StatementVersionSerializer, services.statement_submit)

    @extend_schema(
        summary="Approve a submitted statement (a second role; never its author)",
        parameters=[RECALL_CODE],
        request=s.StatementApproveSerializer,
        responses={200: s.StatementSerializer, **ERRORS, **STALE},
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, *args, **kwargs):
        return self._step(s.StatementApproveSerializer, services.statement_review, approve=True)

    @extend_schema(
        summary="Send a submitted statement back with what must change (never its author)",
        parameters=[RECALL_CODE],
        request=s.StatementRejectSerializer,
        responses={200: s.StatementSerializer, **ERRORS, **STALE},
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, *args, **kwargs):
        return self._step(s.StatementRejectSerializer, services.statement_review, approve=False)

    @extend_schema(
        summary="Publish an approved statement (Marketing)",
        parameters=[RECALL_CODE],
        request=s.StatementVersionSerializer,
        responses={200: s.StatementSerializer, **ERRORS, **STALE},
    )
    @action(detail=True, methods=["post"])
    def publish(self, request, *args, **kwargs):
        return self._step(s.StatementVersionSerializer, services.statement_publish)


# -------------------------------------------------------------------- notifications


@extend_schema_view(
    list=extend_schema(summary="Consignees notified, latest first", parameters=[RECALL_CODE]),
)
class NotificationViewSet(mixins.ListModelMixin, IncidentChildViewSet):
    serializer_class = s.CustomerNotificationSerializer
    selector = selectors.incident_notifications
    required_permissions = {
        "list": ["recalls.view_customernotification"],
        "create": ["recalls.add_customernotification"],
    }

    @extend_schema(
        summary="Log that a consignee was notified (once per consignee)",
        parameters=[RECALL_CODE],
        request=s.NotificationCreateSerializer,
        responses={201: s.CustomerNotificationSerializer, **ERRORS},
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        data = self.validated(s.NotificationCreateSerializer)
        notification = services.notification_log(
            actor=request.user, incident_id=self.incident.pk, **data
        )
        return self.output(s.CustomerNotificationSerializer, notification, http.HTTP_201_CREATED)
