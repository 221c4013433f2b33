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


def _copy_text(value) -> str:
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return str(value).translate(_COPY_ESCAPES)


def insert_rows(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Insert `rows` (tuples of values for `fields`, model field names; foreign keys by
    their attname, e.g. "product_id") in the caller's transaction. Nothing is validated
    here beyond what the database enforces. Returns the number of rows written."""
    rows = iter(rows)
    if connection.vendor == "postgresql":
        meta = model._meta
        quote = connection.ops.quote_name
        columns = ", ".join(quote(meta.get_field(name).column) for name in fields)
        written = 0
        with connection.cursor() as cursor:
            while chunk := list(itertools.islice(rows, COPY_CHUNK)):
                text = "".join("\t".join(map(_copy_text, row)) + "\n" for row in chunk)
                cursor.copy_expert(
                    f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN", io.StringIO(text)
                )
                written += len(chunk)
        return written
    written = 0
    while chunk := list(itertools.islice(rows, COPY_CHUNK)):
        model.objects.bulk_create([model(**dict(zip(fields, row, strict=True))) for row in chunk])
        written += len(chunk)
    return written
