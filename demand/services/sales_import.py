"""Sales history imports: weekly units per product, from CSV or a JSON list.

Browser: `sales_import_preview` checks an uploaded file and keeps it; the user looks at
the summary and errors, then `sales_import_apply` writes it. Command and API:
`sales_import_rows` checks and writes in one go. Either way an import is all-or-nothing
(one bad row rejects the file, every error listed by line or item), re-importing the
same file is an idempotent upsert on (product, channel, week), and the same transaction asks
the planner to recompute the imported products.
"""

from __future__ import annotations

import io
import itertools
import os
import time
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from coordination.models import RecomputeRequest
from coordination.permissions import require_permission
from coordination.services.recompute import recompute_request
from coordination.weeks import current_week, iso_label, parse_week
from demand.csv_import import (
    Column,
    ParsedImport,
    RowParser,
    parse_csv,
    parse_file,
    parse_rows,
    quote,
    text_of,
)
from demand.models import Channel, SalesActual, SalesImport

PERMISSION = "demand.add_salesimport"
SAMPLE_ROWS = 20
# Rows per bulk_create call on databases without COPY (SQLite in development).
BATCH_SIZE = 5000
# Rows per COPY chunk on PostgreSQL: bounds the text buffer, not the transaction.
COPY_CHUNK = 100_000


def _parse_past_week(text: str):
    week = parse_week(text)
    if week > current_week():
        raise ValidationError(
            f"{iso_label(week)} has not started yet: sales can only be imported for past "
            "and current weeks."
        )
    return week


# The channel a row names, by its code or its label, in any case ("Retail", "online").
_CHANNEL_NAMES = {
    **{label.lower(): code for code, label in Channel.choices},
    **{code: code for code in Channel.values},
}


def _parse_channel(text: str) -> str:
    code = _CHANNEL_NAMES.get(" ".join(text.lower().split()))
    if code is None:
        raise ValidationError(
            f"Channel {quote(text)} is not one of: {', '.join(Channel.values)}.",
            code="unknown_channel",
        )
    return code


SALES_ROWS = RowParser(
    sku=Column("sku", "SKU", ("product", "product_sku", "item")),
    date=Column("week", "week", ("date", "week_start", "iso_week", "period")),
    quantity=Column("units", "units", ("quantity", "qty", "units_sold")),
    parse_date=_parse_past_week,
    format_date=iso_label,
    # Optional: a row without it (or with it blank) is not attributed to a channel.
    key=Column("channel", "channel", ("sales_channel",)),
    parse_key=_parse_channel,
    key_default=Channel.ALL.value,
)


def _check_permission(actor) -> None:
    require_permission(actor, PERMISSION, "Your role may not import sales history.")


def _clean_filename(filename: str | None, default: str) -> str:
    name = os.path.basename((filename or "").replace("\\", "/")).strip()
    return (name or default)[:200]


def _summarize(record: SalesImport, parsed: ParsedImport) -> None:
    record.row_count = parsed.row_count
    record.products_count = parsed.products_count
    record.first_week = parsed.first_date
    record.last_week = parsed.last_date
    record.errors = parsed.error_dicts()


# ------------------------------------------------------------------------- browser


def sales_import_preview(*, actor, filename: str, content, sheet: str | None = None) -> SalesImport:
    """Check an uploaded file (bytes, text or a file; CSV or .xlsx, whose first sheet or
    `sheet` is read) and keep it for `sales_import_apply`. A workbook is kept as the CSV
    text of its rows (on the same line numbers), so the apply step reads it as CSV.

    Saved as "previewed" with its summary when valid, or "rejected" with every error by
    line (the file itself is not kept then). Nothing is written to the sales history."""
    _check_permission(actor)
    data = content.read() if hasattr(content, "read") else content
    parsed = parse_file(data, SALES_ROWS, filename=filename, sheet=sheet)
    record = SalesImport(
        filename=_clean_filename(filename, "upload.csv"), source="browser", uploaded_by=actor
    )
    _summarize(record, parsed)
    if parsed.is_valid:
        record.status = SalesImport.Status.PREVIEWED
        record.content = parsed.as_csv() if parsed.sheet else text_of(data)
    else:
        record.status = SalesImport.Status.REJECTED
    record.save()
    return record


