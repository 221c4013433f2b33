"""Budget writes: the grid's save (optimistic locking per cell) and the CSV import
(all-or-nothing). Both are atomic; a refused save or file writes nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from coordination.errors import StaleEditError
from coordination.models import ProductLine
from planning.budget_input import parse_budget_file
from planning.models import BUDGET_CEILING, Budget

EDIT_BUDGETS = "planning.change_budget"
GRID_OUT_OF_DATE = (
    "A product line of these budgets no longer exists; nothing was saved. "
    "Reload the page and try again."
)
IMPORT_BUDGETS = "planning.add_budget"


@dataclass(frozen=True)
class BudgetCell:
    """One cell of the grid as saved: both figures, or neither (no budget), and the
    version the person saw (0: there was no budget when the grid was loaded)."""

    product_line_id: int
    month: dt.date
    revenue: Decimal | None
    units: int | None
    seen_version: int


class BudgetConflict(StaleEditError):
    """Cells someone else saved since the grid was loaded; nothing was saved. `current`
    maps each (product line id, month) to the budget now stored, or None if removed."""

    def __init__(self, current: dict[tuple[int, dt.date], Budget | None]):
        self.current = current
        super().__init__(
            message=f"{len(current)} budget cell{'s' if len(current) != 1 else ''} changed "
            "while you were editing; nothing was saved. Their current values are shown: "
            "check them and save again."
        )


@dataclass(frozen=True)
class BudgetSaved:
    created: int
    updated: int
    removed: int


def _same(budget: Budget | None, cell: BudgetCell) -> bool:
    if budget is None:
        return cell.revenue is None
    return budget.revenue == cell.revenue and budget.units == cell.units


def _lock_product_lines(ids: set[int]) -> None:
    """Lock the product lines budgets are written for (in one order: no deadlock), so none
    is deleted before the save commits (PostgreSQL checks foreign keys only at commit)."""
    found = ProductLine.objects.filter(pk__in=ids).order_by("pk").select_for_update()
    if len(found.values_list("pk", flat=True)) != len(ids):
        raise ValidationError(GRID_OUT_OF_DATE)


def _check_cell(cell: BudgetCell) -> None:
    """What the database would refuse, refused as a message (callers check first)."""
    if (cell.revenue is None) != (cell.units is None):
        raise ValidationError("A budget has both revenue and units, or neither.")
    if cell.month.day != 1:
        raise ValidationError("A budget's month is given by its first day.")
    for value in (cell.revenue, cell.units):
        if value is not None and not 0 <= value <= BUDGET_CEILING:
            raise ValidationError(f"Budget figures are from 0 to {BUDGET_CEILING:,}; got {value}.")


def budget_grid_save(*, actor, cells: list[BudgetCell]) -> BudgetSaved:
    """Save the grid's cells that differ from what is stored. A changed cell whose stored
    version is not the one the person saw is a conflict: BudgetConflict names every such
    cell with its current value, and nothing is saved."""
    if not actor.has_perm(EDIT_BUDGETS):
        raise PermissionDenied
    for cell in cells:
        _check_cell(cell)
    keys = {(c.product_line_id, c.month) for c in cells}
    line_ids = {pl for pl, _ in keys}
    with transaction.atomic():
        _lock_product_lines(line_ids)
        stored = {
            (b.product_line_id, b.month): b
            for b in Budget.objects.select_for_update().filter(
                product_line_id__in={pl for pl, _ in keys}, month__in={m for _, m in keys}
            )
        }
        changed = [c for c in cells if not _same(stored.get((c.product_line_id, c.month)), c)]
        conflicts = {}
        for cell in changed:
            budget = stored.get((cell.product_line_id, cell.month))
            if (budget.version if budget else 0) != cell.seen_version:
                conflicts[(cell.product_line_id, cell.month)] = budget
        if conflicts:
            raise BudgetConflict(conflicts)
        created = updated = removed = 0
        try:
            with transaction.atomic():  # a row another save created meanwhile: a conflict
                for cell in changed:
                    budget = stored.get((cell.product_line_id, cell.month))
                    if cell.revenue is None:
                        budget.delete()
                        removed += 1
                    elif budget is None:
                        Budget.objects.create(
                            product_line_id=cell.product_line_id,
                            month=cell.month,
                            revenue=cell.revenue,
                            units=cell.units,
                            updated_by=actor,
                        )
                        created += 1
                    else:
                        budget.revenue, budget.units = cell.revenue, cell.units
                        budget.updated_by = actor
                        budget.version += 1
                        budget.save(
                            update_fields=[
                                "revenue",
                                "units",
                                "updated_by",
                                "version",
                                "updated_at",
                            ]
                        )
                        updated += 1
        except IntegrityError:
            current = {
                (b.product_line_id, b.month): b
                for b in Budget.objects.filter(
                    product_line_id__in={c.product_line_id for c in changed},
                    month__in={c.month for c in changed},
                ).select_related("updated_by")
            }
            created_meanwhile = {
                (c.product_line_id, c.month): current[(c.product_line_id, c.month)]
                for c in changed
                if (c.product_line_id, c.month) in current and c.seen_version == 0
            }
            if not created_meanwhile:  # e.g. a product line deleted since the grid loaded
                raise ValidationError(GRID_OUT_OF_DATE) from None
            raise BudgetConflict(created_meanwhile) from None
    return BudgetSaved(created=created, updated=updated, removed=removed)


@dataclass(frozen=True)
class BudgetImported:
    filename: str
    dry_run: bool
    rows: int
    created: int
    updated: int
    first_month: dt.date
    last_month: dt.date


def budget_import(
    *, actor, rows, filename: str = "", dry_run: bool = False, sheet: str | None = None
) -> BudgetImported:
    """Import a budget file, CSV or .xlsx (its first sheet, or `sheet`), with columns
    product_line, month, revenue, units. Every row is
    checked first: any error raises ImportRejected listing them all, and nothing is saved.
    A row replaces the stored budget of its product line and month (its version moves on,
    so a grid loaded before the import cannot overwrite it unnoticed). `dry_run` checks
    the file and counts what it would change, saving nothing."""
    if not actor.has_perm(IMPORT_BUDGETS):
        raise PermissionDenied
    parsed = parse_budget_file(rows, filename=filename, sheet=sheet)
    if not parsed.is_valid:
        raise parsed.rejection()
    wanted = {(r.product_line_id, r.month): r for r in parsed.rows}
    created = updated = 0
    with transaction.atomic():
        _lock_product_lines({pl for pl, _ in wanted})
        stored = {
            (b.product_line_id, b.month): b
            for b in Budget.objects.select_for_update().filter(
                product_line_id__in={pl for pl, _ in wanted}, month__in={m for _, m in wanted}
            )
        }
        new = []
        for key, row in wanted.items():
            budget = stored.get(key)
            if budget is None:
                new.append(
                    Budget(
                        product_line_id=row.product_line_id,
                        month=row.month,
                        revenue=row.revenue,
                        units=row.units,
                        updated_by=actor,
                    )
                )
            elif budget.revenue != row.revenue or budget.units != row.units:
                updated += 1
                if dry_run:
                    continue
                Budget.objects.filter(pk=budget.pk).update(
                    revenue=row.revenue,
                    units=row.units,
                    updated_by=actor,
                    version=F("version") + 1,
                    updated_at=timezone.now(),
                )
        try:
            with transaction.atomic():
                Budget.objects.bulk_create([] if dry_run else new)
        except IntegrityError:
            raise ValidationError(
                "Another save added budgets for these months while the file was read; "
                "nothing was imported. Import the file again."
            ) from None
        created = len(new)
    months = [r.month for r in parsed.rows]
    return BudgetImported(
        filename=filename,
        dry_run=dry_run,
        rows=len(parsed.rows),
        created=created,
        updated=updated,
        first_month=min(months),
        last_month=max(months),
    )
