"""The planning review's part of the home page: the user's action items and the cycles
waiting for a sign-off the user may give."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

from coordination.home import Todo, register
from planning.models import SignedPart
from planning.selectors.cycles import (
    PART_DEPARTMENT,
    PART_PERMISSION,
    action_items,
    cycles_awaiting,
)


def planning_todos(user) -> list[Todo]:
    """The user's open action items from planning reviews, and cycles waiting for a
    sign-off the user may give."""
    mine = action_items(owner=user)
    actions_url = f"{reverse('planning_actions')}?{urlencode({'mine': 'on'})}"
    todos = [
        Todo(
            "Your planning action items past their due date",
            mine.filter(due_date__lt=timezone.localdate()).count(),
            f"{actions_url}&overdue=on",
            level="err",
        ),
        Todo("Your open planning action items", mine.count(), actions_url, level="warn"),
    ]
    waiting = cycles_awaiting(user)
    signing = [
        PART_DEPARTMENT[part].value for part in SignedPart if user.has_perm(PART_PERMISSION[part])
    ]
    query = {"awaiting": signing[0]} if len(signing) == 1 else {"status": "in_review"}
    todos.append(
        Todo(
            "Planning cycles waiting for your sign-off",
            len(waiting),
            f"{reverse('planning_list')}?{urlencode(query)}",
            level="warn",
            hint=", ".join(str(cycle) for cycle in waiting[:3]),
        )
    )
    return todos


def register_panels() -> None:
    register("Planning review", planning_todos, permission="planning.view_planningcycle", order=45)