def sales_import_sample(record: SalesImport, limit: int = SAMPLE_ROWS) -> list[dict]:
    """The first rows of a previewed file, as the preview page shows them."""
    if record.status != SalesImport.Status.PREVIEWED or not record.content:
        return []
    return parse_csv(record.content, SALES_ROWS, limit=limit).sample(limit)


def sales_import_apply(*, actor, import_id: int) -> SalesImport:
    """Write a previewed file to the sales history, all-or-nothing; once only."""
    _check_permission(actor)
    started = time.monotonic()
    with transaction.atomic():
        record = SalesImport.objects.select_for_update().get(pk=import_id)
        if record.status == SalesImport.Status.APPLIED:
            raise ValidationError(
                f"{record.filename} was already imported on "
                f"{timezone.localtime(record.applied_at):%d %b %Y at %H:%M}. "
                "To import it again, upload it again.",
                code="already_applied",
            )
        if record.status != SalesImport.Status.PREVIEWED:
            raise ValidationError(
                f"{record.filename} has errors and cannot be imported; correct the file "
                "and upload it again.",
                code="rejected",
            )
        # Checked again: products may have changed since the preview.
        parsed = parse_csv(record.content, SALES_ROWS)
        if not parsed.is_valid:
            raise parsed.rejection()
        _apply(record, parsed, actor)
    _record_duration(record, started)
    return record


# ---------------------------------------------------------------------- command, API


def sales_import_rows(
    *,
    actor,
    rows,
    source: str,
    filename: str = "",
    dry_run: bool = False,
    sheet: str | None = None,
) -> SalesImport:
    """Check and import in one go: `rows` is CSV or .xlsx content (text, bytes or an open
    file; errors by line, or by sheet and row) or a list of {"sku", "week", "units"}
    objects (errors by index). A workbook is read from its first sheet, or `sheet`.

    Raises ImportRejected (a ValidationError) listing every error; the rejected import
    is recorded (its `record`) unless `dry_run`. With `dry_run`, a valid input returns
    an unsaved "previewed" SalesImport with the summary and nothing is written."""
    _check_permission(actor)
    started = time.monotonic()
    parsed = parse_rows(rows, SALES_ROWS, filename=filename, sheet=sheet)
    record = SalesImport(
        filename=_clean_filename(filename, f"{source} import"),
        source=source[:16],
        uploaded_by=actor,
    )
    _summarize(record, parsed)
    if not parsed.is_valid:
        record.status = SalesImport.Status.REJECTED
        if not dry_run:
            record.save()
        rejection = parsed.rejection()
        rejection.record = record
        raise rejection
    record.status = SalesImport.Status.PREVIEWED
    if dry_run:
        return record
    with transaction.atomic():
        _apply(record, parsed, actor)
    _record_duration(record, started)
    return record


def _record_duration(record: SalesImport, started: float) -> None:
    """Seconds from the start to after the commit (which can take a while for 1M rows)."""
    record.seconds = round(time.monotonic() - started, 3)
    SalesImport.objects.filter(pk=record.pk).update(seconds=record.seconds)


def _apply(record: SalesImport, parsed: ParsedImport, actor) -> None:
    """Inside the caller's transaction: upsert, ask for a recompute, mark applied."""
    try:
        created, updated = upsert_quantities(
            SalesActual,
            date_field="week",
            quantity_field="units",
            key_field="channel",
            records=parsed.records(),
        )
    except IntegrityError as exc:
        # Only a concurrent change (e.g. a product deleted mid-import) can get here.
        raise ValidationError(
            "The sales history changed while importing; nothing was imported. Try again.",
            code="conflict",
        ) from exc
    recompute_request(
        product_ids=parsed.product_ids.values(),
        source=RecomputeRequest.Source.SALES_IMPORT,
        reason=f"Sales import {record.filename}: {parsed.row_count:,} rows",
        actor=actor,
        subject=record,  # so the import's page can show the recompute's progress
    )
    record.status = SalesImport.Status.APPLIED
    record.created_count = created
    record.updated_count = updated
    record.applied_at = timezone.now()
    record.content = ""  # kept only until applied
    record.save()


