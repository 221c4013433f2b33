"""Quality's (and everyone's) part of the home page: open recalls and what is overdue."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from coordination.home import Todo, register
from recalls.models import PressInquiry, RecallIncident, RecallTask, Statement

# Press inquiries due within this many hours count as "due now".
PRESS_DUE_HOURS = 48


def _open_incidents():
    return RecallIncident.objects.exclude(status=RecallIncident.Status.CLOSED)


def _detail(incident_id, tab: str | None = None) -> str:
    code = RecallIncident.objects.values_list("code", flat=True).get(pk=incident_id)
    return reverse("recall_tab", args=[code, tab]) if tab else reverse("recall_detail", args=[code])


def recall_todos(user) -> list[Todo]:
    board = reverse("recall_board")
    incidents = list(_open_incidents().order_by("classification", "-id"))
    serious = [i for i in incidents if i.stop_ship or i.classification == "class_i"]
    tasks = RecallTask.objects.filter(
        done_at__isnull=True,
        due_date__lt=timezone.localdate(),
        incident__in=_open_incidents(),
    )
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
            _detail(mine.first().incident_id, "tasks") if mine.exists() else board,
            level="err",
        ),
        Todo(
            "Overdue recall tasks (all departments)",
            tasks.count(),
            _detail(tasks.first().incident_id, "tasks") if tasks.exists() else board,
            level="warn",
        ),
    ]
    if user.has_perm("recalls.communicate_recall"):
        due = PressInquiry.objects.filter(
            status=PressInquiry.Status.OPEN,
            response_due__lte=timezone.now() + dt.timedelta(hours=PRESS_DUE_HOURS),
        ).order_by("response_due")
        first = due.first()
        todos.append(
            Todo(
                f"Press inquiries due within {PRESS_DUE_HOURS} hours",
                due.count(),
                _detail(first.incident_id, "press") if first else board,
                level="err",
                hint=f"{first.outlet}, due {timezone.localtime(first.response_due):%a %H:%M}"
                if first
                else "",
            )
        )
    if user.has_perm("recalls.approve_statement"):
        waiting = Statement.objects.filter(status=Statement.Status.SUBMITTED).exclude(author=user)
        first = waiting.first()
        todos.append(
            Todo(
                "Statements waiting for your approval",
                waiting.count(),
                _detail(first.incident_id, "statements") if first else board,
                level="warn",
            )
        )
    return todos


def register_panels() -> None:
    register("Recalls", recall_todos, permission="recalls.view_recallincident", order=5)
