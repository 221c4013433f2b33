"""Writing many rows at once: PostgreSQL's COPY where it runs, bulk_create elsewhere.

For writes on the hot path of a recompute (thousands of rows per line): building model
instances and compiling a multi-row INSERT costs several times more than streaming the
same values through COPY (measured in bench/promotion_to_plan_latency.py)."""

from __future__ import annotations

import datetime as dt
import io
import itertools
from collections.abc import Iterable, Sequence

from django.db import connection, models

COPY_CHUNK = 20_000
# Characters COPY's text format escapes with a backslash.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _escaped(value: str) -> str:
    return value.translate(_COPY_ESCAPES)


# One formatter per exact type, looked up once per value: a recompute formats hundreds of
# thousands of values, and a chain of isinstance checks cost more than the COPY itself.
_FORMATS = {
    float: float.__repr__,
    int: int.__str__,
    bool: lambda value: "t" if value else "f",
    str: _escaped,
    type(None): lambda value: "\\N",
    dt.date: dt.date.isoformat,
    dt.datetime: dt.datetime.isoformat,
}


def _copy_text(value) -> str:
    """One value in COPY's text format."""
    format_ = _FORMATS.get(type(value))
    if format_ is not None:
        return format_(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return _escaped(str(value))


# A column whose values are all of one of these types is formatted by one C-level map
# (no Python call per value); the text is what _copy_text writes for each value.
_COLUMN_FORMATS = {
    bool: {True: "t", False: "f"}.__getitem__,
    float: float.__repr__,
    int: int.__str__,
    dt.date: dt.date.isoformat,
    dt.datetime: dt.datetime.isoformat,
}


def _column_text(column: Sequence) -> Iterable[str]:
    """Every value of one column in COPY's text format, as _copy_text writes it."""
    types = set(map(type, column))
    if len(types) == 1:
        (kind,) = types
        format_ = _COLUMN_FORMATS.get(kind)
        if format_ is not None:
            return map(format_, column)
        if kind is str:
            return map(str.translate, column, itertools.repeat(_COPY_ESCAPES))
    return map(_copy_text, column)


def insert_rows(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Insert `rows` (tuples of values for `fields`, model field names; foreign keys by
    their attname, e.g. "product_id") in the caller's transaction. Nothing is validated
    here beyond what the database enforces. Returns the number of rows written."""
    rows = iter(rows)
    if connection.vendor == "postgresql":
        written = 0
        with connection.cursor() as cursor:
            while chunk := list(itertools.islice(rows, COPY_CHUNK)):
                _copy(cursor, model, fields, list(zip(*chunk, strict=True)))
                written += len(chunk)
        return written
    written = 0
    while chunk := list(itertools.islice(rows, COPY_CHUNK)):
        model.objects.bulk_create([model(**dict(zip(fields, row, strict=True))) for row in chunk])
        written += len(chunk)
    return written


def insert_columns(
    model: type[models.Model], fields: Sequence[str], columns: Sequence[Sequence]
) -> int:
    """insert_rows for rows held as columns: columns[j][r] is row r's value of fields[j],
    every column as long as the others. The same rows as insert_rows(model, fields,
    zip(*columns)) without building a tuple per row (a recompute writes 52,000 rows of 28
    values a night at 2,000 products, each built from per-column lists)."""
    if len(columns) != len(fields):
        raise ValueError(f"{len(fields)} fields but {len(columns)} columns")
    lengths = {len(column) for column in columns}
    if len(lengths) > 1:
        raise ValueError(f"columns of different lengths: {sorted(lengths)}")
    count = lengths.pop() if lengths else 0
    if connection.vendor != "postgresql":
        return insert_rows(model, fields, zip(*columns, strict=True))
    with connection.cursor() as cursor:
        for start in range(0, count, COPY_CHUNK):
            chunk = [column[start : start + COPY_CHUNK] for column in columns]
            _copy(cursor, model, fields, chunk)
    return count


def _copy(cursor, model: type[models.Model], fields: Sequence[str], columns: list) -> None:
    """COPY one chunk of rows, given as columns, into the model's table."""
    meta = model._meta
    quote = connection.ops.quote_name
    names = ", ".join(quote(meta.get_field(name).column) for name in fields)
    cells = zip(*map(_column_text, columns), strict=True)
    text = "\n".join(map("\t".join, cells)) + "\n"
    cursor.copy_expert(f"COPY {quote(meta.db_table)} ({names}) FROM STDIN", io.StringIO(text))