# ---------------------------------------------------------------------- write path


@dataclass
class _CopyText:
    """The records as COPY text (product_id, date, quantity[, key] per line), in chunks,
    and what they cover: the products and the first and last date."""

    chunks: list[str]
    rows: int
    product_ids: set[int]
    first: object = None
    last: object = None


def _copy_text(records: Iterator[tuple], size: int, *, keyed: bool = False) -> _CopyText:
    # The whole text (about 25 MB per million rows) is built before the table is locked,
    # so the lock is held only for the database's work.
    date_text: dict = {}
    text = _CopyText(chunks=[], rows=0, product_ids=set())
    add_product = text.product_ids.add
    while True:
        lines = []
        if keyed:
            # Keys are validated codes (a sales channel): nothing COPY would escape.
            for product_id, day, quantity, key in itertools.islice(records, size):
                add_product(product_id)
                day_text = date_text.get(day)
                if day_text is None:
                    day_text = date_text[day] = day.isoformat()
                lines.append(f"{product_id}\t{day_text}\t{quantity}\t{key}\n")
        else:
            for product_id, day, quantity in itertools.islice(records, size):
                add_product(product_id)
                day_text = date_text.get(day)
                if day_text is None:
                    day_text = date_text[day] = day.isoformat()
                lines.append(f"{product_id}\t{day_text}\t{quantity}\n")
        if not lines:
            break
        text.rows += len(lines)
        text.chunks.append("".join(lines))
    if date_text:
        text.first, text.last = min(date_text), max(date_text)
    return text


def _lock_key(table: str) -> int:
    """The advisory lock that serializes bulk writes to `table` (a signed 32-bit key)."""
    return zlib.crc32(f"tandem bulk import {table}".encode()) - 2**31


def _check_key(model, date_field: str, key_field: str | None) -> None:
    """The fields the rows are matched on must be one of the model's unique keys: an
    unkeyed write into a table keyed by channel too would update every channel's row."""
    key = {"product", date_field, *([key_field] if key_field else [])}
    unique = [
        set(constraint.fields)
        for constraint in model._meta.constraints
        if isinstance(constraint, models.UniqueConstraint)
    ]
    if key not in unique:
        raise ValueError(f"{model.__name__} rows are not unique on {sorted(key)}")


def upsert_quantities(
    model: type[models.Model],
    *,
    date_field: str,
    quantity_field: str,
    records: Iterable[tuple],
    key_field: str | None = None,
) -> tuple[int, int]:
    """Insert or update `model` rows unique on (product, date_field), or on (product,
    key_field, date_field) with a key field (a sales row's channel), setting
    quantity_field and updated_at; returns (created, updated). Runs in the caller's
    transaction; `records` are (product_id, date, quantity), or (product_id, date,
    quantity, key) with a key field, each key at most once.

    PostgreSQL, near the speed of a bare COPY into the table:
    - A transaction-scoped advisory lock per table serializes bulk imports into it, so
      two imports of the same weeks never race: the second waits for the first to commit
      and then updates what the first created. (Anything else inserting the same key
      meanwhile makes this fail with IntegrityError, and the caller rolls back.)
    - If no row of the table has one of the imported products in the imported date range
      (one index probe per product), every record is new: COPY straight into the table.
    - Otherwise COPY into a temporary table, then one UPDATE ... FROM it for the keys
      that exist and one INSERT ... WHERE NOT EXISTS for the rest.
    Elsewhere (SQLite): bulk_create with update_conflicts in batches; inserts = the
    table's growth (SQLite locks the whole database for the transaction, so nothing
    else can change the count meanwhile)."""
    _check_key(model, date_field, key_field)
    records = iter(records)
    now = timezone.now()
    if connection.vendor == "postgresql":
        text = _copy_text(records, COPY_CHUNK, keyed=key_field is not None)
        return _upsert_postgresql(model, date_field, quantity_field, key_field, text, now)

    before = model.objects.count()
    total = 0
    while batch := list(itertools.islice(records, BATCH_SIZE)):
        model.objects.bulk_create(
            [
                model(
                    product_id=record[0],
                    **{date_field: record[1], quantity_field: record[2]},
                    **({key_field: record[3]} if key_field else {}),
                )
                for record in batch
            ],
            update_conflicts=True,
            unique_fields=["product", *([key_field] if key_field else []), date_field],
            update_fields=[quantity_field, "updated_at"],
        )
        total += len(batch)
    created = model.objects.count() - before
    return created, total - created


