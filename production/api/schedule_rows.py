"""Schedule pages without a model instance or a serializer per row.

A full pull of a large plant is tens of thousands of rows; building a ScheduleEntry, its
product, line and user, then running ScheduleEntrySerializer over each, cost about 20x
reading the same columns with `values_list()` (bench/schedule_pull_speed.py). Here a
page is read as tuples (production.selectors.schedule.schedule_rows) and turned into
exactly what the serializer would answer, JSON values or CSV cells, with the repeated
values (weeks, timestamps of a bulk accept) formatted once. ScheduleEntrySerializer
stays the documented schema, and tests/production/test_schedule_rows.py holds the two
outputs equal."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Iterator, Sequence
from json.encoder import encode_basestring

from django.utils import timezone

from coordination.weeks import iso_label
from production.renderers import CSVTable, csv_cell
from production.serializers import ScheduleEntrySerializer

FIELDS: tuple[str, ...] = tuple(ScheduleEntrySerializer.Meta.fields)


class _Formats:
    """Weeks and timestamps as the serializer writes them, each distinct value once."""

    def __init__(self):
        self.zone = timezone.get_current_timezone()
        self.weeks: dict[dt.date, tuple[str, str]] = {}
        self.times: dict[dt.datetime, str] = {}

    def week(self, day: dt.date) -> tuple[str, str]:
        found = self.weeks.get(day)
        if found is None:
            found = self.weeks[day] = (iso_label(day), day.isoformat())
        return found

    def time(self, value: dt.datetime | None) -> str | None:
        """DRF's DateTimeField: in the current time zone, ISO 8601, "Z" for UTC."""
        if value is None:
            return None
        found = self.times.get(value)
        if found is None:
            text = value.astimezone(self.zone).isoformat()
            if text.endswith("+00:00"):
                text = text[:-6] + "Z"
            found = self.times[value] = text
        return found


class JSONRows(list):
    """A page's `results` as the JSON text of each row (what json.dumps would write for
    the serializer's dict), for production.renderers.RowsAsJSONText to splice in."""

    json_text = True


def _formatted(rows: Iterable[Sequence]) -> Iterator[tuple]:
    """Rows (tuples in the order of selectors.schedule.SCHEDULE_ROW_COLUMNS) in the
    order of FIELDS, weeks and times as text, `superseded` as a bool."""
    formats = _Formats()
    week, time = formats.week, formats.time
    for row in rows:
        label, start = week(row[3])
        superseded_at = row[12]
        yield (
            row[0],
            row[1],
            row[2],
            label,
            start,
            *row[4:10],
            time(row[10]),
            superseded_at is not None,
            row[11],
            time(superseded_at),
        )


def json_rows(rows: Iterable[Sequence]) -> JSONRows:
    """The `results` of a page, one JSON object per row, keys in the serializer's order.
    Text goes through the json module's own string encoder (the one json.dumps uses
    without ensure_ascii, as DRF renders); numbers as json.dumps writes them."""
    quoted: dict[str, str] = {}

    def text(value: str) -> str:
        found = quoted.get(value)
        if found is None:
            found = quoted[value] = encode_basestring(value)
        return found

    def stamp(value: str | None) -> str:
        return "null" if value is None else f'"{value}"'

    out = JSONRows()
    append = out.append
    for r in _formatted(rows):
        append(
            f'{{"id":{r[0]},"product":{text(r[1])},"line":{text(r[2])},"week":"{r[3]}",'
            f'"week_start":"{r[4]}","units":{r[5]},"kind":{text(r[6])},'
            f'"reason":{text(r[7])},"recommended_units":{_number(r[8])},'
            f'"revision":{r[9]},"accepted_by":{text(r[10])},"accepted_at":{stamp(r[11])},'
            f'"superseded":{"true" if r[12] else "false"},'
            f'"superseded_by":{"null" if r[13] is None else r[13]},'
            f'"superseded_at":{stamp(r[14])}}}'
        )
    return out


def _number(value: float) -> str:
    # As json.dumps(allow_nan=False), which DRF's strict JSON uses.
    if not math.isfinite(value):
        raise ValueError(f"Out of range float values are not JSON compliant: {value!r}")
    return float.__repr__(float(value))


def csv_table(rows: Iterable[Sequence]) -> CSVTable:
    """The same page as CSV lines, what production.renderers.CSVRenderer writes for the
    JSON values: csv_cell on each (text a person typed is guarded against formulas),
    quoted as the csv module quotes (QUOTE_MINIMAL), "\r\n" after each line. Numbers,
    weeks and times never need quoting; text is guarded and quoted once per value."""
    quoted: dict[str, str] = {"": ""}

    def text(value: str) -> str:
        found = quoted.get(value)
        if found is None:
            found = csv_cell(value)
            if any(special in found for special in _CSV_SPECIAL):
                found = '"' + found.replace('"', '""') + '"'
            quoted[value] = found
        return found

    lines = [
        f"{r[0]},{text(r[1])},{text(r[2])},{r[3]},{r[4]},{r[5]},{text(r[6])},{text(r[7])},"
        f"{r[8]!r},{r[9]},{text(r[10])},{r[11] or ''},{'true' if r[12] else 'false'},"
        f"{'' if r[13] is None else r[13]},{r[14] or ''}\r\n"
        for r in _formatted(rows)
    ]
    return CSVTable(FIELDS, text="".join(lines))


# What makes the csv module quote a cell: the delimiter, the quote, a line break.
_CSV_SPECIAL = (",", '"', "\r", "\n")
