"""Template helpers for the planning review, whose snapshot keeps dates as ISO text."""

from __future__ import annotations

import datetime as dt

from django import template

from coordination.weeks import iso_label

register = template.Library()


def _date(value) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


@register.filter
def iso_week(value) -> str:
    """'2026-12-07' -> '2026-W50'."""
    day = _date(value)
    return iso_label(day) if day else ""


@register.filter
def month_name(value) -> str:
    """'2026-12-01' -> 'Dec 2026'."""
    day = _date(value)
    return day.strftime("%b %Y") if day else ""


@register.filter
def iso_day(value) -> str:
    """'2026-12-07' -> '7 Dec 2026'."""
    day = _date(value)
    return f"{day.day} {day:%b %Y}" if day else ""
