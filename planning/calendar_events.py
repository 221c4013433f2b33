"""The planning review in a person's calendar feed (coordination/calendar.py): the open
action items they own, on their due date."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from coordination import calendar
from planning.models import CycleDecision


def action_item_due_dates(user, since: dt.date) -> list[calendar.CalendarEvent]:
    items = (
        CycleDecision.objects.filter(
            owner=user,
            kind=CycleDecision.Kind.ACTION,
            status=CycleDecision.Status.OPEN,
            due_date__gte=since,
        )
        .select_related("cycle")
        .order_by("due_date", "pk")
    )
    return [
        calendar.due_date(
            uid=f"planning-action-{item.pk}",
            what=_first_line(item.text),
            due=item.due_date,
            url=reverse("planning_detail", args=[item.cycle_id]),
            revised_at=item.updated_at,
            about=f"Action item of the planning review {item.cycle.name}:\n{item.text}",
            kind="Planning review",
        )
        for item in items
    ]


def _first_line(text: str, limit: int = 100) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def register_calendar_events() -> None:
    calendar.register(
        "planning-actions", action_item_due_dates, permission="planning.view_planningcycle"
    )
