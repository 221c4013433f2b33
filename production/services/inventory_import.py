"""Inventory counts: units on hand per product as of a date, imported from CSV (browser,
command) or a JSON list (API).

Checked and written in one step, all-or-nothing: one bad row rejects the whole input
with every error listed by line (or item), and nothing is saved. A product counted
again on the same date replaces the earlier count, so re-importing a file changes
nothing. The same transaction asks the planner to recompute the counted products.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from coordination.input_limits import check_date
from coordination.models import Product, RecomputeRequest
from coordination.permissions import require_permission
from coordination.services.recompute import recompute_request
from demand.csv_import import Column, RowParser, parse_rows
from demand.services.sales_import import upsert_quantities
from production.models import InventoryPosition

PERMISSION = "production.add_inventoryposition"


def _parse_count_date(text: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError as exc:
        raise ValidationError(f"Enter a date as 2026-11-23; got {text!r}.") from exc
    check_date(day)
    if day > timezone.localdate():
        raise ValidationError(
            f"{day.isoformat()} is in the future: enter the date the stock was counted."
        )
    return day


INVENTORY_ROWS = RowParser(
    sku=Column("sku", "SKU", ("product", "product_sku", "item")),
    date=Column("as_of", "date of the count", ("date", "counted_on", "count_date")),
    quantity=Column("on_hand", "units on hand", ("quantity", "qty", "units", "stock")),
    parse_date=_parse_count_date,
)


@dataclass(frozen=True)
class InventoryImportResult:
    filename: str
    rows: int
    products: int
    first_date: dt.date | None
    last_date: dt.date | None
    created: int = 0
    updated: int = 0
    seconds: float = 0.0
    dry_run: bool = False


def inventory_import(
    *,
    actor,
    rows,
    source: str,
    filename: str = "",
    dry_run: bool = False,
    sheet: str | None = None,
) -> InventoryImportResult:
    """Check and import counts: `rows` is CSV or .xlsx content (text, bytes or an open
    file; errors by line, or by sheet and row) or a list of {"sku", "as_of", "on_hand"}
    objects (errors by index). A workbook is read from its first sheet, or `sheet`.

    Raises ImportRejected (a ValidationError) listing every error; nothing is saved.
    With `dry_run`, a valid input is only checked."""
    require_permission(actor, PERMISSION, "Your role may not import inventory counts.")
    started = time.monotonic()
    filename = (filename or f"{source} import")[:200]
    parsed = parse_rows(rows, INVENTORY_ROWS, filename=filename, sheet=sheet)
    if not parsed.is_valid:
        raise parsed.rejection()
    summary = {
        "filename": filename,
        "rows": parsed.row_count,
        "products": parsed.products_count,
        "first_date": parsed.first_date,
        "last_date": parsed.last_date,
    }
    if dry_run:
        return InventoryImportResult(**summary, dry_run=True)
    with transaction.atomic():
        try:
            created, updated = upsert_quantities(
                InventoryPosition,
                date_field="as_of",
                quantity_field="on_hand",
                records=parsed.records(),
            )
        except IntegrityError as exc:
            raise ValidationError(
                "The inventory changed while importing; nothing was imported. Try again.",
                code="conflict",
            ) from exc
        recompute_request(
            product_ids=parsed.product_ids.values(),
            source=RecomputeRequest.Source.INVENTORY,
            reason=f"Inventory import {filename}: {parsed.row_count:,} rows",
            actor=actor,
        )
    seconds = round(time.monotonic() - started, 3)  # after the commit
    return InventoryImportResult(**summary, created=created, updated=updated, seconds=seconds)


# ------------------------------------------------------------------------- reads


def latest_positions(*, search: str = "") -> QuerySet[Product]:
    """Every product by SKU with its latest count (`on_hand`, `counted_on`; None if never
    counted). `search` matches the SKU or the name."""
    latest = InventoryPosition.objects.filter(product=OuterRef("pk")).order_by("-as_of")
    products = Product.objects.annotate(
        on_hand=Subquery(latest.values("on_hand")[:1]),
        counted_on=Subquery(latest.values("as_of")[:1]),
    ).order_by("sku")
    search = search.strip()
    if search:
        products = products.filter(Q(sku__icontains=search) | Q(name__icontains=search))
    return products


def inventory_positions(
    *, sku: str = "", start: dt.date | None = None, end: dt.date | None = None
) -> QuerySet[InventoryPosition]:
    """Counts ordered by product SKU then date, optionally for one SKU and a date range."""
    positions = InventoryPosition.objects.select_related("product").order_by(
        "product__sku", "as_of"
    )
    if sku:
        positions = positions.filter(product__sku=sku.strip().upper())
    if start:
        positions = positions.filter(as_of__gte=start)
    if end:
        positions = positions.filter(as_of__lte=end)
    return positions