def _upsert_postgresql(
    model, date_field: str, quantity_field: str, key_field: str | None, text: _CopyText, now
):
    if not text.rows:
        return 0, 0
    quote = connection.ops.quote_name
    meta = model._meta
    table = quote(meta.db_table)
    product = quote(meta.get_field("product").column)
    date = quote(meta.get_field(date_field).column)
    quantity = quote(meta.get_field(quantity_field).column)
    updated_at = quote(meta.get_field("updated_at").column)
    staging = quote(f"import_{meta.db_table}")
    # With a key field: one more column in the COPY, the staging table and the match.
    key = quote(meta.get_field(key_field).column) if key_field else ""
    key_column = f", {key}" if key_field else ""
    staged_key = ", s.key" if key_field else ""
    key_match = f" AND t.{key} = s.key" if key_field else ""
    # Identifiers come from model metadata; values are parameters or COPY data.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_lock_key(meta.db_table)])
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {table} WHERE {product} = ANY(%s)"  # noqa: S608
            f" AND {date} BETWEEN %s AND %s)",
            [sorted(text.product_ids), text.first, text.last],
        )
        if not cursor.fetchone()[0]:
            # All new: COPY straight into the table, as a bare load would.
            _copy_into(
                cursor,
                f"COPY {table} ({product}, {date}, {quantity}{key_column}, {updated_at})"
                " FROM STDIN",
                text,
                suffix=f"\t{now.isoformat()}",
            )
            return text.rows, 0
        cursor.execute(f"DROP TABLE IF EXISTS {staging}")
        staged_key_type = ", key text" if key_field else ""
        cursor.execute(
            f"CREATE TEMPORARY TABLE {staging} "
            f"(product_id bigint, day date, quantity integer{staged_key_type}) ON COMMIT DROP"
        )
        _copy_into(
            cursor,
            f"COPY {staging} (product_id, day, quantity{', key' if key_field else ''}) FROM STDIN",
            text,
        )
        cursor.execute(f"ANALYZE {staging}")
        cursor.execute(
            f"UPDATE {table} AS t SET {quantity} = s.quantity, {updated_at} = %s"  # noqa: S608
            f" FROM {staging} AS s WHERE t.{product} = s.product_id AND t.{date} = s.day"
            f"{key_match}",
            [now],
        )
        updated = cursor.rowcount
        cursor.execute(
            f"INSERT INTO {table} ({product}, {date}, {quantity}{key_column}, {updated_at})"  # noqa: S608
            f" SELECT s.product_id, s.day, s.quantity{staged_key}, %s FROM {staging} AS s"
            f" WHERE NOT EXISTS (SELECT 1 FROM {table} AS t"
            f" WHERE t.{product} = s.product_id AND t.{date} = s.day{key_match})",
            [now],
        )
        created = cursor.rowcount
        cursor.execute(f"DROP TABLE {staging}")
    return created, updated


def _copy_into(cursor, sql: str, text: _CopyText, suffix: str = "") -> None:
    for chunk in text.chunks:
        if suffix:
            chunk = chunk.replace("\n", suffix + "\n")
        cursor.copy_expert(sql, io.StringIO(chunk))


# ------------------------------------------------------------------------- reads


def sales_actuals(
    *, sku: str = "", start=None, end=None, channel: str = ""
) -> models.QuerySet[SalesActual]:
    """Sales rows ordered by product SKU, week and channel, optionally for one SKU, a
    week range and one channel."""
    actuals = SalesActual.objects.select_related("product").order_by(
        "product__sku", "week", "channel"
    )
    if channel:
        actuals = actuals.filter(channel=channel)
    if sku:
        actuals = actuals.filter(product__sku=sku.strip().upper())
    if start:
        actuals = actuals.filter(week__gte=start)
    if end:
        actuals = actuals.filter(week__lte=end)
    return actuals
