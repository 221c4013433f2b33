"""The planning review in a person's calendar feed (coordination/calendar.py): each
cycle's review meeting, and the open action items the person owns, on their due date."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from coordination import calendar
from planning.models import CycleDecision, PlanningCycle

VIEW = "planning.view_planningcycle"


def meetings(user, since: dt.date) -> list[calendar.CalendarEvent]:
    cycles = PlanningCycle.objects.filter(meeting_at__date__gte=since).order_by("meeting_at", "pk")
    return [
        calendar.CalendarEvent(
            uid=f"planning-meeting-{cycle.pk}",
            summary=f"Planning review: {cycle.name}",
            start=cycle.meeting_at,
            end=cycle.meeting_at + dt.timedelta(minutes=cycle.meeting_minutes),
            url=reverse("planning_detail", args=[cycle.pk]),
            revised_at=cycle.meeting_scheduled_at or cycle.opened_at,
            description=(
                f"The monthly planning review of {cycle.name} "
                f"({cycle.period_start:%d %b} to {cycle.period_end:%d %b %Y}), "
                f"{cycle.get_status_display().lower()}: numbers, sign-offs, decisions."
            ),
            categories=("Tandem", "Planning review"),
            location=cycle.meeting_place,
        )
        for cycle in cycles
    ]


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
    calendar.register("planning-meetings", meetings, permissions=(VIEW,))
    calendar.register("planning-actions", action_item_due_dates, permissions=(VIEW,))
