"""demand.xlsx: real workbooks written with openpyxl and read back; hostile files
built as the zip archives they are."""

import datetime as dt
import io
import tracemalloc
import zipfile
from decimal import Decimal

import pytest
from openpyxl.styles.numbers import FORMAT_GENERAL

from demand import xlsx
from demand.xlsx import Formula, UnreadableRow, WorkbookRefused, XlsxColumn, XlsxSheet
from tests.workbooks import (
    full_height_sheet,
    macro_workbook,
    read_back,
    with_member,
    workbook,
    zip_bomb,
)


def rows_of(data: bytes, **options) -> tuple[str, list]:
    table = xlsx.workbook_table(data, **options)
    return table.sheet, list(table.rows)


def refusal(call) -> tuple[str, str]:
    with pytest.raises(WorkbookRefused) as caught:
        call()
    return caught.value.code, caught.value.message_dict["file"][0]


# --------------------------------------------------------------------------- reading


def test_cells_read_as_the_text_a_csv_file_would_hold():
    data = workbook(
        ("sku", "week", "units", "note"),
        ("BEV-1001", dt.datetime(2024, 1, 3), 12.0, True),
        ("jce-2002", "2024-W02", 7, None),
        ("X", dt.date(2024, 1, 10), 12.5, "=SUM(C2:C3)"),
        (),
        (None, None, 1e20, 0.1),
        formats={"B3": "yyyy-mm-dd"},
    )
    sheet, rows = rows_of(data)
    assert sheet == "Sheet1"
    assert rows == [
        (1, ["sku", "week", "units", "note"]),
        (2, ["BEV-1001", "2024-01-03", "12", "TRUE"]),
        (3, ["jce-2002", "2024-W02", "7"]),
        (4, ["X", "2024-01-10", "12.5", "=SUM(C2:C3)"]),
        (5, []),
        (6, ["", "", "1e+20", "0.1"]),
    ]
    assert [type(cell) for cell in rows[3][1]] == [str, str, str, Formula]


@pytest.mark.parametrize(
    ("value", "data_type", "text"),
    [
        (12.0, "n", "12"),
        (-3.0, "n", "-3"),
        (125000.55, "n", "125000.55"),
        (0.1 + 0.2, "n", "0.30000000000000004"),
        (1e16, "n", "1e+16"),
        (7, "n", "7"),
        (False, "b", "FALSE"),
        (dt.datetime(2026, 11, 23, 14, 30), "d", "2026-11-23"),
        (dt.time(9, 30), "d", "09:30:00"),
        (None, "n", ""),
        ("#N/A", "e", "#N/A"),
    ],
)
def test_each_kind_of_cell_value_as_text(value, data_type, text):
    assert xlsx._cell_text(value, data_type) == text


def test_a_named_sheet_is_read_and_an_unknown_one_is_refused():
    data = workbook(("a",), (1,), sheets={"Sales 2024": [("sku", "week"), ("BEV-1001", "W")]})
    assert rows_of(data, sheet="Sales 2024") == (
        "Sales 2024",
        [(1, ["sku", "week"]), (2, ["BEV-1001", "W"])],
    )
    assert refusal(lambda: xlsx.workbook_table(data, sheet="Sales")) == (
        "no_such_sheet",
        "The workbook has no sheet called 'Sales'; its sheets are 'Sheet1', 'Sales 2024'.",
    )


def test_content_not_the_name_says_what_a_file_is():
    data = workbook(("sku",), ("BEV-1001",))
    assert xlsx.is_workbook(data, "export.csv") is True
    assert xlsx.is_workbook(b"sku,week,units\n", "export.csv") is False
    assert xlsx.is_workbook(b"sku,week,units\n") is False


def test_a_csv_file_renamed_to_xlsx_is_refused():
    assert refusal(
        lambda: xlsx.is_workbook(b"sku,week,units\nBEV-1001,2024-W01,1\n", "s.xlsx")
    ) == (
        "not_a_workbook",
        "s.xlsx is not an Excel workbook: its content is not that of an .xlsx file (a CSV "
        "file renamed?). Upload it with a .csv name, or open it in Excel and save it as "
        "Excel Workbook (.xlsx).",
    )


