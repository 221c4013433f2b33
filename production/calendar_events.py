"""Capacity exceptions in a person's calendar feed (coordination/calendar.py): a line's
shutdown, short week or extra hours as an all-day event over its week."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from coordination import calendar
from production.models import CapacityException


def capacity_events(user, since: dt.date) -> list[calendar.CalendarEvent]:
    exceptions = (
        CapacityException.objects.filter(week__gte=since - dt.timedelta(days=6))
        .select_related("line")
        .order_by("week", "line__name", "pk")
    )
    return [_event(exception) for exception in exceptions]


def _event(exception: CapacityException) -> calendar.CalendarEvent:
    line = exception.line
    usual = line.weekly_capacity_hours
    if exception.hours == 0:
        what = "shut down"
    elif exception.hours < usual:
        what = f"short week, {exception.hours} h of {usual} h"
    else:
        what = f"extra hours, {exception.hours} h instead of {usual} h"
    return calendar.CalendarEvent(
        uid=f"capacity-exception-{exception.pk}",
        summary=f"{line.name} {what}: {exception.note}",
        start=exception.week,
        end=calendar.week_end(exception.week),
        url=reverse("line_detail", args=[line.pk]),
        # The summary reads the line's usual hours and name too.
        revised_at=max(exception.created_at, line.updated_at),
        description=(
            f"{line.name}: {exception.hours} h this week (usually {usual} h). {exception.note}"
        ),
        categories=("Tandem", "Capacity"),
    )


def register_calendar_events() -> None:
    calendar.register(
        "capacity-exceptions",
        capacity_events,
        permissions=("production.view_capacityexception", "coordination.view_line"),
    )
