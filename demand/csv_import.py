"""Reading "product x date -> quantity" files: the machinery sales history and inventory
imports share.

A file is CSV text (str, bytes, or an open file, binary or text) or, from the API, a
list of JSON objects. Rules:

- The first line is a header. Column names are case-insensitive; spaces and dashes
  count as underscores; each column has aliases (sales: ``sku``/``product``,
  ``week``/``date``, ``units``/``quantity``; see each import's RowParser). Other
  columns are ignored.
- UTF-8, with or without a byte-order mark. The delimiter is whichever of comma,
  semicolon or tab the header line uses most.
- Blank lines are skipped. Line numbers are those a spreadsheet shows (header = 1).
- Every row is checked and ALL errors are collected as (line, column, message); the
  first MAX_ERRORS are kept, with the total count, so a million bad rows cannot blow up
  memory. A (sku, date) pair may appear once per file.
- SKUs are resolved to products with one query for all distinct SKUs.

Nothing here writes to the database; the import services do, all-or-nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from rest_framework import exceptions, parsers, status
from rest_framework.response import Response

from coordination import boundary
from coordination.models import Product
from demand import xlsx
from demand.xlsx import Formula, Table, UnreadableRow

MAX_ERRORS = 1000
# Largest value a PositiveIntegerField holds on every database Tandem supports.
MAX_QUANTITY = 2_147_483_647
# Up to this many distinct SKUs are looked up with `sku IN (...)` (SQLite caps the
# parameters of one query); beyond it one query reads every product's SKU instead.
SKU_IN_LOOKUP_LIMIT = 900
DELIMITERS = (",", ";", "\t")


class ImportRejected(ValidationError):
    """A file or list with errors: nothing was imported.

    A ValidationError keyed "<line>.<column>" (or "<index>.<column>" for a JSON list,
    "<line>" for an error about a whole line), so it shows anywhere a service error
    does. `errors` keeps the RowErrors, `error_count` the total (errors may be capped),
    and `record` whatever the service saved about the rejected import, if anything."""

    def __init__(
        self,
        errors: Sequence[RowError],
        error_count: int,
        position_label: str,
        sheet: str = "",
    ):
        self.row_errors = list(errors)
        self.error_count = error_count
        self.position_label = position_label
        self.sheet = sheet  # the workbook's sheet the rows are of; "" for CSV or JSON
        self.record = None
        messages: dict[str, list[str]] = {}
        for error in self.row_errors:
            messages.setdefault(error.key, []).append(error.message)
        if error_count > len(self.row_errors):
            messages["__all__"] = [more_errors_message(error_count, len(self.row_errors))]
        super().__init__(messages or {"__all__": ["Nothing to import."]})

    @property
    def summary(self) -> str:
        noun = "error" if self.error_count == 1 else "errors"
        return f"Nothing was imported: {self.error_count:,} {noun}."

    @property
    def position_title(self) -> str:
        """The heading of the errors' position column: Line, Item, or Sheet, row."""
        return "Sheet, row" if self.sheet else self.position_label.capitalize()

    def listed(self) -> list[dict]:
        """The kept errors, each with `where`: the line (CSV) or "Sheet1, row 7"."""
        return [
            {
                "where": f"{self.sheet}, row {e.position}" if self.sheet else e.position,
                "column": e.column,
                "message": e.message,
                "place": e.place(self.position_label, self.sheet),
            }
            for e in self.row_errors
        ]


def more_errors_message(total: int, shown: int) -> str:
    return f"{total - shown:,} more errors are not listed (the first {shown:,} are)."


@dataclass(frozen=True)
class RowError:
    position: int  # line number (header = 1) for CSV, item index for a JSON list
    column: str  # canonical column name; "" when about the whole line or file
    message: str

    @property
    def key(self) -> str:
        return f"{self.position}.{self.column}" if self.column else str(self.position)

    def as_dict(self, position_label: str = "line", sheet: str = "") -> dict:
        found = {position_label: self.position, "column": self.column, "message": self.message}
        if sheet:
            found["sheet"] = sheet
        return found

    def place(self, position_label: str = "line", sheet: str = "") -> str:
        """Where, in words: "line 7", "item 3", or "Sheet1, row 7, units"."""
        where = f"{sheet}, row {self.position}" if sheet else f"{position_label} {self.position}"
        return f"{where}, {self.column}" if self.column else where


