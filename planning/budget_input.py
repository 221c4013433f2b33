"""How a budget figure typed in the grid or read from a CSV file is understood, and the
budget CSV reader (columns product_line, month, revenue, units).

The grid and the file share one reading of a figure, so the same text gets the same
message in both: revenue is a number of the currency with at most two decimals
(thousands separated by commas allowed: 125,000.50), units a whole number; neither may be
negative or above BUDGET_CEILING (a typing slip, not a budget).

The file follows the sales import's rules (demand/csv_import.py, whose reading helpers it
uses): a header line naming the columns (any case, aliases accepted), comma, semicolon or
tab, UTF-8; every row is checked and every error kept as (line, column, message), a
(product line, month) pair once per file; one bad row rejects the file (ImportRejected).
Nothing here writes: planning.services.budgets does, all-or-nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError

from coordination import boundary
from coordination.input_limits import check_date
from coordination.models import ProductLine
from demand.csv_import import (
    MAX_ERRORS,
    Column,
    ImportRejected,
    RowError,
    TableWalk,
    csv_table,
    open_table,
    quote,
)
from demand.xlsx import Table
from planning.models import BUDGET_CEILING

_NUMBER = re.compile(r"^-?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?$")
CENT_PLACES = 2


def parse_revenue(raw: str, label: str = "revenue") -> Decimal | str:
    """The revenue as a Decimal, or the message saying what is wrong with it."""
    value = _number(raw, label)
    if isinstance(value, str):
        return value
    if -value.as_tuple().exponent > CENT_PLACES:
        return f"The {label} has at most two decimals (cents); got {raw.strip()}."
    return value


def parse_units(raw: str, label: str = "units") -> int | str:
    """The units as an int, or the message saying what is wrong with them."""
    value = _number(raw, label)
    if isinstance(value, str):
        return value
    if value != value.to_integral_value():
        return f"The {label} must be a whole number; got {raw.strip()}."
    return int(value)


def _number(raw: str, label: str) -> Decimal | str:
    text = (raw or "").strip()
    if not text:
        return f"Enter the {label}."
    if not _NUMBER.match(text):
        example = "125000.00" if label == "revenue" else "50000"
        return f"The {label} must be a number, e.g. {example}; got {quote(text)}."
    value = Decimal(text.replace(",", ""))
    if value < 0:
        return f"The {label} cannot be negative; got {text}."
    if value > BUDGET_CEILING:
        unit = f" {settings.CURRENCY}" if label == "revenue" else ""
        return f"The {label} must be at most {BUDGET_CEILING:,}{unit}; got {text}."
    return value + 0  # drops a "-0"'s sign


def parse_month(raw: str) -> dt.date | str:
    """A month written YYYY-MM, as its first day, or the message saying what is wrong."""
    text = (raw or "").strip()
    if not text:
        return "Enter the month."
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-01", text):
        text = text[:7]  # the month's first day: how a workbook's date cell reads
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}", text):
        return f"Write the month as YYYY-MM, e.g. 2027-01; got {quote(text)}."
    try:
        month = dt.date.fromisoformat(f"{text}-01")
    except ValueError:
        return f"No such month: {quote(text)} (months are 01 to 12)."
    try:
        check_date(month)
    except ValidationError as exc:
        return " ".join(exc.messages)
    return month


PRODUCT_LINE = Column("product_line", "product line", ("product_line_name", "line"))
MONTH = Column("month", "month")
REVENUE = Column("revenue", "revenue")
UNITS = Column("units", "units", ("quantity",))


@dataclass(frozen=True)
class _BudgetColumns:
    """The columns of a budget file, as demand.csv_import's header check reads them."""

    columns: tuple[Column, ...] = (PRODUCT_LINE, MONTH, REVENUE, UNITS)

    @property
    def header_hint(self) -> str:
        return "product_line, month, revenue and units"

    def column_rank(self, name: str) -> int:
        return {column.name: rank for rank, column in enumerate(self.columns)}.get(name, -1)


