"""Coordination's events in a person's calendar feed: the due dates of the customer
requests assigned to them (coordination/calendar.py)."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from coordination import calendar
from coordination.models import CustomerRequest
from coordination.selectors.customer_requests import visible_requests


def request_due_dates(user, since: dt.date) -> list[calendar.CalendarEvent]:
    """Open requests assigned to the user, on their due date. A closed one leaves the
    feed (and so the person's calendar)."""
    requests = (
        visible_requests(user)
        .filter(assignee=user, due_date__gte=since)
        .exclude(status__in=CustomerRequest.CLOSED_STATUSES)
        .order_by("due_date", "pk")
    )
    return [
        calendar.due_date(
            uid=f"customer-request-{request.pk}",
            what=f"request #{request.pk} from {request.customer_name}: {request.summary}",
            due=request.due_date,
            url=reverse("request_detail", args=[request.pk]),
            revised_at=request.updated_at,
            about=(
                f"{request.get_kind_display()}, {request.get_priority_display().lower()} "
                f"priority, {request.get_status_display().lower()}."
            ),
            kind="Customer request",
        )
        for request in requests
    ]


def register_calendar_events() -> None:
    calendar.register(
        "customer-requests", request_due_dates, permissions=("coordination.view_customerrequest",)
    )
