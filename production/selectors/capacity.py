"""Reads about line capacity."""

from __future__ import annotations

import datetime as dt

import numpy as np

from coordination.models import Line
from production.models import CapacityException


def line_capacity(line: Line, weeks: list[dt.date]) -> np.ndarray:
    hours = np.full(len(weeks), float(line.weekly_capacity_hours))
    col = {week: k for k, week in enumerate(weeks)}
    for week, value in CapacityException.objects.filter(
        line=line, week__gte=weeks[0], week__lte=weeks[-1]
    ).values_list("week", "hours"):
        hours[col[week]] = float(value)
    return hours