BUDGET_COLUMNS = _BudgetColumns()


@dataclass(frozen=True)
class BudgetRow:
    line: int
    product_line_id: int
    month: dt.date
    revenue: Decimal
    units: int


@dataclass
class ParsedBudgets:
    rows: list[BudgetRow] = field(default_factory=list)
    row_count: int = 0
    sheet: str = ""  # the sheet read, for a workbook
    position_label: str = "line"
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0

    @property
    def is_valid(self) -> bool:
        return self.error_count == 0

    def error(self, position: int, column: str, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(RowError(position, column, message))

    def rejection(self) -> ImportRejected:
        return ImportRejected(self.errors, self.error_count, self.position_label, self.sheet)


def parse_budget_csv(source) -> ParsedBudgets:
    """Read and check a budget CSV file (text, bytes or a file)."""
    return parse_budget_table(csv_table(source))


def parse_budget_file(source, *, filename: str = "", sheet: str | None = None) -> ParsedBudgets:
    """Read and check a budget file, CSV or a workbook's sheet (told apart by content).
    Valid: `rows` holds every row; otherwise `errors` says what is wrong, by line (or
    sheet and row), and `rows` is empty. Raises WorkbookRefused for a file that is
    neither CSV nor a readable .xlsx."""
    return parse_budget_table(open_table(source, filename=filename, sheet=sheet))


def parse_budget_table(table: Table | RowError) -> ParsedBudgets:
    result = ParsedBudgets()
    if isinstance(table, RowError):
        result.error(table.position, table.column, table.message)
        return result
    result.sheet = table.sheet
    result.position_label = table.position_label
    walk = TableWalk(table, BUDGET_COLUMNS, result)
    raw_rows = list(walk.rows())
    if walk.header_line and not walk.row_count and not result.error_count:
        result.error(walk.header_line + 1, "", "The file has no rows below the header.")
    _check_rows(raw_rows, result)
    result.row_count = walk.row_count
    if not result.is_valid:
        result.rows = []
    result.errors.sort(key=lambda e: (e.position, BUDGET_COLUMNS.column_rank(e.column)))
    return result


def _check_rows(raw_rows: list[tuple[int, list[str]]], result: ParsedBudgets) -> None:
    names = {
        name.casefold(): pk for pk, name in ProductLine.objects.values_list("pk", "name")
    }  # product lines are few: one query reads them all
    first_at: dict[tuple[int, dt.date], int] = {}
    for line, (name_raw, month_raw, revenue_raw, units_raw) in raw_rows:
        result.row_count += 1
        cells = zip(
            BUDGET_COLUMNS.columns, (name_raw, month_raw, revenue_raw, units_raw), strict=True
        )
        with_nul = [column.name for column, raw in cells if boundary.NUL in raw]
        if with_nul:
            for name in with_nul:
                result.error(line, name, boundary.NUL_MESSAGE)
            continue
        name = name_raw.strip()
        product_line_id = names.get(name.casefold())
        if not name:
            result.error(line, PRODUCT_LINE.name, "Enter the product line.")
        elif product_line_id is None:
            result.error(line, PRODUCT_LINE.name, f"No product line is called {quote(name)}.")
        month = parse_month(month_raw)
        if isinstance(month, str):
            result.error(line, MONTH.name, month)
        revenue = parse_revenue(revenue_raw)
        if isinstance(revenue, str):
            result.error(line, REVENUE.name, revenue)
        units = parse_units(units_raw)
        if isinstance(units, str):
            result.error(line, UNITS.name, units)
        if product_line_id is None or isinstance(month, str):
            continue
        key = (product_line_id, month)
        if key in first_at:
            result.error(
                line,
                MONTH.name,
                f"Duplicate of line {first_at[key]}: {name} already has a row for {month:%Y-%m}.",
            )
            continue
        first_at[key] = line
        if not isinstance(revenue, str) and not isinstance(units, str):
            result.rows.append(BudgetRow(line, product_line_id, month, revenue, units))
