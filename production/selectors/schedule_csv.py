"""A schedule page's CSV written by PostgreSQL itself (`COPY (SELECT ...) TO STDOUT`).

A bulk CSV pull spent most of its time turning rows into Python tuples and then into
text (bench/schedule_pull_speed.py). On PostgreSQL the page's rows are instead formatted
in SQL exactly as production/api/schedule_rows.csv_table formats them and streamed out
by COPY as CSV bytes, which go to the client as they are:

- text a spreadsheet would run as a formula (a cell starting with = + - @, a tab or a
  carriage return that Python's `float()` does not read as a number) gets a leading
  apostrophe, as production.renderers.csv_cell does; an empty text is an empty cell;
- floats as Python's `repr` (`1200.0`, `1e+16`, `inf`), weeks as `2026-W50` and their
  Monday, timestamps as DRF writes them in UTC (`...T09:14:03Z`, microseconds when
  there are any), `superseded` as true/false, nulls empty;
- quoted as the csv module quotes (PostgreSQL quotes the same cells: a comma, a quote,
  a line break), lines ended by "\r\n" (COPY writes "\n": replaced afterwards, which
  is exact because no cell COPY writes holds a "\n", see below).

Where the two could differ COPY writes a marker instead (U+FFFF, which nobody types) and
a page whose bytes hold it is formatted by csv_table: text with a "\n" (COPY's line ends
could not be told from it), text that starts like a formula and holds a non-ASCII
character (Python's float() reads Unicode digits and spaces, the SQL test here ASCII
only), and text holding the marker itself. Another time zone than UTC and every other
database also go through csv_table. tests/production/test_schedule_csv_copy.py renders
pages both ways and compares the bytes.
"""

from __future__ import annotations

import io

from django.db import connection
from django.db.models import F, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from production.selectors.schedule import SCHEDULE_ROW_COLUMNS

# Written where COPY would not write what csv_table writes (see the module docstring).
MARKER = "\uffff"
_NOT_ASCII = r"[^\x01-\x7f]"

# What Python's float() reads as a number, ASCII only: surrounding whitespace (what
# str.isspace() says of ASCII), a sign, digits with single underscores between them,
# a fraction, an exponent; or inf, infinity, nan in any case.
_SPACE = r"[ \t\n\v\f\r\x1c-\x1f]"
_DIGITS = r"[0-9](_?[0-9])*"
_FLOAT_PATTERN = (
    rf"^{_SPACE}*[-+]?(({_DIGITS}(\.({_DIGITS})?)?|\.{_DIGITS})([eE][-+]?{_DIGITS})?"
    r"|[iI][nN][fF]([iI][nN][iI][tT][yY])?|[nN][aA][nN])"
    rf"{_SPACE}*$"
)


def copy_available() -> bool:
    """Whether pages can be written by COPY here (PostgreSQL, timestamps in UTC)."""
    return connection.vendor == "postgresql" and timezone.get_current_timezone_name() == "UTC"


# csv_cell in SQL, with its parameters. ascii() of the first character comes first: the
# patterns run only on text that starts like a formula.
_TEXT = (
    "CASE WHEN ascii({c}) IN (61, 43, 45, 64, 9, 13) THEN CASE WHEN {c} ~ %s THEN %s "
    "WHEN {c} !~ %s THEN '''' || replace({c}, E'\\n', %s) ELSE replace({c}, E'\\n', %s) "
    "END ELSE NULLIF(replace({c}, E'\\n', %s), '') END"
)
_TEXT_PARAMS = (_NOT_ASCII, MARKER, _FLOAT_PATTERN, MARKER, MARKER, MARKER)


def _text(column: str) -> str:
    return _TEXT.format(c=column)