def test_an_old_xls_or_password_protected_workbook_is_refused():
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    assert refusal(lambda: xlsx.is_workbook(ole, "budget.csv")) == (
        "old_format",
        "This is an Excel 97-2003 workbook (.xls) or a password-protected one, which Tandem "
        "cannot read. Save it as Excel Workbook (.xlsx) without a password, or as CSV UTF-8.",
    )


def test_a_zip_that_is_not_a_workbook_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    assert refusal(lambda: xlsx.workbook_table(buffer.getvalue())) == (
        "not_a_workbook",
        "This file is a zip archive but not an Excel workbook (.xlsx). Upload the workbook "
        "itself, or the data as CSV UTF-8.",
    )


def test_a_damaged_workbook_is_refused():
    data = workbook(("sku",), ("BEV-1001",))
    assert refusal(lambda: xlsx.workbook_table(data[: len(data) // 2])) == (
        "not_a_workbook",
        "This file is damaged or is not an Excel workbook: it cannot be opened as .xlsx. "
        "Save it again from Excel as Excel Workbook (.xlsx), or as CSV UTF-8.",
    )
    broken = with_member(workbook(("sku",)), "xl/worksheets/sheet2.xml", b"<not xml")
    broken = broken.replace(b"xl/workbook.xml", b"xl/workbook.xmX")  # no workbook part
    assert refusal(lambda: xlsx.workbook_table(broken))[0] == "not_a_workbook"


def test_a_workbook_with_macros_is_refused():
    assert refusal(lambda: xlsx.workbook_table(macro_workbook())) == (
        "macros",
        "This workbook contains macros (.xlsm), which Tandem does not accept. Save it as "
        "Excel Workbook (.xlsx) without macros, or as CSV UTF-8.",
    )


def test_a_zip_bomb_is_refused_before_anything_is_unpacked():
    bomb = zip_bomb(301_000_000)
    assert len(bomb) < 1_000_000  # packed
    tracemalloc.start()
    try:
        code, message = refusal(lambda: xlsx.workbook_table(bomb))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert code == "too_large"
    assert message == (
        "This workbook unpacks to 301 MB; the limit is 300 MB. Split it, or save it as CSV UTF-8."
    )
    assert peak < 5_000_000  # the 301 MB were never unpacked


def test_a_huge_part_that_openpyxl_would_load_whole_is_refused():
    bomb = zip_bomb(51_000_000, member="xl/sharedStrings.xml")
    assert refusal(lambda: xlsx.workbook_table(bomb)) == (
        "too_large",
        "This workbook's part xl/sharedStrings.xml unpacks to 51 MB; the limit is 50 MB. "
        "Save the sheet alone as a new workbook, or as CSV UTF-8.",
    )


def test_a_sheet_of_1048576_rows_stops_at_the_row_limit_without_loading_the_sheet():
    data = full_height_sheet()
    sheet_xml = zipfile.ZipFile(io.BytesIO(data)).getinfo("xl/worksheets/sheet1.xml")
    assert sheet_xml.file_size > 150_000_000  # what loading it whole would cost
    tracemalloc.start()
    try:
        table = xlsx.workbook_table(data, max_rows=2_000)
        read = []
        with pytest.raises(UnreadableRow) as caught:
            for position, _cells in table.rows:
                read.append(position)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert read == list(range(1, 2_002))  # the header and 2,000 data rows
    assert caught.value.position == 2_002
    assert caught.value.message == (
        "The sheet goes on past row 2,001: at most 2,000 rows are imported from a workbook. "
        "Split it into several files, or save it as CSV UTF-8 (no row limit)."
    )
    assert peak < 20_000_000


def test_a_big_sheet_without_a_dimension_record_is_refused_before_openpyxl_reads_it():
    data = full_height_sheet(dimension=False)
    tracemalloc.start()
    try:
        code, message = refusal(lambda: xlsx.workbook_table(data))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (code, message) == (
        "no_dimension",
        "The sheet xl/worksheets/sheet1.xml has no size record (<dimension>), so it would "
        "be read whole before its first row. Save the workbook again from Excel or "
        "LibreOffice (which write one), or as CSV UTF-8.",
    )
    assert peak < 5_000_000  # openpyxl never opened it


def test_a_small_sheet_without_a_dimension_record_is_read():
    data = full_height_sheet(rows=3, dimension=False)
    assert b"<dimension" not in zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    assert rows_of(data)[1] == [
        (1, ["sku", "week", "units"]),
        (2, ["BEV-1001", "2024-W01", "1"]),
        (3, ["BEV-1001", "2024-W01", "1"]),
    ]


def test_a_sheet_claiming_a_huge_dimension_reads_only_its_cells():
    data = workbook(("sku", "week"), ("BEV-1001", "2024-W01"))
    source = zipfile.ZipFile(io.BytesIO(data))
    sheet = source.read("xl/worksheets/sheet1.xml").replace(
        b'<dimension ref="A1:B2" />', b'<dimension ref="A1:XFD1048576" />'
    )
    assert b"XFD1048576" in sheet
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(
                info, sheet if info.filename.endswith("sheet1.xml") else source.read(info)
            )
    assert rows_of(out.getvalue())[1] == [(1, ["sku", "week"]), (2, ["BEV-1001", "2024-W01"])]


# --------------------------------------------------------------------------- writing

COLUMNS = [
    XlsxColumn("SKU", "text"),
    XlsxColumn("Week", "week"),
    XlsxColumn("ISO week", "text", 10),
    XlsxColumn("Units", "units"),
    XlsxColumn("Revenue", "money"),
    XlsxColumn("Share", "percent"),
    XlsxColumn("Note", "text", 40),
]


def test_a_downloaded_sheet_is_formatted_and_holds_no_formula_from_user_text():
    rows = [
        ["BEV-1001", dt.date(2026, 11, 23), "2026-W48", 1234567, Decimal("98765.5"), 0.25, "=1+2"],
        ["JCE-2002", dt.date(2026, 11, 30), "2026-W49", 0, Decimal("0.10"), None, "+SUM(A1)"],
        ["X", None, "", None, None, 1, "-2 @bell\x07 cmd|' /C calc'!A0"],
        ["Y", None, "", None, None, None, '@HYPERLINK("http://x")'],
    ]
    content = xlsx.workbook_bytes([XlsxSheet("Quotas: line [A]", COLUMNS, rows)])
    book = read_back(content)
    assert book.sheetnames == ["Quotas  line  A"]
    sheet = book.active
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:G5"
    assert [cell.value for cell in sheet[1]] == [c.header for c in COLUMNS]
    assert all(cell.font.b for cell in sheet[1])
    assert [sheet.column_dimensions[letter].width for letter in "ABCDEFG"] == [
        10,
        12,
        10,
        11,
        14,
        10,
        40,
    ]
    assert [cell.value for cell in sheet[2]] == [
        "BEV-1001",
        dt.datetime(2026, 11, 23),
        "2026-W48",
        1234567,
        98765.5,
        0.25,
        "=1+2",
    ]
    assert [cell.number_format for cell in sheet[2]] == [
        FORMAT_GENERAL,
        "yyyy-mm-dd",
        FORMAT_GENERAL,
        "#,##0",
        "#,##0.00",
        "0.0%",
        FORMAT_GENERAL,
    ]
    notes = [sheet.cell(row=row, column=7) for row in range(2, 6)]
    assert [cell.value for cell in notes] == [
        "=1+2",
        "+SUM(A1)",
        "-2 @bell cmd|' /C calc'!A0",  # the control character dropped
        '@HYPERLINK("http://x")',
    ]
    assert [cell.data_type for cell in notes] == ["s", "s", "s", "s"]
    raw = zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in raw  # no formula anywhere in the file


def test_xlsx_response_is_an_attachment_of_the_right_type():
    response = xlsx.xlsx_response("plan 2026-11.xlsx", [XlsxSheet("S", COLUMNS[:1], [["a"]])])
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response["Content-Disposition"] == 'attachment; filename="plan 2026-11.xlsx"'
    assert read_back(response.content).active["A2"].value == "a"


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Plan", "Plan"),
        ("a/b\\c?d*e[f]g:h", "a b c d e f g h"),
        ("", "Sheet"),
        ("x" * 40, "x" * 31),
    ],
)
def test_sheet_titles_are_made_valid(title, expected):
    assert xlsx.sheet_title(title) == expected
