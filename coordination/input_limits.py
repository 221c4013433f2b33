"""The dates Tandem accepts from people and machines: 2000-01-01 to ten years ahead.

A sales row dated 0001-01-01 was once imported, and year 9999 overflows week arithmetic.
Every date or week that comes in (API fields and filters, forms, CSV and JSON imports)
passes `check_date`; `validate_date` is the same check as a field validator (it takes a
date or a datetime).
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils import timezone

FIRST_ACCEPTED_DATE = dt.date(2000, 1, 1)
YEARS_AHEAD = 10


def last_accepted_date(today: dt.date | None = None) -> dt.date:
    """Ten years after today (28 February for a 29 February)."""
    today = today or timezone.localdate()
    try:
        return today.replace(year=today.year + YEARS_AHEAD)
    except ValueError:
        return today.replace(year=today.year + YEARS_AHEAD, day=28)


def window_message() -> str:
    return (
        f"Enter a date from {FIRST_ACCEPTED_DATE.isoformat()} to "
        f"{last_accepted_date().isoformat()}."
    )


def check_date(day: dt.date) -> dt.date:
    """`day`, or ValidationError (code "out_of_range") outside the accepted window."""
    if not FIRST_ACCEPTED_DATE <= day <= last_accepted_date():
        raise ValidationError(window_message(), code="out_of_range")
    return day


def validate_date(value) -> None:
    """check_date as a form or serializer field validator; None and "" pass."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        check_date(value)