@dataclass(frozen=True)
class Column:
    name: str  # canonical, as errors and the API name it
    label: str  # in sentences: "Enter the {label}."
    aliases: tuple[str, ...] = ()

    @property
    def accepted_names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


def _normalize_header(name: str) -> str:
    return name.strip().lstrip("\ufeff").strip().lower().replace(" ", "_").replace("-", "_")


@dataclass(frozen=True)
class RowParser:
    """What one kind of import reads: a SKU, a date and a non-negative whole quantity
    per row, and optionally one more column that is part of a row's key (the sales
    channel): blank or absent is `key_default`. The per-import parts are the column
    names and how a date (and the key column) is read."""

    sku: Column
    date: Column
    quantity: Column
    # Text -> date; raises ValidationError with a message for the user.
    parse_date: Callable[[str], dt.date]
    # Date -> how a user writes it (an ISO week for sales, a date for inventory).
    format_date: Callable[[dt.date], str] = dt.date.isoformat
    # The optional key column; with it, rows are unique on (sku, date, key) and
    # records() yields the key as a fourth value.
    key: Column | None = None
    # Stripped text -> the stored value; raises ValidationError with a message.
    parse_key: Callable[[str], str] | None = None
    key_default: str = ""

    @property
    def columns(self) -> tuple[Column, Column, Column]:
        """The columns every file must have."""
        return (self.sku, self.date, self.quantity)

    @property
    def optional_columns(self) -> tuple[Column, ...]:
        return (self.key,) if self.key else ()

    @property
    def header_hint(self) -> str:
        return f"{self.sku.name}, {self.date.name} and {self.quantity.name}"

    def column_rank(self, name: str) -> int:
        ranked = (*self.columns, *self.optional_columns)
        return {column.name: rank for rank, column in enumerate(ranked)}.get(name, -1)

    def parse_quantity(self, raw: str) -> int | str:
        """The quantity, or the message saying what is wrong with it."""
        text = raw.strip()
        label = self.quantity.label
        if not text:
            return f"Enter the {label}."
        if text.isascii() and text.isdigit():
            value = int(text)
        elif text[0] == "-" and text[1:].isascii() and text[1:].isdigit():
            return f"The {label} cannot be negative; got {text}."
        else:
            return f"The {label} must be a whole number; got {quote(text)}."
        if value > MAX_QUANTITY:
            return f"The {label} must be at most {MAX_QUANTITY:,}; got {text}."
        return value


