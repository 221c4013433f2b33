"""Excel workbooks (.xlsx) both ways: the downloads' writing helpers and the imports' reader.

Writing (`XlsxColumn`, `xlsx_response`): one sheet per table, a bold frozen header row,
number formats per kind of column (units as whole numbers with thousands separators,
money with two decimals, weeks as Monday dates), column widths, and no formulas from
user text: openpyxl writes any string starting with "=" as a formula, so every text cell
is forced to be a string (`text_cell`).

Reading (`workbook_table`): the rows of one sheet as the same (position, cells) stream
the CSV reader walks (demand.csv_import), every cell as text, so all the row checks stay
in one place. Before openpyxl sees a file it is checked as a zip: not too big once
unpacked (a zip bomb), no macros (vbaProject.bin), a workbook at all. The sheet is read
with read_only=True, row by row, and reading stops past `max_rows`, so a sheet of
1,048,576 rows costs neither the memory nor the time of reading it. Formulas are not
evaluated (data_only=False): a formula cell comes through as `Formula`, which the import
refuses where it needs a value (the cached result could be stale or absent).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.utils import timezone

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZIP_MAGIC = b"PK\x03\x04"
# Excel 97-2003 files, and password-protected .xlsx, are OLE compound files.
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xltx", ".xltm", ".xls", ".xlsb")
# What a workbook may unpack to. 1,000,000 rows of an import's few columns are about
# 100 MB of sheet XML; a zip bomb is gigabytes.
MAX_UNPACKED_BYTES = 300_000_000
# A sheet is streamed, but openpyxl loads every other part whole (the shared strings of
# all sheets, the styles): each may unpack to this much. (A zip member's declared size is
# also what zipfile unpacks at most, so a member lying about its size gains nothing.)
MAX_LOADED_PART_BYTES = 50_000_000
MAX_MEMBERS = 10_000
# openpyxl sizes a sheet from its <dimension> record when it opens the workbook, and reads
# a sheet without one whole to the end, keeping an element per row, before the first row
# is seen (Excel and LibreOffice always write the record). A sheet without it may unpack
# to this much, about 50,000 rows and a second and a half.
MAX_SHEET_WITHOUT_DIMENSION_BYTES = 5_000_000
_DIMENSION = re.compile(rb"<(?:[\w.-]+:)?dimension\b")
_SHEET_DATA = re.compile(rb"<(?:[\w.-]+:)?sheetData\b")
# Data rows an import reads from one sheet (as many as an API request may send); past it
# the file is refused (CSV has no row limit). bench/import_xlsx_speed.py: 100,000 rows
# import in 2.7 s (as CSV 0.9 s); a 1,048,576-row sheet is refused after 1.9 s, with
# 9 MB of peak Python memory.
MAX_ROWS = 100_000


class WorkbookRefused(ValidationError):
    """A file that cannot be read as a workbook: nothing is read from it. Keyed "file",
    so a form shows it at its file field."""

    def __init__(self, message: str, code: str):
        super().__init__({"file": [ValidationError(message, code=code)]})
        self.message_text = message
        self.code = code


class Formula(str):
    """The text of a formula cell ("=SUM(B2:B6)"), so the reader can refuse it."""

    __slots__ = ()


class UnreadableRow(Exception):
    """Reading stopped at `position`: `message` says why (rows before it were read)."""

    def __init__(self, position: int, message: str):
        super().__init__(message)
        self.position = position
        self.message = message


class TooManyRows(UnreadableRow):
    """The sheet goes on past the rows a workbook import reads: the whole file is refused
    (WorkbookRefused), whatever its first rows hold."""


@dataclass
class Table:
    """Rows of a CSV file or of one sheet: `rows` yields (line or row number, cells),
    blank rows included, and may raise UnreadableRow. `sheet` is the sheet's name ("" for
    CSV); `delimiter` the CSV's (None for a sheet)."""

    rows: Iterator[tuple[int, list[str]]]
    sheet: str = ""
    delimiter: str | None = None

    @property
    def position_label(self) -> str:
        return "row" if self.sheet else "line"


