"""Everything a recall says and does around the incident: tasks, consignee
notifications, press inquiries and public statements.

Statements follow draft -> submitted -> approved -> published (or back to draft when
sent back); approval needs another person than the author, with the approve_statement
permission (Quality), and only an approved statement can be published."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from coordination import roles
from coordination.models import Department
from coordination.permissions import require_permission
from coordination.services.activity import activity_record
from coordination.services.locking import lock_for_edit, save_new_version
from recalls.models import (
    CustomerNotification,
    PressInquiry,
    RecallIncident,
    RecallTask,
    Statement,
)

COMMUNICATE = "recalls.communicate_recall"
MANAGE = "recalls.manage_recall"
APPROVE = "recalls.approve_statement"


def _open_incident(incident_id: int) -> RecallIncident:
    incident = RecallIncident.objects.select_for_update().get(pk=incident_id)
    if incident.status == RecallIncident.Status.CLOSED:
        raise ValidationError("The recall is closed.")
    return incident


def _record(incident, actor, message: str) -> None:
    activity_record(target=incident, actor=actor, verb="updated", message=message)


# ---------------------------------------------------------------------- tasks


@transaction.atomic
def task_add(
    *, actor, incident_id: int, title: str, department: str, owner_id: int, due_date: dt.date
) -> RecallTask:
    require_permission(actor, "recalls.add_recalltask", "Your role may not add recall tasks.")
    incident = _open_incident(incident_id)
    errors = {}
    if not (title or "").strip():
        errors["title"] = "Say what needs doing."
    if department not in Department.values:
        errors["department"] = "Choose a department."
    owner = get_user_model().objects.filter(pk=owner_id, is_active=True).first()
    if owner is None:
        errors["owner"] = "Choose who owns the task."
    elif department in Department.values and department not in roles.departments_of(owner):
        errors["owner"] = f"{owner} does not work in {Department(department).label}."
    if due_date is None:
        errors["due_date"] = "Give a due date."
    elif due_date < timezone.localdate():
        errors["due_date"] = "The due date has passed."
    if errors:
        raise ValidationError(errors)
    task = RecallTask.objects.create(
        incident=incident,
        title=title.strip(),
        department=department,
        owner=owner,
        due_date=due_date,
    )
    _record(incident, actor, f"Task for {owner} ({task.get_department_display()}): {task.title}")
    return task


def task_may_change(actor, task: RecallTask) -> bool:
    """A task is its owner's, its department's and the recall managers' to change. Every
    role may change recall tasks, but only those of its own department: Sales does not
    tick off Quality's lab work."""
    return (
        task.owner_id == actor.pk
        or actor.has_perm(MANAGE)
        or (
            actor.has_perm("recalls.change_recalltask")
            and task.department in roles.departments_of(actor)
        )
    )


@transaction.atomic
def task_complete(*, actor, task_id: int) -> RecallTask:
    task = RecallTask.objects.select_for_update().select_related("incident").get(pk=task_id)
    if not task_may_change(actor, task):
        raise PermissionDenied(
            f"Only its owner ({task.owner}), {task.get_department_display()} or the recall "
            f"managers may complete “{task.title}”."
        )
    if task.done_at is not None:
        raise ValidationError("The task is already done.")
    task.done_at = timezone.now()
    task.save(update_fields=["done_at"])
    _record(task.incident, actor, f"Done: {task.title}")
    return task


# --------------------------------------------------------------- notifications


@transaction.atomic
def notification_log(
    *,
    actor,
    incident_id: int,
    consignee: str,
    channel: str,
    account: str = "",
    notified_at: dt.datetime | None = None,
    acknowledged: bool = False,
    note: str = "",
) -> CustomerNotification:
    require_permission(
        actor, "recalls.add_customernotification", "Your role may not log consignee notifications."
    )
    incident = _open_incident(incident_id)
    consignee = (consignee or "").strip()
    if not consignee:
        raise ValidationError({"consignee": "Name the consignee told about the recall."})
    notified_at = notified_at or timezone.now()
    if notified_at > timezone.now() + dt.timedelta(minutes=5):
        raise ValidationError({"notified_at": "A notification cannot be in the future."})
    notification = CustomerNotification(
        incident=incident,
        consignee=consignee,
        account=(account or "").strip(),
        channel=channel,
        notified_at=notified_at,
        notified_by=actor,
        acknowledged=acknowledged,
        note=(note or "").strip(),
    )
    notification.full_clean(exclude=["incident", "notified_by"])
    try:
        with transaction.atomic():
            notification.save()
    except IntegrityError as exc:
        raise ValidationError({"consignee": f"{consignee} is already recorded."}) from exc
    _record(incident, actor, f"Notified {consignee} by {notification.get_channel_display()}.")
    return notification


# ------------------------------------------------------------------- press


