"""Real .xlsx files for the tests: written with openpyxl (or, for the hostile ones, as the
zip archives they are), never mocked."""

from __future__ import annotations

import io
import zipfile

import openpyxl

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook(*rows, title: str = "Sheet1", sheets: dict | None = None, formats=None) -> bytes:
    """A workbook whose first sheet `title` holds `rows` (first row: the header); more
    sheets from `sheets` ({title: rows}). A str starting with "=" is written as a formula,
    as Excel would keep it. `formats` maps a cell ("B2") to a number format."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(list(row))
    for cell, number_format in (formats or {}).items():
        sheet[cell].number_format = number_format
    for name, more in (sheets or {}).items():
        other = book.create_sheet(name)
        for row in more:
            other.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def with_member(data: bytes, name: str, content: bytes, *, compresslevel: int = 6) -> bytes:
    """`data` (a workbook) with one more zip member."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as target:
        for info in source.infolist():
            target.writestr(info, source.read(info.filename))
        target.writestr(name, content)
    return out.getvalue()


def zip_bomb(unpacked_bytes: int, member: str = "xl/worksheets/sheet9.xml") -> bytes:
    """A real workbook carrying a `member` of `unpacked_bytes` zeros (a few hundred KB
    packed): what a zip bomb looks like to the reader."""
    base = workbook(("sku", "week", "units"), ("BEV-1001", "2024-W01", 1))
    source = zipfile.ZipFile(io.BytesIO(base))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for info in source.infolist():
            target.writestr(info, source.read(info.filename))
        with target.open(member, "w", force_zip64=True) as padding:
            block = bytes(1_000_000)
            for _ in range(unpacked_bytes // len(block)):
                padding.write(block)
    return out.getvalue()


def macro_workbook() -> bytes:
    """A workbook with a VBA project, as Excel saves an .xlsm."""
    base = workbook(("sku", "week", "units"), ("BEV-1001", "2024-W01", 1))
    return with_member(base, "xl/vbaProject.bin", b"\xd0\xcf\x11\xe0" + bytes(508))


def full_height_sheet(rows: int = 1_048_576, *, dimension: bool = True) -> bytes:
    """A workbook whose first sheet has `rows` rows (Excel's maximum by default): header
    sku, week, units, then BEV-1001, 2024-W01, 1 on every row; with its <dimension>
    record (as Excel writes it) unless `dimension` is false. The sheet's XML is streamed
    into the zip, so building it takes seconds and little memory."""
    base = workbook(("sku", "week", "units"))
    source = zipfile.ZipFile(io.BytesIO(base))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target:
        for info in source.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                target.writestr(info, source.read(info.filename))
                continue
            with target.open(info.filename, "w", force_zip64=True) as sheet:
                sheet.write(
                    b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
                    b'openxmlformats.org/spreadsheetml/2006/main">'
                    + (b'<dimension ref="A1:C%d"/>' % rows if dimension else b"")
                    + b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>sku</t></is></c>'
                    b'<c r="B1" t="inlineStr"><is><t>week</t></is></c><c r="C1" '
                    b't="inlineStr"><is><t>units</t></is></c></row>'
                )
                chunk = []
                for n in range(2, rows + 1):
                    chunk.append(
                        b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>BEV-1001</t></is></c>'
                        b'<c r="B%d" t="inlineStr"><is><t>2024-W01</t></is></c>'
                        b'<c r="C%d"><v>1</v></c></row>' % (n, n, n, n)
                    )
                    if len(chunk) == 50_000:
                        sheet.write(b"".join(chunk))
                        chunk = []
                sheet.write(b"".join(chunk) + b"</sheetData></worksheet>")
    return out.getvalue()


def read_back(content: bytes):
    """A downloaded workbook, opened as Excel would (formulas as written)."""
    return openpyxl.load_workbook(io.BytesIO(content))


def row_values(sheet, row: int) -> list:
    """The values of a sheet's row (1 = the header), as openpyxl reads them back."""
    return [cell.value for cell in sheet[row]]