# --------------------------------------------------------------------------- reading


def _suffix(filename: str) -> str:
    return os.path.splitext((filename or "").lower())[1]


def is_workbook(data: bytes, filename: str = "") -> bool:
    """True if `data` is a zip (an .xlsx is one); False for text, to be read as CSV.
    A name or content that says spreadsheet but is not an .xlsx is refused here, so a
    renamed CSV or an old .xls never reaches the CSV reader."""
    head = bytes(data[:8])
    if head.startswith(OLE_MAGIC):
        raise WorkbookRefused(
            "This is an Excel 97-2003 workbook (.xls) or a password-protected one, which "
            "Tandem cannot read. Save it as Excel Workbook (.xlsx) without a password, or "
            "as CSV UTF-8.",
            code="old_format",
        )
    if head.startswith(ZIP_MAGIC):
        return True
    if _suffix(filename) in SPREADSHEET_SUFFIXES:
        raise WorkbookRefused(
            f"{os.path.basename(filename)} is not an Excel workbook: its content is not "
            "that of an .xlsx file (a CSV file renamed?). Upload it with a .csv name, or "
            "open it in Excel and save it as Excel Workbook (.xlsx).",
            code="not_a_workbook",
        )
    return False


def _check_zip(data: bytes) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise WorkbookRefused(
            "This file is damaged or is not an Excel workbook: it cannot be opened as "
            ".xlsx. Save it again from Excel as Excel Workbook (.xlsx), or as CSV UTF-8.",
            code="not_a_workbook",
        ) from exc
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise WorkbookRefused(
                f"This workbook has {len(members):,} parts; at most {MAX_MEMBERS:,} are read.",
                code="too_large",
            )
        names = {member.filename.lower() for member in members}
        if any(name.endswith("vbaproject.bin") for name in names):
            raise WorkbookRefused(
                "This workbook contains macros (.xlsm), which Tandem does not accept. "
                "Save it as Excel Workbook (.xlsx) without macros, or as CSV UTF-8.",
                code="macros",
            )
        if "xl/workbook.xml" not in names:
            raise WorkbookRefused(
                "This file is a zip archive but not an Excel workbook (.xlsx). Upload the "
                "workbook itself, or the data as CSV UTF-8.",
                code="not_a_workbook",
            )
        loaded = [
            member
            for member in members
            if not member.filename.lower().startswith("xl/worksheets/")
            and member.file_size > MAX_LOADED_PART_BYTES
        ]
        if loaded:
            raise WorkbookRefused(
                f"This workbook's part {loaded[0].filename} unpacks to "
                f"{loaded[0].file_size / 1_000_000:,.0f} MB; the limit is "
                f"{MAX_LOADED_PART_BYTES // 1_000_000:,} MB. Save the sheet alone as a new "
                "workbook, or as CSV UTF-8.",
                code="too_large",
            )
        unpacked = sum(member.file_size for member in members)
        if unpacked > MAX_UNPACKED_BYTES:
            raise WorkbookRefused(
                f"This workbook unpacks to {unpacked / 1_000_000:,.0f} MB; the limit is "
                f"{MAX_UNPACKED_BYTES // 1_000_000:,} MB. Split it, or save it as CSV UTF-8.",
                code="too_large",
            )
        for member in members:
            if _reads_whole_at_open(archive, member):
                raise WorkbookRefused(
                    f"The sheet {member.filename} has no size record (<dimension>), so it "
                    "would be read whole before its first row. Save the workbook again from "
                    "Excel or LibreOffice (which write one), or as CSV UTF-8.",
                    code="no_dimension",
                )


def _reads_whole_at_open(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> bool:
    """A big sheet without a <dimension> record before its data (only its first 64 KB
    are unpacked to tell)."""
    name = member.filename.lower()
    if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
        return False
    if member.file_size <= MAX_SHEET_WITHOUT_DIMENSION_BYTES:
        return False
    try:
        with archive.open(member) as stream:
            head = stream.read(65_536)
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError):
        return False  # openpyxl's own open then says the file is damaged
    dimension, data = _DIMENSION.search(head), _SHEET_DATA.search(head)
    return dimension is None or (data is not None and data.start() < dimension.start())