def _float(column: str, text: str) -> str:
    """float8 `column` (`text`: its ::text) -> Python's repr. PostgreSQL writes the same
    shortest digits but switches to an exponent from 1e15 (Python from 1e16), leaves
    out ".0" and spells the specials its own way."""
    digits = f"replace(ltrim(split_part({text}, 'e', 1), '-'), '.', '')"
    return (
        f"CASE WHEN strpos({text}, 'e') = 0 THEN CASE WHEN strpos({text}, '.') > 0 "
        f"THEN {text} WHEN {column} = 'Infinity' THEN 'inf' "
        f"WHEN {column} = '-Infinity' THEN '-inf' WHEN {column} = 'NaN' THEN 'nan' "
        f"ELSE {text} || '.0' END "
        f"WHEN {text} LIKE '%%e+15' THEN "
        f"CASE WHEN {column} < 0 THEN '-' ELSE '' END || rpad({digits}, 16, '0') || '.' "
        f"|| COALESCE(NULLIF(substr({digits}, 17), ''), '0') "
        f"ELSE {text} END"
    )


def _time(column: str) -> str:
    """As DRF writes a UTC time: microseconds only when there are any, then "Z"."""
    return (
        f"replace(to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US') "
        f"|| 'Z', '.000000Z', 'Z')"
    )


# The output columns in production.api.schedule_rows.FIELDS order, from the inner
# query's c0..c12 (SCHEDULE_ROW_COLUMNS order) and c13 (c7 as text). A date's text is
# ISO: psycopg2 needs the server's DateStyle to be ISO anyway.
_SELECT = ", ".join(
    (
        "r.c0",
        _text("r.c1"),
        _text("r.c2"),
        "to_char(r.c3, 'IYYY-\"W\"IW')",
        "r.c3::text",
        "r.c4",
        _text("r.c5"),
        _text("r.c6"),
        _float("r.c7", "r.c13"),
        "r.c8",
        _text("r.c9"),
        _time("r.c10"),
        "CASE WHEN r.c12 IS NULL THEN 'false' ELSE 'true' END",
        "r.c11",
        _time("r.c12"),
    )
)


def _annotated(rows: QuerySet) -> QuerySet:
    """schedule_rows as c0..c12 (SCHEDULE_ROW_COLUMNS) and c13 (c7 as text), the names
    _SELECT reads."""
    columns = {f"c{k}": F(column) for k, column in enumerate(SCHEDULE_ROW_COLUMNS)}
    columns["c13"] = Cast("recommended_units", TextField())
    return rows.annotate(**columns).values_list(*columns)


def _copy(query: QuerySet, *, descending: bool = False) -> list[bytes] | None:
    inner, params = query.query.sql_with_params()
    order = "DESC" if descending else "ASC"
    # Only constant SQL of this module around Django's own query; values are bound.
    sql = f"SELECT {_SELECT} FROM ({inner}) AS r ORDER BY r.c0 {order}"  # noqa: S608
    out = io.BytesIO()
    with connection.cursor() as cursor:
        query = cursor.mogrify(sql, (*_TEXT_PARAMS * 5, *params))
        cursor.copy_expert(f"COPY ({query.decode()}) TO STDOUT WITH (FORMAT csv)", out)
    body = out.getvalue()
    if MARKER.encode() in body:
        return None
    # No cell holds a "\n" (the marker would): each one ends a row.
    return body.split(b"\n")[:-1]


def copy_lines(rows: QuerySet) -> list[bytes] | None:
    """The CSV line of each row of `rows` (selectors.schedule.schedule_rows, filtered as
    wanted) by id, without its line end: byte for byte what csv_table writes before
    its "\r\n". None where a cell is one COPY does not write alike."""
    return _copy(_annotated(rows))


class CopiedRows:
    """schedule_rows for the cursor pagination: ordered, filtered and sliced as a query
    set, the slice read by one COPY. The slice is a list of CSV lines (bytes, without
    the line end) or, where COPY would not write the page as csv_table does, of the rows
    (tuples in SCHEDULE_ROW_COLUMNS order) for csv_table to format."""

    def __init__(self, rows: QuerySet, *, descending: bool = False):
        self.rows = rows
        self.descending = descending

    def order_by(self, *ordering: str) -> CopiedRows:
        return CopiedRows(self.rows.order_by(*ordering), descending=ordering[0].startswith("-"))

    def filter(self, **lookups) -> CopiedRows:
        return CopiedRows(self.rows.filter(**lookups), descending=self.descending)

    def __getitem__(self, window: slice) -> list:
        query = _annotated(self.rows)[window]
        lines = _copy(query, descending=self.descending)
        if lines is None:
            return [row[: len(SCHEDULE_ROW_COLUMNS)] for row in query]
        return lines
