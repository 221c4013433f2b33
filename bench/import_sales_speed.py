"""How fast does a 1,000,000-row sales history import run on PostgreSQL?

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tandem \\
        .venv/bin/python bench/import_sales_speed.py [--products 2000] [--weeks 500]

The DATABASE_URL only says which server to use: the script creates its own database
(`tandem_bench`), migrates it, and drops it at the end; it never touches the dev or
test database. It writes a CSV of products x weeks rows (2,000 x 500 = 1,000,000) and
times, separately:

- parse + validate: demand.csv_import.parse_csv with the sales RowParser;
- apply: demand.services.sales_import.upsert_quantities (COPY into a temporary table,
  then one INSERT ... ON CONFLICT DO UPDATE), into an empty table and again over it;
- end to end: sales_import_rows (what `manage.py import_sales` and the API run);
- the baseline: Django's bulk_create(update_conflicts=True) in 5,000-row batches on
  the same rows, into an empty table and again over it.

The recompute the import asks for is recorded (the outbox row) but not run: in
production a worker does that, after the import has committed.
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time
from pathlib import Path

from _database import bench_database

BENCH_DB = "tandem_bench"


def timed(label: str, rows: int, func):
    started = time.perf_counter()
    result = func()
    seconds = time.perf_counter() - started
    print(f"{label:<52} {seconds:8.2f} s  {rows / seconds:>12,.0f} rows/s", flush=True)
    return result, seconds


def write_csv(path: Path, skus: list[str], weeks: list, seed: int = 42) -> int:
    from coordination.weeks import iso_label

    rng = random.Random(seed)
    labels = [iso_label(week) for week in weeks]
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("sku,week,units\n")
        for sku in skus:
            handle.write("".join(f"{sku},{label},{rng.randint(0, 500)}\n" for label in labels))
            rows += len(labels)
    return rows


def run(products: int, weeks: int) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from coordination.models import Product, ProductLine, RecomputeRequest
    from coordination.services import recompute
    from coordination.weeks import add_weeks, current_week
    from demand.csv_import import parse_csv
    from demand.models import SalesActual
    from demand.services.sales_import import SALES_ROWS, sales_import_rows, upsert_quantities

    # The planner runs in a worker after commit; here only the outbox row is written.
    recompute.enqueue = lambda request_id: True

    family = ProductLine.objects.create(name="Bench")
    skus = [f"BEN-{i:05d}" for i in range(products)]
    Product.objects.bulk_create(
        Product(sku=sku, name=sku, product_line=family, unit_price=2, unit_cost=1) for sku in skus
    )
    actor = get_user_model().objects.create(username="bench", is_superuser=True)
    first = add_weeks(current_week(), -(weeks + 1))
    week_list = [add_weeks(first, k) for k in range(weeks)]

    def truncate():
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {SalesActual._meta.db_table}")
            cursor.execute(f"VACUUM ANALYZE {SalesActual._meta.db_table}")

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "sales.csv"
        rows, _ = timed(
            "generate the CSV", products * weeks, lambda: write_csv(path, skus, week_list)
        )
        size_mb = path.stat().st_size / 1_000_000
        print(f"{rows:,} rows, {products:,} products x {weeks} weeks, {size_mb:.1f} MB\n")

        def parse():
            with path.open(encoding="utf-8-sig", newline="") as handle:
                return parse_csv(handle, SALES_ROWS)

        parsed, parse_s = timed("parse + validate (csv_import.parse_csv)", rows, parse)
        assert parsed.is_valid, parsed.errors[:5]

        def ours():
            with transaction.atomic():
                return upsert_quantities(
                    SalesActual,
                    date_field="week",
                    quantity_field="units",
                    records=parsed.records(),
                )

        def baseline():
            with transaction.atomic():
                batch = []
                for product_id, week, units in parsed.records():
                    batch.append(SalesActual(product_id=product_id, week=week, units=units))
                    if len(batch) == 5000:
                        SalesActual.objects.bulk_create(
                            batch,
                            update_conflicts=True,
                            unique_fields=["product", "week"],
                            update_fields=["units", "updated_at"],
                        )
                        batch = []
                if batch:
                    SalesActual.objects.bulk_create(
                        batch,
                        update_conflicts=True,
                        unique_fields=["product", "week"],
                        update_fields=["units", "updated_at"],
                    )

        def end_to_end():
            with path.open(encoding="utf-8-sig", newline="") as handle:
                return sales_import_rows(
                    actor=actor, rows=handle, source="command", filename="sales.csv"
                )

        truncate()
        counts, insert_s = timed("apply, empty table (COPY + upsert)", rows, ours)
        assert counts == (rows, 0), counts
        counts, update_s = timed("apply again, same rows (COPY + upsert)", rows, ours)
        assert counts == (0, rows), counts

        truncate()
        _, base_insert_s = timed("baseline: bulk_create(update_conflicts), empty", rows, baseline)
        _, base_update_s = timed("baseline: bulk_create(update_conflicts), again", rows, baseline)
        assert SalesActual.objects.count() == rows

        truncate()
        record, e2e_insert_s = timed("end to end: sales_import_rows, empty table", rows, end_to_end)
        assert (record.created_count, record.updated_count) == (rows, 0)
        record, e2e_update_s = timed("end to end: sales_import_rows, re-import", rows, end_to_end)
        assert (record.created_count, record.updated_count) == (0, rows)
        assert RecomputeRequest.objects.filter(source="sales_import").count() == 2

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print()
    print(f"parse + validate + apply, new rows:      {parse_s + insert_s:6.2f} s")
    print(f"parse + validate + apply, re-import:     {parse_s + update_s:6.2f} s")
    print(f"apply vs baseline, new rows:             {base_insert_s / insert_s:6.1f}x faster")
    print(f"apply vs baseline, re-import:            {base_update_s / update_s:6.1f}x faster")
    print(f"end to end (sales_import_rows), new:     {e2e_insert_s:6.2f} s")
    print(f"end to end (sales_import_rows), again:   {e2e_update_s:6.2f} s")
    print(
        "end to end vs parse + baseline, new:     "
        f"{(parse_s + base_insert_s) / e2e_insert_s:6.1f}x faster"
    )
    print(f"peak memory of this process:             {peak_mb:6.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--weeks", type=int, default=500)
    args = parser.parse_args()

    with bench_database(BENCH_DB):
        run(args.products, args.weeks)


if __name__ == "__main__":
    main()