def _cell_text(value, data_type: str) -> str:
    """A cell as the text a CSV file would hold for it."""
    if value is None:
        return ""
    if data_type == "f":
        return Formula(getattr(value, "text", None) or str(value))
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return value.date().isoformat()  # a date typed in Excel is a midnight datetime
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))  # 12.0, how Excel stores every number, is 12
        return repr(value)  # the shortest text that is this float: 0.1, not 0.1000…01
    return str(value)


def workbook_table(data: bytes, *, sheet: str | None = None, max_rows: int | None = None) -> Table:
    """The rows of a workbook's first sheet (or the one called `sheet`). Raises
    WorkbookRefused for a file that is not a workbook one may read; the rows' iterator
    raises UnreadableRow past `max_rows` (default MAX_ROWS) data rows or at a damaged
    part."""
    import openpyxl  # imported here: only imports of workbooks pay for it

    data = bytes(data)
    _check_zip(data)
    try:
        workbook = openpyxl.load_workbook(
            io.BytesIO(data), read_only=True, data_only=False, keep_links=False
        )
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise WorkbookRefused(
            "This workbook cannot be read (it is damaged or not a real .xlsx). Save it "
            "again from Excel as Excel Workbook (.xlsx), or as CSV UTF-8.",
            code="not_a_workbook",
        ) from exc
    if sheet:
        if sheet not in workbook.sheetnames:
            names = ", ".join(repr(name) for name in workbook.sheetnames)
            workbook.close()
            raise WorkbookRefused(
                f"The workbook has no sheet called {sheet!r}; its sheets are {names}.",
                code="no_such_sheet",
            )
        worksheet = workbook[sheet]
    elif workbook.worksheets:
        worksheet = workbook.worksheets[0]
    else:
        workbook.close()
        raise WorkbookRefused("The workbook has no worksheet.", code="empty")
    if not hasattr(worksheet, "iter_rows"):  # a chart sheet
        workbook.close()
        raise WorkbookRefused(
            f"The sheet {worksheet.title!r} is a chart; name a sheet with the data.",
            code="no_such_sheet",
        )
    # The stored dimension may claim A1:XFD1048576: ignore it, read only cells present.
    worksheet.reset_dimensions()
    limit = MAX_ROWS if max_rows is None else max_rows
    return Table(rows=_sheet_rows(workbook, worksheet, limit), sheet=worksheet.title)


def _sheet_rows(workbook, worksheet, max_rows: int) -> Iterator[tuple[int, list[str]]]:
    last_row = max_rows + 1  # the header and max_rows data rows (blank rows count too)
    number = 0
    try:
        for number, row in enumerate(worksheet.iter_rows(), start=1):
            if number > last_row:
                raise TooManyRows(
                    number,
                    f"The sheet goes on past row {last_row:,}: at most {max_rows:,} rows "
                    "are imported from a workbook. Split it into several files, or save it "
                    "as CSV UTF-8 (no row limit).",
                )
            yield number, [_cell_text(cell.value, cell.data_type) for cell in row]
    except UnreadableRow:
        raise
    except Exception as exc:  # damaged XML part way through the sheet
        raise UnreadableRow(
            number + 1, "The sheet cannot be read from this row on (the file is damaged)."
        ) from exc
    finally:
        workbook.close()


# --------------------------------------------------------------------------- writing

UNITS_FORMAT = "#,##0"
MONEY_FORMAT = "#,##0.00"
DECIMAL_FORMAT = "#,##0.0##"
PERCENT_FORMAT = "0.0%"
DATE_FORMAT = "yyyy-mm-dd"
MONTH_FORMAT = "mmm yyyy"
_NUMBER_FORMATS = {
    "units": UNITS_FORMAT,
    "money": MONEY_FORMAT,
    "decimal": DECIMAL_FORMAT,
    "percent": PERCENT_FORMAT,
    "date": DATE_FORMAT,
    "week": DATE_FORMAT,
    "month": MONTH_FORMAT,
}


