"""Coordination's part of the home page: requests waiting on the user and spec reviews."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

from coordination import roles
from coordination.home import Todo, register
from coordination.models import CustomerRequest, Department, Specification
from coordination.selectors.customer_requests import OPEN, my_requests, visible_requests


def _list_url(**filters) -> str:
    return f"{reverse('request_list')}?{urlencode(filters)}"


def request_todos(user) -> list[Todo]:
    today = timezone.localdate()
    todos = []
    mine = my_requests(user).filter(OPEN)
    todos.append(
        Todo(
            "Your requests past their due date",
            mine.filter(due_date__lt=today).count(),
            reverse("my_requests"),
            level="err",
        )
    )
    for department in sorted(roles.departments_of(user)):
        inbox = CustomerRequest.objects.filter(OPEN, department=department)
        label = Department(department).label
        todos.append(
            Todo(
                f"Overdue in the {label} inbox",
                inbox.filter(due_date__lt=today).count(),
                _list_url(department=department, overdue="on"),
                level="err",
            )
        )
        todos.append(
            Todo(
                f"Open in the {label} inbox",
                inbox.count(),
                reverse("inbox_department", args=[department]),
            )
        )
    if user.has_perm("coordination.answer_feasibility"):
        todos.append(
            Todo(
                "Customizations waiting for production's feasibility answer",
                CustomerRequest.objects.filter(
                    kind=CustomerRequest.Kind.CUSTOMIZATION,
                    status__in=[CustomerRequest.Status.TRIAGED, CustomerRequest.Status.IN_REVIEW],
                    department="production",
                ).count(),
                _list_url(kind="customization", department="production", status="in_review"),
                level="warn",
            )
        )
    if user.has_perm("coordination.quote_request"):
        todos.append(
            Todo(
                "Quotes awaiting the customer's answer",
                visible_requests(user).filter(status=CustomerRequest.Status.QUOTED).count(),
                _list_url(status="quoted"),
            )
        )
    return todos


def specification_todos(user) -> list[Todo]:
    return [
        Todo(
            "Spec proposals to review",
            Specification.objects.filter(status=Specification.Status.PROPOSED).count(),
            reverse("review_queue"),
            level="warn",
        )
    ]


def register_panels() -> None:
    register(
        "Customer requests",
        request_todos,
        permission="coordination.view_customerrequest",
        order=30,
    )
    register(
        "Product specifications",
        specification_todos,
        permission="coordination.review_specification",
        order=40,
    )