def quote(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


@dataclass
class ParsedImport:
    """The outcome of reading a file or list: its rows if valid, its errors if not."""

    parser: RowParser
    position_label: str  # "line" (CSV), "row" (a workbook's sheet) or "item" (JSON)
    sheet: str = ""  # the sheet read, for a workbook
    # (sku, date) -> quantity, or (sku, date, key) with a key column, in file order;
    # `positions` holds each row's line/index.
    rows: dict[tuple, int] = field(default_factory=dict)
    positions: list[int] = field(default_factory=list)
    product_ids: dict[str, int] = field(default_factory=dict)
    row_count: int = 0  # data rows read, valid or not (blank lines are not rows)
    errors: list[RowError] = field(default_factory=list)  # the first MAX_ERRORS
    error_count: int = 0

    @property
    def is_valid(self) -> bool:
        return self.error_count == 0

    @property
    def products_count(self) -> int:
        return len({key[0] for key in self.rows})

    @property
    def first_date(self) -> dt.date | None:
        return min((key[1] for key in self.rows), default=None)

    @property
    def last_date(self) -> dt.date | None:
        return max((key[1] for key in self.rows), default=None)

    def records(self) -> Iterator[tuple]:
        """(product_id, date, quantity) per row, and the key column's value as a fourth
        with a key column; only meaningful when valid."""
        ids = self.product_ids
        if self.parser.key is None:
            for (sku, day), quantity in self.rows.items():
                yield ids[sku], day, quantity
        else:
            for (sku, day, key), quantity in self.rows.items():
                yield ids[sku], day, quantity, key

    def sample(self, limit: int = 20) -> list[dict]:
        key_name = self.parser.key.name if self.parser.key else None
        found = []
        for position, (key, quantity) in zip(
            self.positions, itertools.islice(self.rows.items(), limit), strict=False
        ):
            sku, day = key[0], key[1]
            row = {
                self.position_label: position,
                "sku": sku,
                "date": day,
                "date_label": self.parser.format_date(day),
                "quantity": quantity,
                "known": sku in self.product_ids,
            }
            if key_name:
                row[key_name] = key[2]
            found.append(row)
        return found

    def error_dicts(self) -> list[dict]:
        """The kept errors as JSON-ready dicts, plus a note if more were found."""
        listed = [error.as_dict(self.position_label, self.sheet) for error in self.errors]
        if self.error_count > len(self.errors):
            listed.append(
                {
                    self.position_label: None,
                    "column": "",
                    "message": more_errors_message(self.error_count, len(self.errors)),
                    "more": self.error_count - len(self.errors),
                }
            )
        return listed

    def rejection(self) -> ImportRejected:
        return ImportRejected(self.errors, self.error_count, self.position_label, self.sheet)

    def as_csv(self) -> str:
        """The valid rows as CSV text that reads back the same, each on the line of its
        row (blank lines between), so a workbook's rows keep their numbers when the
        previewed import is read again from this text."""
        parser = self.parser
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        # The key column only when a row gives it a value of its own.
        keyed = parser.key is not None and any(key[2] != parser.key_default for key in self.rows)
        columns = (*parser.columns, *parser.optional_columns) if keyed else parser.columns
        writer.writerow([column.name for column in columns])
        line = 1
        for position, (key, quantity) in zip(self.positions, self.rows.items(), strict=True):
            if position > line + 1:
                buffer.write("\n" * (position - line - 1))
            cells = [key[0], parser.format_date(key[1]), quantity, *key[2:]]
            writer.writerow(cells[: len(columns)])
            line = max(position, line + 1)
        return buffer.getvalue()


class _Collector:
    """Checks rows one by one; keeps the first MAX_ERRORS errors and counts the rest."""

    def __init__(self, parser: RowParser, position_label: str, max_errors: int):
        self.parser = parser
        self.max_errors = max_errors
        self.result = ParsedImport(parser=parser, position_label=position_label)
        self.first_position: dict[tuple, int] = {}
        # Caches: a file repeats few distinct SKUs and dates many times.
        self.sku_cache: dict[str, str] = {}
        self.date_cache: dict[str, dt.date | str] = {}
        self.keyed = parser.key is not None
        self.key_cache: dict[str, str] = {}
        # SKUs of rows that had other errors, so an unknown SKU there is reported too.
        self.skus_of_bad_rows: dict[str, list[int]] = {}
        self.bad_rows_beyond_cap: dict[str, int] = {}

    def error(self, position: int, column: str, message: str) -> None:
        result = self.result
        result.error_count += 1
        if len(result.errors) < self.max_errors:
            result.errors.append(RowError(position, column, message))

    def add(
        self, position: int, sku_raw: str, date_raw: str, quantity_raw: str, key_raw: str = ""
    ) -> None:
        parser = self.parser
        self.result.row_count += 1
        errors_before = self.result.error_count
        nul = boundary.NUL
        if nul in sku_raw or nul in date_raw or nul in quantity_raw or nul in key_raw:
            # PostgreSQL refuses NUL in text: said at the row, never sent to a query.
            raws = (sku_raw, date_raw, quantity_raw, key_raw)
            for column, raw in zip((*parser.columns, *parser.optional_columns), raws, strict=False):
                if nul in raw:
                    self.error(position, column.name, boundary.NUL_MESSAGE)
            return

        sku = self.sku_cache.get(sku_raw)
        if sku is None:
            sku = sku_raw.strip().upper()
            self.sku_cache[sku_raw] = sku
        if not sku:
            self.error(position, parser.sku.name, f"Enter the {parser.sku.label}.")

        day = self.date_cache.get(date_raw)
        if day is None:
            day = self._parse_date(date_raw)
            if len(self.date_cache) < 100_000:
                self.date_cache[date_raw] = day
        if isinstance(day, str):
            self.error(position, parser.date.name, day)

        # The usual cell, a few plain digits, without the general parse (a million rows).
        if len(quantity_raw) < 10 and quantity_raw.isdigit() and quantity_raw.isascii():
            quantity = int(quantity_raw)
        else:
            quantity = parser.parse_quantity(quantity_raw)
        if isinstance(quantity, str):
            self.error(position, parser.quantity.name, quantity)

        if self.keyed:
            # The cache holds valid values only: a file repeats a few channels.
            extra = self.key_cache.get(key_raw)
            if extra is None:
                extra = self._parse_key(position, key_raw)
            key = (sku, day, extra)
        else:
            key = (sku, day)
            extra = ""
        if sku and extra is not None and not isinstance(day, str):
            # Checked even when the quantity is bad, so one upload lists both mistakes.
            first = self.first_position.get(key)
            if first is not None:
                self.error(
                    position,
                    parser.date.name,
                    f"Duplicate of {self.result.position_label} {first}: {sku} already has a "
                    f"row for {parser.format_date(day)}{self._in_key(key)}.",
                )
            else:
                self.first_position[key] = position

        if self.result.error_count != errors_before:
            if sku:
                if len(self.result.errors) < self.max_errors:
                    self.skus_of_bad_rows.setdefault(sku, []).append(position)
                else:
                    self.bad_rows_beyond_cap[sku] = self.bad_rows_beyond_cap.get(sku, 0) + 1
            return
        self.result.rows[key] = quantity
        self.result.positions.append(position)

    def _in_key(self, key: tuple) -> str:
        """ " in the channel retail" for a row keyed on a value other than the default."""
        parser = self.parser
        if parser.key is None or key[2] == parser.key_default:
            return ""
        return f" in the {parser.key.label} {key[2]}"

    def _parse_key(self, position: int, raw: str) -> str | None:
        """The key column's value (cached), or None with the error said."""
        text = raw.strip()
        value = self.parser.key_default
        if text:
            try:
                value = self.parser.parse_key(text)
            except ValidationError as exc:
                self.error(position, self.parser.key.name, " ".join(exc.messages))
                return None
        if len(self.key_cache) < 1000:
            self.key_cache[raw] = value
        return value

    def _parse_date(self, raw: str) -> dt.date | str:
        text = raw.strip()
        if not text:
            return f"Enter the {self.parser.date.label}."
        try:
            return self.parser.parse_date(text)
        except ValidationError as exc:
            return " ".join(exc.messages)

    def _order(self, error: RowError) -> tuple[int, int]:
        return error.position, self.parser.column_rank(error.column)

    def finish(self) -> ParsedImport:
        """Resolve SKUs (one query) and report unknown ones, in position order."""
        result = self.result
        self.first_position.clear()
        skus = {key[0] for key in result.rows} | set(self.skus_of_bad_rows)
        skus |= set(self.bad_rows_beyond_cap)
        result.product_ids = resolve_skus(skus)
        unknown = skus - result.product_ids.keys()
        if unknown:
            found = _Collector(self.parser, result.position_label, self.max_errors)
            column = self.parser.sku.name
            unknown_at: list[tuple[int, str]] = [
                (position, sku)
                for sku, positions in self.skus_of_bad_rows.items()
                if sku in unknown
                for position in positions
            ]
            unknown_at.extend(
                (position, key[0])
                for position, key in zip(result.positions, result.rows, strict=True)
                if key[0] in unknown
            )
            unknown_at.sort()
            for position, sku in unknown_at:
                found.error(position, column, f"No product has the SKU {quote(sku)}.")
            beyond = sum(n for sku, n in self.bad_rows_beyond_cap.items() if sku in unknown)
            result.errors = sorted(result.errors + found.result.errors, key=self._order)
            result.errors = result.errors[: self.max_errors]
            result.error_count += found.result.error_count + beyond
        else:
            result.errors.sort(key=self._order)
        if not result.is_valid:
            result.rows = {}
            result.positions = []
        return result


def resolve_skus(skus: Iterable[str]) -> dict[str, int]:
    """{sku: product id} for the SKUs that exist, in one query."""
    wanted = {sku for sku in skus if sku}
    if not wanted:
        return {}
    products = Product.objects.all()
    if len(wanted) <= SKU_IN_LOOKUP_LIMIT:
        products = products.filter(sku__in=wanted)
    return {sku: pk for sku, pk in products.values_list("sku", "pk") if sku in wanted}


# --------------------------------------------------------------------------- CSV


def _lines(text: str) -> Iterator[str]:
    """The lines of `text`, split at "\\n" only (as the csv module expects)."""
    start, find, length = 0, text.find, len(text)
    while start < length:
        end = find("\n", start)
        if end < 0:
            yield text[start:]
            return
        yield text[start : end + 1]
        start = end + 1


def _decode(data: bytes) -> str | RowError:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return RowError(
            line,
            "",
            f"This line is not UTF-8 text (byte 0x{data[exc.start]:02X}); "
            "save the file as CSV UTF-8.",
        )


def text_lines(source) -> Iterator[str] | RowError:
    if isinstance(source, bytes | bytearray | memoryview):
        source = _decode(bytes(source))
        if isinstance(source, RowError):
            return source
    if isinstance(source, str):
        return _lines(source)
    probe = source.read(0)
    if isinstance(probe, bytes):
        # A binary file: decode it whole, so an encoding error names its exact line.
        return text_lines(source.read())
    return iter(source)


def csv_table(source) -> Table | RowError:
    """The lines of a CSV file (text, bytes or a file) as a Table, or the RowError that
    stops it being read at all (not UTF-8)."""
    lines = text_lines(source)
    if isinstance(lines, RowError):
        return lines
    try:
        first = next(lines)
    except StopIteration:
        first = ""
    except UnicodeDecodeError:
        return RowError(1, "", "This line is not UTF-8 text; save the file as CSV UTF-8.")
    delimiter = max(DELIMITERS, key=first.count)
    reader = csv.reader(itertools.chain([first], lines), delimiter=delimiter)
    return Table(rows=_csv_rows(reader), delimiter=delimiter)


def _csv_rows(reader) -> Iterator[tuple[int, list[str]]]:
    """(line, cells) per record; a record's line is where it starts (a quoted value may
    span lines). Raises UnreadableRow where the csv module gives up."""
    previous_line = 0
    started = False
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except (csv.Error, UnicodeDecodeError) as exc:
            position = previous_line + 1 if started else (reader.line_num or 1)
            raise UnreadableRow(position, unreadable(exc)) from exc
        line, previous_line = previous_line + 1, reader.line_num
        started = started or any(cell.strip() for cell in cells)
        yield line, cells


def open_table(
    source, *, filename: str = "", sheet: str | None = None, max_rows: int | None = None
) -> Table | RowError:
    """A CSV file or a workbook's sheet, told apart by content (a workbook is a zip),
    as one Table. Raises WorkbookRefused for a file neither CSV nor a readable .xlsx
    (a renamed CSV, an .xls, macros, a zip bomb)."""
    if hasattr(source, "read") and isinstance(source.read(0), bytes):
        source = source.read()
    if isinstance(source, bytes | bytearray | memoryview) and xlsx.is_workbook(source, filename):
        return xlsx.workbook_table(source, sheet=sheet, max_rows=max_rows)
    if filename and not isinstance(source, bytes | bytearray | memoryview):
        xlsx.is_workbook(b"", filename)  # a text file named .xlsx: refused
    return csv_table(source)


class TableWalk:
    """Walks a Table for an import: finds the header row (the first non-blank one) and
    the import's columns in it, then yields (position, [cell per column]) for each data
    row, skipping blank rows. Problems go to `sink.error(position, column, message)`:
    a missing column, more cells than the header (CSV), a formula where a value belongs
    (workbook: that row is not yielded), a file that stops being readable."""

    def __init__(self, table: Table, columns, sink):
        self.table = table
        self.columns = columns  # has .columns and .header_hint, as RowParser
        self.sink = sink
        self.header_line = 0
        self.row_count = 0  # non-blank data rows, yielded or not

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        table, sink = self.table, self.sink
        rows = table.rows
        try:
            for position, cells in rows:
                if any(cell.strip() for cell in cells):
                    self.header_line, header = position, cells
                    break
            else:
                sink.error(
                    1,
                    "",
                    f"The file is empty: the first line must name the columns "
                    f"{self.columns.header_hint}.",
                )
                return
        except UnreadableRow as exc:
            sink.error(exc.position, "", exc.message)
            return
        found = header_indexes(header, self.header_line, self.columns, sink)
        if found is None:
            return
        indexes, columns = found
        width, needed = len(header), max(indexes) + 1
        try:
            for position, cells in rows:
                if len(cells) < needed:
                    cells = cells + [""] * (needed - len(cells))
                values = [cells[i] for i in indexes]
                if not any(values) and not any(cell.strip() for cell in cells):
                    continue  # a blank line
                self.row_count += 1
                overflow = table.delimiter and len(cells) > width
                if overflow and any(cell.strip() for cell in cells[width:]):
                    sink.error(
                        position,
                        "",
                        f"This line has {len(cells)} values but the header has "
                        f"{width}; quote values that contain {table.delimiter!r}.",
                    )
                formulas = [
                    (column, value)
                    for column, value in zip(columns, values, strict=True)
                    if isinstance(value, Formula)
                ]
                if formulas:
                    for column, value in formulas:
                        sink.error(position, column.name, formula_message(column, value))
                    continue
                yield position, values
        except xlsx.TooManyRows as exc:
            # About the file, not a row: said at the file field even after 1,000 row errors.
            raise xlsx.WorkbookRefused(exc.message, code="too_many_rows") from exc
        except UnreadableRow as exc:
            sink.error(exc.position, "", exc.message)


def formula_message(column: Column, formula: str) -> str:
    return (
        f"The {column.label} cell holds a formula ({quote(formula)}), not a value; type "
        "the value, or copy the column and paste it as values only."
    )


def parse_table(
    table: Table | RowError,
    parser: RowParser,
    *,
    limit: int | None = None,
    max_errors: int = MAX_ERRORS,
) -> ParsedImport:
    """Read and check a Table's rows. `limit` stops after that many data rows (a preview)."""
    label = table.position_label if isinstance(table, Table) else "line"
    collector = _Collector(parser, label, max_errors)
    if isinstance(table, RowError):
        collector.error(table.position, table.column, table.message)
        return collector.finish()
    collector.result.sheet = table.sheet
    walk = TableWalk(table, parser, collector)
    add = collector.add
    for position, values in walk.rows():
        add(position, *values)
        if limit is not None and walk.row_count >= limit:
            break
    collector.result.row_count = walk.row_count
    if walk.header_line and not walk.row_count and collector.result.error_count == 0:
        collector.error(walk.header_line + 1, "", "The file has no rows below the header.")
    return collector.finish()


def parse_csv(
    source, parser: RowParser, *, limit: int | None = None, max_errors: int = MAX_ERRORS
) -> ParsedImport:
    """Read and check a CSV file. `limit` stops after that many data rows (a preview)."""
    return parse_table(csv_table(source), parser, limit=limit, max_errors=max_errors)


def parse_file(
    source,
    parser: RowParser,
    *,
    filename: str = "",
    sheet: str | None = None,
    limit: int | None = None,
) -> ParsedImport:
    """Read and check a CSV file or a workbook (told apart by content). Raises
    WorkbookRefused for a file that is neither (nothing read)."""
    return parse_table(open_table(source, filename=filename, sheet=sheet), parser, limit=limit)


def unreadable(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "This line is not UTF-8 text; save the file as CSV UTF-8."
    return f"This line cannot be read as CSV ({exc}); nothing after it was read."


def header_indexes(
    header: list[str], line: int, parser: RowParser, collector: _Collector
) -> tuple[tuple[int, ...], tuple[Column, ...]] | None:
    """The position in the header of each column read, and those columns: the required
    ones, then the optional ones the header has. None (errors said) if one is missing
    or given twice."""
    names = [_normalize_header(cell) for cell in header]
    required = tuple(parser.columns)
    optional = tuple(getattr(parser, "optional_columns", ()))
    indexes, present, failed = [], [], False
    for column in (*required, *optional):
        found = [i for i, name in enumerate(names) if name in column.accepted_names]
        if not found and column in optional:
            continue
        if not found:
            also = f" (also accepted: {', '.join(column.aliases)})" if column.aliases else ""
            collector.error(
                line,
                column.name,
                f'Missing column "{column.name}"{also}. The first line must name the '
                f"columns {parser.header_hint}.",
            )
            failed = True
        elif len(found) > 1:
            given = " and ".join(f'"{header[i].strip()}"' for i in found)
            collector.error(
                line, column.name, f"Columns {given} both give the {column.label}; keep one."
            )
            failed = True
        else:
            indexes.append(found[0])
            present.append(column)
    return None if failed else (tuple(indexes), tuple(present))


# ---------------------------------------------------------------------- JSON list


def _cell(value) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def parse_items(
    items: Sequence, parser: RowParser, *, max_errors: int = MAX_ERRORS
) -> ParsedImport:
    """Check a list of objects such as {"sku": ..., "week": ..., "units": ...}; errors
    are by item index (from 0). Keys accept the same aliases as CSV columns."""
    collector = _Collector(parser, "item", max_errors)
    read = (*parser.columns, *parser.optional_columns)
    lookup = {name: column.name for column in read for name in column.accepted_names}
    names = [column.name for column in read]
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            collector.result.row_count += 1
            collector.error(
                index,
                "",
                f"Each item must be an object with {parser.header_hint}; "
                f"got {type(item).__name__}.",
            )
            continue
        values = {}
        for key, value in item.items():
            name = lookup.get(_normalize_header(str(key)))
            if name is not None:
                values[name] = _cell(value)
        collector.add(index, *(values.get(name, "") for name in names))
    if collector.result.row_count == 0:
        collector.error(0, "", f"Send at least one item with {parser.header_hint}.")
    return collector.finish()


def parse_rows(
    rows, parser: RowParser, *, filename: str = "", sheet: str | None = None
) -> ParsedImport:
    """CSV or workbook content (text, bytes or a file) or a list of objects, whichever
    `rows` is. Raises WorkbookRefused for a file that is neither CSV nor a readable .xlsx."""
    if isinstance(rows, str | bytes | bytearray | memoryview) or hasattr(rows, "read"):
        return parse_file(rows, parser, filename=filename, sheet=sheet)
    return parse_items(rows, parser)


# ----------------------------------------------------------------- commands' actor


def import_actor(username: str | None = None):
    """The user a command-line import is recorded as: `username`, else the first
    superuser, else the first member of the Admin role. LookupError if there is none."""
    users = get_user_model().objects.filter(is_active=True).order_by("pk")
    if username:
        user = users.filter(username=username).first()
        if user is None:
            raise LookupError(f"No active user is called {username!r}.")
        return user
    user = users.filter(is_superuser=True).first() or users.filter(groups__name="Admin").first()
    if user is None:
        raise LookupError(
            "No user to record as the importer: create a superuser "
            "(manage.py createsuperuser) or pass --user USERNAME."
        )
    return user


def file_too_large_message(size: int, max_bytes: int) -> str:
    return (
        f"The file is {size / 1_000_000:.1f} MB; the limit is {max_bytes // 1_000_000} MB. "
        "Split it, or import it with the manage.py command or the API."
    )


def text_of(data: bytes | str) -> str:
    """Decoded text of a file that parse_csv found valid (so it is UTF-8)."""
    return data if isinstance(data, str) else data.decode("utf-8-sig")


def item_list_problem(items, parser: RowParser, *, max_items: int) -> tuple[str, str] | None:
    """(code, message) if an API body is not a list the import can take, else None."""
    if not isinstance(items, list):
        return "invalid", f"Send a JSON list of objects with {parser.header_hint}."
    if len(items) > max_items:
        return (
            "too_many_items",
            f"At most {max_items:,} items per request; this one has {len(items):,}. "
            "Send the rest in another request.",
        )
    return None


def bulk_import_response(items, *, parser: RowParser, max_items: int, run, serializer_class):
    """The answer of a bulk import endpoint: 400 with the shared error body for a body
    that is not a list of at most `max_items`, or for rejected rows (each key of `fields`
    is "<item index>.<field>", or "<row>.<column>" for a workbook); otherwise the result
    of `run(items)` (a workbook: `run(its bytes, sheet=...)`), serialized, with 201."""
    from coordination.api.support import error_response

    workbook = isinstance(items, WorkbookUpload)
    problem = None if workbook else item_list_problem(items, parser, max_items=max_items)
    if problem:
        return error_response(*problem, status.HTTP_400_BAD_REQUEST)
    try:
        result = run(items.data, sheet=items.sheet) if workbook else run(items)
    except ImportRejected as exc:
        keys = f"<row>.<column> of the sheet {exc.sheet!r}" if exc.sheet else "<item index>.<field>"
        return error_response(
            "invalid",
            f"{exc.summary} Each key in fields is {keys}.",
            status.HTTP_400_BAD_REQUEST,
            fields={
                ("non_field_errors" if key == "__all__" else key): messages
                for key, messages in exc.message_dict.items()
            },
        )
    return Response(serializer_class(result).data, status=status.HTTP_201_CREATED)


class BodyTooLarge(exceptions.APIException):
    status_code = 413
    default_code = "too_large"
    default_detail = "The request body is too large."


@dataclass(frozen=True)
class WorkbookUpload:
    """An .xlsx request body of a bulk import endpoint, and the sheet to read (?sheet=)."""

    data: bytes
    sheet: str | None = None

    def __str__(self) -> str:  # what an Idempotency-Key's fingerprint of the body sees
        return f"xlsx {hashlib.sha256(self.data).hexdigest()} {self.sheet or ''}"


class BulkXlsxParser(parsers.BaseParser):
    """An .xlsx workbook as the body of a bulk import endpoint (Content-Type
    application/vnd.openxmlformats-officedocument.spreadsheetml.sheet), up to `max_bytes`
    (413 beyond). A body that is not a workbook is refused here (400)."""

    media_type = xlsx.XLSX_CONTENT_TYPE
    max_bytes = 20_000_000  # as the browser's upload

    def parse(self, stream, media_type=None, parser_context=None):
        data = stream.read(self.max_bytes + 1) if stream is not None else b""
        if len(data) > self.max_bytes:
            raise BodyTooLarge(
                f"The workbook is over {self.max_bytes // 1_000_000} MB; split it, or send "
                "the rows as JSON."
            )
        if not xlsx.is_workbook(data):
            raise xlsx.WorkbookRefused(
                "The body is not an .xlsx workbook. Send the workbook's bytes as they are, "
                "or the rows as a JSON list.",
                code="not_a_workbook",
            )
        request = (parser_context or {}).get("request")
        sheet = request.query_params.get("sheet", "").strip() if request is not None else ""
        return WorkbookUpload(data=data, sheet=sheet[:31] or None)


def bulk_import_schema(row_serializer, result_serializer) -> dict:
    """extend_schema arguments of a bulk import endpoint: a JSON list of rows or an .xlsx
    workbook (the sheet named by ?sheet=, else the first) as the body."""
    from drf_spectacular.types import OpenApiTypes
    from drf_spectacular.utils import OpenApiParameter

    return {
        "request": {
            "application/json": row_serializer(many=True),
            xlsx.XLSX_CONTENT_TYPE: OpenApiTypes.BINARY,
        },
        "responses": {201: result_serializer},
        "parameters": [
            OpenApiParameter(
                "sheet",
                str,
                description="With an .xlsx body: the sheet to read (default: the first). "
                "Its first row names the columns, as in a CSV file.",
            )
        ],
    }


class BulkJSONParser(parsers.BaseParser):
    """JSON for the bulk import endpoints: reads the body itself, up to `max_bytes`
    (413 beyond), instead of through request.body, which Django caps at
    DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) — far below 100,000 items."""

    media_type = "application/json"
    max_bytes = 32_000_000

    def parse(self, stream, media_type=None, parser_context=None):
        data = stream.read(self.max_bytes + 1)
        if len(data) > self.max_bytes:
            raise BodyTooLarge(
                f"The request body is over {self.max_bytes // 1_000_000} MB; "
                "send fewer items per request."
            )
        try:
            return boundary.load_json(data)
        except boundary.Refused as exc:
            raise boundary.api_refusal(exc) from exc
        except ValueError as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from exc
