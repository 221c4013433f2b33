"""The home page's "what needs me now": each app registers what it can count for a user.

A panel is a function `user -> list[Todo]`, registered with the permission that makes it
relevant (the same permission the linked page checks). The home page shows, per panel,
the items whose count is not zero, each linking to the filtered list behind the number.
Apps register in their AppConfig.ready, so coordination never imports the apps above it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Todo:
    label: str  # "Spec proposals to review"
    count: int
    url: str  # the filtered list behind the count
    level: str = "info"  # "err" (act now), "warn" (soon), "info"
    hint: str = ""  # one line of context, e.g. the worst case


@dataclass(frozen=True)
class Panel:
    title: str
    permission: str | None
    todos: Callable[[object], list[Todo]]
    order: int = 100


PANELS: list[Panel] = []


def register(
    title: str, todos: Callable[[object], list[Todo]], *, permission: str | None, order: int = 100
) -> None:
    if any(panel.title == title for panel in PANELS):
        return  # ready() may run twice in tests; a panel is registered once
    PANELS.append(Panel(title, permission, todos, order))
    PANELS.sort(key=lambda panel: (panel.order, panel.title))


def titles_for(user) -> list[str]:
    """The titles of the panels the user may see, without counting anything."""
    return [p.title for p in PANELS if p.permission is None or user.has_perm(p.permission)]


def panels_for(user, leave_out=frozenset()) -> list[dict]:
    """Panels the user may see, each with its non-zero items, most urgent first; none of
    the titles in `leave_out` (not counted at all)."""
    rank = {"err": 0, "warn": 1, "info": 2}
    shown = []
    for panel in PANELS:
        if panel.permission is not None and not user.has_perm(panel.permission):
            continue
        if panel.title in leave_out:
            continue
        todos = [todo for todo in panel.todos(user) if todo.count]
        todos.sort(key=lambda todo: rank.get(todo.level, 3))
        shown.append({"title": panel.title, "todos": todos})
    return shown