@dataclass(frozen=True)
class XlsxColumn:
    """One column of a downloaded sheet. `kind`: text, units (whole numbers), money
    (two decimals), decimal, percent (a fraction), date, week (its Monday, as a date;
    pair it with a text column of the ISO week where people read weeks by number), month
    (its first day, shown as Nov 2026)."""

    header: str
    kind: str = "text"
    width: float | None = None

    @property
    def number_format(self) -> str | None:
        return _NUMBER_FORMATS.get(self.kind)

    @property
    def display_width(self) -> float:
        if self.width:
            return self.width
        minimum = {"date": 12, "week": 12, "month": 10, "money": 14, "units": 11}.get(self.kind, 10)
        return max(minimum, len(self.header) + 2)


@dataclass(frozen=True)
class XlsxSheet:
    title: str
    columns: Sequence[XlsxColumn]
    rows: Iterable[Sequence]


def sheet_title(text: str) -> str:
    """A valid sheet name: at most 31 characters, none of []:*?/\\."""
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in text).strip("' ")
    return (cleaned or "Sheet")[:31]


def text_cell(worksheet, value: str):
    """A cell holding `value` as text, whatever it starts with ("=1+2" stays text)."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    cell = WriteOnlyCell(worksheet, ILLEGAL_CHARACTERS_RE.sub("", value))
    cell.data_type = "s"  # openpyxl made a str starting with "=" a formula
    return cell


def _value_cell(worksheet, value, column: XlsxColumn):
    from openpyxl.cell import WriteOnlyCell

    if isinstance(value, str):
        return text_cell(worksheet, value)
    if isinstance(value, dt.datetime):  # Excel has no time zones: the local time
        value = (
            timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
        )
        if column.kind in {"date", "week", "month"}:
            value = value.date()
    if isinstance(value, Decimal) and column.kind in {"units", "money", "decimal", "percent"}:
        value = float(value)  # Excel numbers are doubles; the format shows the places
    cell = WriteOnlyCell(worksheet, value)
    if value is not None and column.number_format:
        cell.number_format = column.number_format
    return cell


def write_sheet(workbook, sheet: XlsxSheet) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    worksheet = workbook.create_sheet(sheet_title(sheet.title))
    for index, column in enumerate(sheet.columns, start=1):
        worksheet.column_dimensions[get_column_letter(index)].width = column.display_width
    worksheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for column in sheet.columns:
        cell = text_cell(worksheet, column.header)
        cell.font = bold
        header.append(cell)
    worksheet.append(header)
    count = 0
    for row in sheet.rows:
        worksheet.append(
            [
                _value_cell(worksheet, value, column)
                for value, column in zip(row, sheet.columns, strict=True)
            ]
        )
        count += 1
    if count:
        worksheet.auto_filter.ref = f"A1:{get_column_letter(len(sheet.columns))}{count + 1}"


def workbook_bytes(sheets: Sequence[XlsxSheet]) -> bytes:
    """An .xlsx of these sheets (written in write-only mode: rows are not kept)."""
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    for sheet in sheets:
        write_sheet(workbook, sheet)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_response(filename: str, sheets: Sequence[XlsxSheet]) -> HttpResponse:
    """A download of these sheets as `filename` (ending .xlsx)."""
    response = HttpResponse(workbook_bytes(sheets), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def week_columns(header: str = "Week") -> tuple[XlsxColumn, XlsxColumn]:
    """A week as two columns: its Monday (a real date, sortable) and its ISO label."""
    return XlsxColumn(header, "week"), XlsxColumn("ISO week", "text", 10)


def download_name(*parts: str) -> str:
    """A file name for a download: the parts joined by "-", only letters, digits, dots,
    dashes and underscores kept (a SKU or name may hold anything), ending .xlsx."""
    text = "-".join(part for part in parts if part)
    safe = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "._-") else "_" for ch in text)
    return f"{safe.strip('._') or 'download'}.xlsx"
