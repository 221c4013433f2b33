"""How fast does a 1,000,000-row sales history import run on PostgreSQL, next to the
database's own bulk load of the same rows?

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/import_sales_speed.py [--products 2000] [--weeks 500] \\
        [--repeat 3] [--orm-baseline] [--database tandem_bench]

The DATABASE_URL only says which server to use: the script creates its own database
(--database, default `tandem_bench`), migrates it, and drops it at the end; it never
touches the dev or test database. It writes a CSV of products x weeks rows (2,000 x 500 =
1,000,000) and times, --repeat times each (medians printed, every run listed):

- the floor: a bare COPY of the same rows (product id, week, units, updated_at; the text
  prepared beforehand, untimed) into the same, empty, indexed sales table, committed;
- end to end: sales_import_rows on the file (what `manage.py import_sales` and the API
  run: read, check every row, resolve SKUs, write, ask for a recompute, commit) into the
  empty table, and again over the same rows (the re-import); the peak memory of this
  process is read right after these, before anything else holds a million rows;
- its parts: parse + validate (demand.csv_import.parse_csv), and the write
  (demand.services.sales_import.upsert_quantities) into the empty table and over it;
- with --orm-baseline, Django's bulk_create(update_conflicts=True) in 5,000-row batches
  on the same rows (a minute or two).

Targets (issue 18): end to end, new rows, at most 2x the bare COPY and under 10 s; peak
memory under 500 MB. The table is truncated and VACUUM ANALYZEd before each load into
an empty table. The recompute the import asks for is recorded (the outbox row) but not
run: in production a worker does that, after the import has committed.
"""

from __future__ import annotations

import argparse
import io
import random
import resource
import statistics
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


TARGET_X, TARGET_SECONDS, TARGET_MB = 2.0, 10.0, 500


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(products: int, weeks: int, repeat: int, orm_baseline: bool) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from coordination.models import Product, ProductLine, RecomputeRequest
    from coordination.services import recompute
    from coordination.weeks import add_weeks, current_week, iso_label
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
    table = SalesActual._meta.db_table

    def truncate():
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {table}")
            cursor.execute(f"VACUUM ANALYZE {table}")

    def medians(label: str, runs: list[float]) -> float:
        value = statistics.median(runs)
        listed = " / ".join(f"{run:.2f}" for run in runs)
        print(f"{label:<52} {value:8.2f} s  {rows / value:>12,.0f} rows/s   ({listed})", flush=True)
        return value

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "sales.csv"
        rows, _ = timed(
            "generate the CSV", products * weeks, lambda: write_csv(path, skus, week_list)
        )
        size_mb = path.stat().st_size / 1_000_000
        print(f"{rows:,} rows, {products:,} products x {weeks} weeks, {size_mb:.1f} MB\n")

        # The floor: the same rows as COPY text, loaded by the database alone.
        ids = dict(Product.objects.values_list("sku", "id"))
        day_of = {iso_label(week): week.isoformat() for week in week_list}
        stamp = timezone.now().isoformat()
        with path.open(encoding="utf-8") as handle:
            next(handle)
            copy_text = [
                "".join(
                    f"{ids[sku]}\t{day_of[label]}\t{units.rstrip()}\t{stamp}\n"
                    for sku, label, units in (line.split(",") for line in handle)
                )
            ]

        def bare_copy():
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.copy_expert(
                    f"COPY {table} (product_id, week, units, updated_at) FROM STDIN",
                    io.StringIO(copy_text[0]),
                )

        copy_runs = []
        for _ in range(repeat):
            truncate()
            copy_runs.append(timed_quietly(bare_copy))
        copy_text.clear()

        def end_to_end():
            with path.open(encoding="utf-8-sig", newline="") as handle:
                return sales_import_rows(
                    actor=actor, rows=handle, source="command", filename="sales.csv"
                )

        new_runs, again_runs = [], []
        for _ in range(repeat):
            truncate()
            seconds, record = timed_quietly(end_to_end, result=True)
            assert (record.created_count, record.updated_count) == (rows, 0), record
            new_runs.append(seconds)
            seconds, record = timed_quietly(end_to_end, result=True)
            assert (record.created_count, record.updated_count) == (0, rows), record
            again_runs.append(seconds)
            del record
        assert RecomputeRequest.objects.filter(source="sales_import").count() == 2 * repeat
        import_peak = peak_mb()

        def parse():
            with path.open(encoding="utf-8-sig", newline="") as handle:
                return parse_csv(handle, SALES_ROWS)

        parse_runs, parsed = [], None
        for _ in range(repeat):
            parsed = None
            seconds, parsed = timed_quietly(parse, result=True)
            parse_runs.append(seconds)
        assert parsed.is_valid, parsed.errors[:5]

        def ours():
            with transaction.atomic():
                return upsert_quantities(
                    SalesActual,
                    date_field="week",
                    quantity_field="units",
                    key_field="channel",
                    records=parsed.records(),
                )

        write_runs, rewrite_runs = [], []
        for _ in range(repeat):
            truncate()
            seconds, counts = timed_quietly(ours, result=True)
            assert counts == (rows, 0), counts
            write_runs.append(seconds)
            seconds, counts = timed_quietly(ours, result=True)
            assert counts == (0, rows), counts
            rewrite_runs.append(seconds)

        copy_s = medians("floor: bare COPY into the indexed table, committed", copy_runs)
        new_s = medians("end to end: sales_import_rows, empty table", new_runs)
        again_s = medians("end to end: sales_import_rows, re-import", again_runs)
        medians("  of which: parse + validate (csv_import.parse_csv)", parse_runs)
        medians("  of which: write, empty table (upsert_quantities)", write_runs)
        medians("  of which: write, same rows again", rewrite_runs)

        if orm_baseline:

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

            truncate()
            timed("baseline: bulk_create(update_conflicts), empty", rows, baseline)
            timed("baseline: bulk_create(update_conflicts), again", rows, baseline)

    ratio = new_s / copy_s
    print()
    print(
        f"end to end, new rows: {new_s:.2f} s = {ratio:.2f}x the bare COPY "
        f"(target <= {TARGET_X:g}x: {'met' if ratio <= TARGET_X else 'MISSED'}; "
        f"< {TARGET_SECONDS:g} s: {'met' if new_s < TARGET_SECONDS else 'MISSED'})"
    )
    print(f"end to end, re-import: {again_s:.2f} s = {again_s / copy_s:.2f}x the bare COPY")
    print(
        f"peak memory of this process through the imports: {import_peak:.0f} MB "
        f"(target < {TARGET_MB} MB: {'met' if import_peak < TARGET_MB else 'MISSED'}); "
        f"at the end: {peak_mb():.0f} MB"
    )


def timed_quietly(func, *, result: bool = False):
    started = time.perf_counter()
    value = func()
    seconds = time.perf_counter() - started
    return (seconds, value) if result else seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--weeks", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--orm-baseline", action="store_true", help="also time bulk_create (slow)")
    parser.add_argument(
        "--database",
        default=BENCH_DB,
        help=f"the database to create and drop (default {BENCH_DB}); give each run its own",
    )
    args = parser.parse_args()

    with bench_database(args.database):
        run(args.products, args.weeks, args.repeat, args.orm_baseline)


if __name__ == "__main__":
    main()
