"""ISO weeks. Tandem stores a week as the date of its Monday."""

from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.utils import timezone

from coordination.input_limits import check_date

ISO_WEEK_RE = re.compile(r"^(?P<year>\d{4})-?W(?P<week>\d{1,2})$", re.IGNORECASE)


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def current_week() -> dt.date:
    return monday_of(timezone.localdate())


def add_weeks(week: dt.date, weeks: int) -> dt.date:
    return week + dt.timedelta(weeks=weeks)


def weeks_between(start: dt.date, end: dt.date) -> int:
    """Whole weeks from the Monday of `start` to the Monday of `end` (may be negative)."""
    return (monday_of(end) - monday_of(start)).days // 7


def week_range(start: dt.date, count: int) -> list[dt.date]:
    first = monday_of(start)
    return [add_weeks(first, i) for i in range(count)]


def horizon_end() -> dt.date:
    """The last week of the planning horizon (settings.PLANNING_HORIZON_WEEKS from this week)."""
    from django.conf import settings

    return add_weeks(current_week(), settings.PLANNING_HORIZON_WEEKS - 1)


def outside_horizon(start: dt.date, end: dt.date, what: str = "The promotion") -> str:
    """A sentence saying which of the weeks start..end lie beyond the planning horizon and
    that they are planned when they enter it; "" when all of them are within it."""
    last = horizon_end()
    if end <= last:
        return ""
    horizon = f"the plan's horizon (to {iso_label(last)})"
    if start > last:
        weeks = f"in {iso_label(end)}" if start == end else f"from {iso_label(start)}"
        return f"{what} {weeks} lies beyond {horizon}: it will be planned as it enters it."
    first_out = add_weeks(last, 1)
    if first_out == end:
        return f"Week {iso_label(end)} lies beyond {horizon}: it will be planned when it enters it."
    return (
        f"Weeks {iso_label(first_out)} to {iso_label(end)} lie beyond {horizon}: they will "
        "be planned as they enter it."
    )


def iso_label(week: dt.date) -> str:
    year, number, _ = week.isocalendar()
    return f"{year}-W{number:02d}"


def parse_week(value: str | dt.date | None) -> dt.date | None:
    """Accept '2026-W48', '2026W48' or any ISO date; return that week's Monday. Text
    outside the accepted dates (coordination.input_limits) is refused."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return monday_of(value.date())
    if isinstance(value, dt.date):
        return monday_of(value)
    text = str(value).strip()
    match = ISO_WEEK_RE.match(text)
    if match:
        year, number = int(match["year"]), int(match["week"])
        try:
            day = dt.date.fromisocalendar(year, number, 1)
        except ValueError as exc:
            raise ValidationError(f"{text} is not a week of {year}.", code="invalid_week") from exc
    else:
        try:
            day = dt.date.fromisoformat(text)
        except ValueError as exc:
            # The text goes in as a parameter: django-filter formats messages with `%`.
            raise ValidationError(
                "Enter a week as 2026-W48 or a date as 2026-11-23; got %(value)s.",
                code="invalid_week",
                params={"value": repr(text)},
            ) from exc
    # Text comes from outside: only weeks within the accepted window.
    return monday_of(check_date(day))


def validate_monday(value: dt.date) -> None:
    if value.weekday() != 0:
        raise ValidationError(
            "%(value)s is not a Monday: weeks are stored as their Monday.",
            code="not_monday",
            params={"value": value},
        )
