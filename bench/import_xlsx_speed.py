"""What importing a workbook costs next to the same rows as CSV, on PostgreSQL, and how
a sheet of 1,048,576 rows is turned away.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/import_xlsx_speed.py [--products 200] [--weeks 500]

The DATABASE_URL only names the server: the script creates, migrates and drops its own
database (bench/_database.py). It writes products x weeks rows (200 x 500 = 100,000, the
workbook row limit) as an .xlsx the way Excel stores one (shared strings) and as CSV,
then times sales_import_rows (read, check, write, commit) on each into an empty table,
and prints the peak memory of this process. Then it builds a sheet of 1,048,576 rows
(Excel's maximum) and times the refusal, with the peak Python memory of the read
(tracemalloc; it slows the read, so the time is taken without it first).
"""

from __future__ import annotations

import argparse
import io
import random
import resource
import time
import tracemalloc
import zipfile

from _database import bench_database

BENCH_DB = "tandem_bench_xlsx"
SHEET = "xl/worksheets/sheet1.xml"


def excel_like_workbook(header: list[str], rows: list[list]) -> bytes:
    """An .xlsx whose sheet keeps its text in the shared strings table, as Excel saves
    one (openpyxl writes inline strings, which read about a third slower)."""
    import openpyxl

    base = io.BytesIO()
    openpyxl.Workbook().save(base)
    strings: dict[str, int] = {}

    def cell(ref: str, value) -> str:
        if isinstance(value, str):
            index = strings.setdefault(value, len(strings))
            return f'<c r="{ref}" t="s"><v>{index}</v></c>'
        return f'<c r="{ref}"><v>{value}</v></c>'

    letters = "ABCDEFGHIJ"
    body = [
        f'<row r="{n}">'
        + "".join(cell(f"{letters[k]}{n}", value) for k, value in enumerate(values))
        + "</row>"
        for n, values in enumerate([header, *rows], start=1)
    ]
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats'
        '.org/spreadsheetml/2006/main">'
        f'<dimension ref="A1:{letters[len(header) - 1]}{len(rows) + 1}"/><sheetData>'
        + "".join(body)
        + "</sheetData></worksheet>"
    )
    shared = (
        '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/'
        'spreadsheetml/2006/main">'
        + "".join(f"<si><t>{text}</t></si>" for text in strings)
        + "</sst>"
    )
    source = zipfile.ZipFile(io.BytesIO(base.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == SHEET:
                data = sheet.encode()
            elif info.filename == "[Content_Types].xml":
                data = data.replace(
                    b"</Types>",
                    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
                    b"</Types>",
                )
            elif info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdShared" Type="http://schemas.openxmlformats.org/'
                    b'officeDocument/2006/relationships/sharedStrings" '
                    b'Target="sharedStrings.xml"/></Relationships>',
                )
            target.writestr(info, data)
        target.writestr("xl/sharedStrings.xml", shared)
    return out.getvalue()


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(products: int, weeks: int) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection

    from coordination.models import Product, ProductLine
    from coordination.services import recompute
    from coordination.weeks import add_weeks, current_week, iso_label
    from demand.csv_import import parse_file
    from demand.models import SalesActual
    from demand.services.sales_import import SALES_ROWS, sales_import_rows
    from demand.xlsx import WorkbookRefused

    recompute.enqueue = lambda request_id: True  # the planner runs in a worker
    family = ProductLine.objects.create(name="Bench")
    skus = [f"BEN-{i:05d}" for i in range(products)]
    Product.objects.bulk_create(
        Product(sku=sku, name=sku, product_line=family, unit_price=2, unit_cost=1) for sku in skus
    )
    actor = get_user_model().objects.create(username="bench", is_superuser=True)
    first = add_weeks(current_week(), -(weeks + 1))
    labels = [iso_label(add_weeks(first, k)) for k in range(weeks)]
    rng = random.Random(42)
    rows = [[sku, label, rng.randint(0, 500)] for sku in skus for label in labels]
    workbook = excel_like_workbook(["sku", "week", "units"], rows)
    text = "sku,week,units\n" + "".join(f"{s},{w},{u}\n" for s, w, u in rows)
    print(f"{len(rows):,} rows: .xlsx {len(workbook) / 1e6:.1f} MB, CSV {len(text) / 1e6:.1f} MB")

    for label, content, name in (("CSV", text.encode(), "s.csv"), (".xlsx", workbook, "s.xlsx")):
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {SalesActual._meta.db_table}")
        started = time.perf_counter()
        record = sales_import_rows(actor=actor, rows=content, source="command", filename=name)
        seconds = time.perf_counter() - started
        print(
            f"import {label:<6} {seconds:6.2f} s  {len(rows) / seconds:>9,.0f} rows/s  "
            f"created {record.created_count:,}  peak RSS so far {peak_mb():,.0f} MB"
        )

    full = excel_like_workbook(["sku", "week", "units"], [[skus[0], labels[0], 1]] * 1_048_575)
    print(f"\n1,048,576-row sheet: .xlsx {len(full) / 1e6:.1f} MB")
    for traced in (False, True):
        if traced:
            tracemalloc.start()
        started = time.perf_counter()
        try:
            parse_file(full, SALES_ROWS, filename="full.xlsx")
        except WorkbookRefused as exc:
            message = exc.message_text
        seconds = time.perf_counter() - started
        peak = f", peak Python memory {tracemalloc.get_traced_memory()[1] / 1e6:.0f} MB"
        if traced:
            tracemalloc.stop()
        print(f"refused in {seconds:.1f} s{peak if traced else ''}")
    print(f"  {message}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument("--weeks", type=int, default=500)
    options = parser.parse_args()
    with bench_database(BENCH_DB):
        run(options.products, options.weeks)


if __name__ == "__main__":
    main()