@transaction.atomic
def press_inquiry_log(
    *,
    actor,
    incident_id: int,
    outlet: str,
    contact: str,
    question: str,
    received_at: dt.datetime | None = None,
    response_due: dt.datetime,
) -> PressInquiry:
    require_permission(actor, COMMUNICATE, "Only Marketing handles press inquiries.")
    incident = _open_incident(incident_id)
    received_at = received_at or timezone.now()
    inquiry = PressInquiry(
        incident=incident,
        outlet=(outlet or "").strip(),
        contact=(contact or "").strip(),
        question=(question or "").strip(),
        received_at=received_at,
        response_due=response_due,
    )
    if response_due is not None and response_due < received_at:
        raise ValidationError({"response_due": "The answer cannot be due before the question."})
    inquiry.full_clean(exclude=["incident"])
    inquiry.save()
    _record(
        incident, actor, f"Press inquiry from {inquiry.outlet}, due {response_due:%d %b %H:%M}."
    )
    return inquiry


@transaction.atomic
def press_inquiry_answer(
    *, actor, inquiry_id: int, answer: str, decline: bool = False
) -> PressInquiry:
    require_permission(actor, COMMUNICATE, "Only Marketing handles press inquiries.")
    inquiry = PressInquiry.objects.select_for_update().select_related("incident").get(pk=inquiry_id)
    if inquiry.status != PressInquiry.Status.OPEN:
        raise ValidationError("This inquiry has already been answered.")
    answer = (answer or "").strip()
    if not answer and not decline:
        raise ValidationError({"answer": "Write the answer given to the outlet."})
    inquiry.answer = answer
    inquiry.status = PressInquiry.Status.DECLINED if decline else PressInquiry.Status.ANSWERED
    inquiry.answered_by = actor
    inquiry.answered_at = timezone.now()
    inquiry.save(update_fields=["answer", "status", "answered_by", "answered_at"])
    _record(
        inquiry.incident,
        actor,
        f"{inquiry.get_status_display()} the inquiry from {inquiry.outlet}.",
    )
    return inquiry


# -------------------------------------------------------------- statements

SStatus = Statement.Status


@transaction.atomic
def statement_draft(*, actor, incident_id: int, title: str, body: str) -> Statement:
    require_permission(actor, COMMUNICATE, "Only Marketing drafts recall statements.")
    incident = _open_incident(incident_id)
    statement = Statement(
        incident=incident, title=(title or "").strip(), body=(body or "").strip(), author=actor
    )
    statement.full_clean(exclude=["incident", "author"])
    statement.save()
    _record(incident, actor, f"Drafted the statement “{statement.title}”.")
    return statement


@transaction.atomic
def statement_edit(
    *, actor, statement_id: int, expected_version: int | None, title: str, body: str
) -> Statement:
    statement = lock_for_edit(Statement.objects.all(), statement_id, expected_version)
    if statement.author_id != actor.pk:
        raise PermissionDenied("Only the author edits a draft statement.")
    if statement.status not in (SStatus.DRAFT, SStatus.REJECTED):
        raise ValidationError("Only a draft can be edited.")
    statement.title = (title or "").strip()
    statement.body = (body or "").strip()
    statement.status = SStatus.DRAFT
    statement.full_clean(exclude=["incident", "author", "reviewed_by"])
    save_new_version(statement, ["title", "body", "status"])
    return statement


def _step(statement_id, expected_version, allowed: tuple[str, ...], verb: str) -> Statement:
    statement = lock_for_edit(
        Statement.objects.select_related("incident"), statement_id, expected_version
    )
    if statement.status not in allowed:
        raise ValidationError(
            f"The statement is {statement.get_status_display().lower()}: it cannot be {verb}."
        )
    return statement


@transaction.atomic
def statement_submit(*, actor, statement_id: int, expected_version: int | None) -> Statement:
    statement = _step(
        statement_id, expected_version, (SStatus.DRAFT, SStatus.REJECTED), "submitted"
    )
    if statement.author_id != actor.pk:
        raise PermissionDenied("Only the author submits a statement for approval.")
    statement.status = SStatus.SUBMITTED
    save_new_version(statement, ["status"])
    _record(statement.incident, actor, f"Submitted “{statement.title}” for approval.")
    return statement


@transaction.atomic
def statement_review(
    *, actor, statement_id: int, expected_version: int | None, approve: bool, note: str = ""
) -> Statement:
    statement = _step(statement_id, expected_version, (SStatus.SUBMITTED,), "reviewed")
    require_permission(actor, APPROVE, "Your role may not approve recall statements.")
    if statement.author_id == actor.pk:
        raise PermissionDenied("A statement cannot be approved by its author.")
    note = (note or "").strip()
    if not approve and not note:
        raise ValidationError({"note": "Say what must change before it can be approved."})
    statement.status = SStatus.APPROVED if approve else SStatus.REJECTED
    statement.reviewed_by = actor
    statement.reviewed_at = timezone.now()
    statement.review_note = note
    save_new_version(statement, ["status", "reviewed_by", "reviewed_at", "review_note"])
    _record(
        statement.incident,
        actor,
        f"{'Approved' if approve else 'Sent back'} “{statement.title}”."
        + (f" {note}" if note else ""),
    )
    return statement


@transaction.atomic
def statement_publish(*, actor, statement_id: int, expected_version: int | None) -> Statement:
    statement = _step(statement_id, expected_version, (SStatus.APPROVED,), "published")
    require_permission(actor, COMMUNICATE, "Only Marketing publishes recall statements.")
    statement.status = SStatus.PUBLISHED
    statement.published_at = timezone.now()
    save_new_version(statement, ["status", "published_at"])
    _record(statement.incident, actor, f"Published “{statement.title}”.")
    return statement
