"""Quality's (and everyone's) part of the home page: open recalls and what is overdue."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from coordination.home import Todo, register
from recalls.models import PressInquiry, RecallTask, Statement
from recalls.selectors import open_recalls

# Press inquiries due within this many hours count as "due now".
PRESS_DUE_HOURS = 48


def _tab_of(row, tab: str, otherwise: str) -> str:
    """The tab of the incident `row` (a task, inquiry or statement) belongs to."""
    return reverse("recall_tab", args=[row.incident.code, tab]) if row else otherwise


def recall_todos(user) -> list[Todo]:
    board = reverse("recall_board")
    incidents = list(open_recalls().order_by("classification", "-id"))
    serious = [i for i in incidents if i.stop_ship or i.classification == "class_i"]
    tasks = RecallTask.objects.filter(
        done_at__isnull=True,
        due_date__lt=timezone.localdate(),
        incident__in=open_recalls(),
    ).select_related("incident")
    mine = tasks.filter(owner=user)
    todos = [
        Todo(
            "Open recalls",
            len(incidents),
            board,
            level="err" if serious else "warn",
            hint=f"{serious[0].code}: {serious[0].title}" if serious else "",
        ),
        Todo(
            "Your overdue recall tasks",
            mine.count(),
            _tab_of(mine.first(), "tasks", board),
            level="err",
        ),
        Todo(
            "Overdue recall tasks (all departments)",
            tasks.count(),
            _tab_of(tasks.first(), "tasks", board),
            level="warn",
        ),
    ]
    if user.has_perm("recalls.communicate_recall"):
        due = (
            PressInquiry.objects.filter(
                status=PressInquiry.Status.OPEN,
                response_due__lte=timezone.now() + dt.timedelta(hours=PRESS_DUE_HOURS),
            )
            .order_by("response_due")
            .select_related("incident")
        )
        first = due.first()
        todos.append(
            Todo(
                f"Press inquiries due within {PRESS_DUE_HOURS} hours",
                due.count(),
                _tab_of(first, "press", board),
                level="err",
                hint=f"{first.outlet}, due {timezone.localtime(first.response_due):%a %H:%M}"
                if first
                else "",
            )
        )
    if user.has_perm("recalls.approve_statement"):
        waiting = (
            Statement.objects.filter(status=Statement.Status.SUBMITTED)
            .exclude(author=user)
            .select_related("incident")
        )
        first = waiting.first()
        todos.append(
            Todo(
                "Statements waiting for your approval",
                waiting.count(),
                _tab_of(first, "statements", board),
                level="warn",
            )
        )
    return todos


def register_panels() -> None:
    register("Recalls", recall_todos, permission="recalls.view_recallincident", order=5)
