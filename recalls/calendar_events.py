"""Recall tasks in their owner's calendar feed (coordination/calendar.py): an open task
on its due date. A task done leaves the feed."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from coordination import calendar
from recalls.models import RecallTask


def task_due_dates(user, since: dt.date) -> list[calendar.CalendarEvent]:
    tasks = (
        RecallTask.objects.filter(owner=user, done_at__isnull=True, due_date__gte=since)
        .select_related("incident")
        .order_by("due_date", "pk")
    )
    return [
        calendar.due_date(
            uid=f"recall-task-{task.pk}",
            what=f"{task.title} ({task.incident.code})",
            due=task.due_date,
            url=reverse("recall_tab", args=[task.incident.code, "tasks"]),
            revised_at=task.created_at,
            about=f"Recall {task.incident.code}: {task.incident.title}.",
            kind="Recall",
        )
        for task in tasks
    ]


def register_calendar_events() -> None:
    calendar.register(
        "recall-tasks",
        task_due_dates,
        permissions=("recalls.view_recalltask", "recalls.view_recallincident"),
    )
