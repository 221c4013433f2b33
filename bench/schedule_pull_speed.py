"""How fast does an ERP pull the accepted production schedule over the REST API?

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tandem \\
        .venv/bin/python bench/schedule_pull_speed.py [--products 2000] [--lines 20] \\
        [--history 1] [--repeat 3] [--workers 1] [--via-services]

The DATABASE_URL only says which server to use: the script creates its own database
(`tandem_bench_api`), migrates it, and drops it at the end (bench/_database.py).

The schedule: --products products spread over --lines lines, a recommendation for every
product and week of the next 26 weeks, and --history + 1 rounds of "accept the whole
horizon of every line" (round k accepts recommendations scaled by 1 + 0.1 x (history - k),
the last round the recommendations themselves), so a full pull returns products x 26
current entries and history x that many superseded ones stay in the table, as they do on
a plant that re-accepts every week. Each round writes, per line, what
production.services.schedule.quotas_accept_range writes: one ScheduleRevision (its
summary), one activity event, and per changed cell the current entry superseded
(superseded_at, superseded_in, superseded_by) by a new accepted entry of that revision, in the same
order, so revisions and entry ids come out as the service makes them. By default the
entries are written with bulk_create and two UPDATEs per line (seconds);
--via-services calls quotas_accept_range itself per line and round (minutes). Both print
the same schedule fingerprint for the same arguments. No webhook endpoint is registered,
so neither writes deliveries. The tables are then VACUUM ANALYZEd, as autovacuum would.

The API is served by a real gunicorn (--workers sync workers, default 1: an ERP pulls
one page after another) on a free port of 127.0.0.1, DEBUG off, against the same
database; the client is http.client in this process, a new connection per request
(gunicorn's sync workers close it), with `Authorization: Bearer <key>` of an API client
holding only schedules:read. The client's rate limit is lifted in the server
(API_CLIENT_RATE) so the bench measures the API and not its throttle. Times are wall clock
on the client, including the client parsing the body (json.loads, csv.DictReader).
Measured:

- full pull: follow `next` from /api/v1/schedules/?page_size=1000, JSON and CSV
  (`?format=csv`, next page in the Link header), then the same with page_size=10000
  (the largest page, for bulk clients; its JSON rows must equal the 1,000-row walk's),
  --repeat times each; median seconds, rows/s, pages and the multiple of the ORM floor,
  the 10,000-row pulls against the targets (JSON <= 3x, CSV <= 2x);
- the unchanged re-pull: the first page 50 times answered 200, then 50 times with
  `If-None-Match: <its ETag>` answered 304; median ms of each and their ratio, and the
  95th percentile of the 200 against the target (< 100 ms);
- an incremental pull: the schedule_version stored from the full pull, then changes made
  through the real services (5 quota_override, one of them twice, 5 quota_accept after a
  recommendation changed, and one quotas_accept_range over 2 weeks of a line where 3
  recommendations changed), then ?changed_since=<stored version>. The rows must be
  exactly the entries the services created plus the ones they superseded; the mirror
  (the full pull keyed by id) upserts current rows and drops superseded ones and must
  then equal a fresh full pull, and a pull from the new version must be empty. The
  script stops with an error if any of that fails. Median ms of 20 such pulls;
- the baseline: the floor of any API over these rows, a plain ORM
  `list(ScheduleEntry.objects.filter(current).values(<the same columns>))` in this
  process, --repeat times; the full pulls are printed as a multiple of it.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import http.client
import io
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from urllib.parse import urlencode, urlsplit

from _database import ROOT, bench_database

BENCH_DB = "tandem_bench_api"
WEEKS = 26
PAGE_SIZE = 1000
BULK_PAGE_SIZE = 10_000  # the largest page the API gives, for bulk clients
# The targets, against the ORM floor measured in the same run.
TARGET_JSON_X, TARGET_CSV_X, TARGET_FIRST_PAGE_P95_MS = 3.0, 2.0, 100.0
SCHEDULE_PATH = "/api/v1/schedules/"
CONDITIONAL_REQUESTS = 50
INCREMENTAL_REQUESTS = 20
NEXT_LINK = re.compile(r'<([^>]+)>;\s*rel="next"')


def fail(message: str):
    raise SystemExit(f"FAILED: {message}")


# --- the schedule --------------------------------------------------------------------


def build_catalogue(products: int, lines: int, seed: int):
    """Lines, products, one finished recompute run per line and a recommendation for
    every product and week of the horizon. Returns the planner, the lines, the weeks."""
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from coordination.models import Line, Product, ProductLine
    from coordination.weeks import add_weeks, current_week
    from production.models import QuotaRecommendation, RecomputeRun

    rng = random.Random(seed)
    planner = get_user_model().objects.create(username="planner", is_superuser=True)
    line_objects = Line.objects.bulk_create(
        Line(name=f"Line {k + 1:02d}", weekly_capacity_hours=Decimal("120.0")) for k in range(lines)
    )
    family = ProductLine.objects.create(name="Bench")
    catalogue = Product.objects.bulk_create(
        Product(
            sku=f"ERP-{i:05d}",
            name=f"Product {i:05d}",
            product_line=family,
            unit_price=2,
            unit_cost=1,
            production_line=line_objects[i % lines],
            lead_time_weeks=i % 3,
        )
        for i in range(products)
    )
    weeks = [add_weeks(current_week(), k) for k in range(WEEKS)]
    runs = {
        line.pk: RecomputeRun.objects.create(
            line=line,
            trigger="bench",
            state="done",
            finished_at=timezone.now(),
            first_week=weeks[0],
        )
        for line in line_objects
    }

    def recommendation(product, week):
        units = round(1 + rng.gammavariate(2.0, 60.0), 1)
        return QuotaRecommendation(
            run=runs[product.production_line_id],
            product=product,
            line_id=product.production_line_id,
            week=week,
            covers_week=add_weeks(week, product.lead_time_weeks),
            recommended_units=units,
            baseline=units,
            promotion_uplift=0,
            firm_orders=0,
            adjustment=0,
            demand=units,
            safety_stock=0,
            stock_before_arrival=0,
            net_requirement=units,
            prebuild_units=0,
            capacity_cut_units=0,
            shortage_units=0,
            projected_on_hand=0,
        )

    QuotaRecommendation.objects.bulk_create(
        (recommendation(product, week) for product in catalogue for week in weeks),
        batch_size=5000,
    )
    return planner, line_objects, weeks


def accept_round_bulk(planner, line_objects, weeks, current: dict) -> None:
    """What quotas_accept_range(line, whole horizon) writes for every line, in bulk.
    `current` maps (product_id, week) to the current (entry id, units); kept up to date."""
    from django.db import connection, transaction
    from django.utils import timezone
    from django.utils.text import Truncator

    from coordination.services.activity import activity_record
    from coordination.weeks import iso_label
    from production.models import QuotaRecommendation, ScheduleEntry, ScheduleRevision
    from production.services.schedule import whole_units

    table = ScheduleEntry._meta.db_table
    # The table name comes from model metadata; the values are parameters.
    link_superseded = (
        f"UPDATE {table} AS old SET superseded_by_id = new.id FROM {table} AS new"  # noqa: S608
        " WHERE old.id = ANY(%s) AND new.revision_id = %s"
        " AND new.product_id = old.product_id AND new.week = old.week"
    )
    for line in line_objects:
        todo = [
            (product_id, week, recommended)
            for product_id, week, recommended in QuotaRecommendation.objects.filter(
                line=line, week__gte=weeks[0], week__lte=weeks[-1]
            )
            .order_by("product_id", "week")
            .values_list("product_id", "week", "recommended_units")
            if current.get((product_id, week), (None, None))[1] != whole_units(recommended)
        ]
        if not todo:
            continue
        with transaction.atomic():
            revision = ScheduleRevision.objects.create(
                created_by=planner,
                summary=Truncator(
                    f"Accepted {len(todo)} quotas on {line} for "
                    f"{iso_label(weeks[0])}–{iso_label(weeks[-1])}"
                ).chars(300),
            )
            old_ids = [current[p, w][0] for p, w, _ in todo if (p, w) in current]
            ScheduleEntry.objects.filter(pk__in=old_ids).update(
                superseded_at=timezone.now(), superseded_in=revision
            )
            created = ScheduleEntry.objects.bulk_create(
                (
                    ScheduleEntry(
                        revision=revision,
                        product_id=product_id,
                        line=line,
                        week=week,
                        units=whole_units(recommended),
                        kind=ScheduleEntry.Kind.ACCEPTED,
                        recommended_units=recommended,
                        accepted_by=planner,
                    )
                    for product_id, week, recommended in todo
                ),
                batch_size=5000,
            )
            if old_ids:
                with connection.cursor() as cursor:
                    cursor.execute(link_superseded, [old_ids, revision.pk])
            activity_record(target=line, actor=planner, verb="updated", message=revision.summary)
        for entry in created:
            current[(entry.product_id, entry.week)] = (entry.pk, entry.units)


def build_schedule(args) -> tuple:
    from django.db import connection
    from django.db.models import F

    from production.models import QuotaRecommendation, ScheduleEntry
    from production.selectors.schedule import schedule_version
    from production.services.schedule import quotas_accept_range

    planner, line_objects, weeks = build_catalogue(args.products, args.lines, args.seed)
    current: dict = {}
    for k in range(args.history + 1):
        factor = 1 + 0.1 * (args.history - k)
        QuotaRecommendation.objects.update(recommended_units=F("baseline") * factor)
        if args.via_services:
            for line in line_objects:
                quotas_accept_range(
                    actor=planner,
                    line_id=line.pk,
                    week_from=weeks[0],
                    week_to=weeks[-1],
                    seen_schedule_version=schedule_version(),
                )
        else:
            accept_round_bulk(planner, line_objects, weeks, current)
    with connection.cursor() as cursor:
        for model in (ScheduleEntry, QuotaRecommendation):
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
    return planner, line_objects, weeks


def fingerprint() -> str:
    from production.models import ScheduleEntry

    digest = hashlib.sha256()
    for row in ScheduleEntry.objects.order_by("id").values_list(
        "id",
        "revision_id",
        "product_id",
        "line_id",
        "week",
        "units",
        "kind",
        "recommended_units",
        "superseded_by_id",
        "superseded_at",
    ):
        digest.update(repr((*row[:-1], row[-1] is None)).encode())
    return digest.hexdigest()[:16]


# --- the server and the client -------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Api:
    def __init__(self, port: int, key: str):
        self.port = port
        self.key = key

    def get(self, target: str, headers: dict | None = None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            connection.request(
                "GET", target, headers={"Authorization": f"Bearer {self.key}", **(headers or {})}
            )
            response = connection.getresponse()
            return response.status, response.headers, response.read()
        finally:
            connection.close()


@contextmanager
def api_server(workers: int, key: str):
    port = free_port()
    env = {
        **os.environ,
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "API_CLIENT_RATE": "1000000/min",
        # Plain http on 127.0.0.1: no redirect to https (DEBUG off would turn it on).
        "SECURE_SSL_REDIRECT": "0",
        # API answers need no static files; whitenoise warns that none were collected.
        "PYTHONWARNINGS": "ignore:No directory at:UserWarning",
    }
    command = [sys.executable, "-m", "gunicorn", "coordination.wsgi:application"]
    command += ["--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    command += ["--log-level", "warning", "--timeout", "300"]
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        api = Api(port, key)
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                fail(f"gunicorn exited with {server.returncode}")
            try:
                status, _, body = api.get(f"{SCHEDULE_PATH}?page_size=1")
            except OSError:
                status, body = None, b""
            if status == 200:
                break
            if status is not None or time.monotonic() > deadline:
                fail(f"the API did not come up: {status} {body[:300]!r}")
            time.sleep(0.2)
        yield api
    finally:
        server.terminate()
        server.wait(timeout=60)


def target_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def pull(api: Api, query: dict, *, as_csv: bool = False, page_size: int = PAGE_SIZE):
    """Follow `next` from the first page: (rows, pages, schedule version, seconds)."""
    query = {"page_size": page_size, **query, **({"format": "csv"} if as_csv else {})}
    target = f"{SCHEDULE_PATH}?{urlencode(query)}"
    rows: list = []
    pages = 0
    version = None
    started = time.perf_counter()
    while target:
        status, headers, body = api.get(target)
        if status != 200:
            fail(f"GET {target}: {status} {body[:300]!r}")
        pages += 1
        if as_csv:
            rows.extend(csv.DictReader(io.StringIO(body.decode("utf-8"))))
            link = NEXT_LINK.search(headers.get("Link", ""))
            target = target_of(link.group(1)) if link else None
            version = int(headers["X-Schedule-Version"]) if version is None else version
        else:
            data = json.loads(body)
            rows.extend(data["results"])
            target = target_of(data["next"]) if data["next"] else None
            version = data["schedule_version"]
    return rows, pages, version, time.perf_counter() - started


def latency_ms(api: Api, target: str, headers: dict, expected_status: int, count: int):
    """(median ms, 95th percentile ms, the last response's headers) of `count` GETs."""
    times = []
    response_headers = None
    for _ in range(count):
        started = time.perf_counter()
        status, response_headers, body = api.get(target, headers)
        if expected_status == 200:
            json.loads(body)
        times.append((time.perf_counter() - started) * 1000)
        if status != expected_status:
            fail(f"GET {target} {headers}: {status}, expected {expected_status}")
    return statistics.median(times), statistics.quantiles(times, n=20)[18], response_headers


# --- the incremental change ----------------------------------------------------------


def change_a_handful(planner, line_objects, weeks, seed: int):
    """Changes through the real services. Returns (ids of the entries they created, ids
    of the entries that were current before in the cells they touched)."""
    from django.db.models import F

    from production.models import QuotaRecommendation, ScheduleEntry
    from production.selectors.schedule import decision_versions, schedule_version
    from production.services.schedule import quota_accept, quota_override, quotas_accept_range

    rng = random.Random(seed)
    current = ScheduleEntry.objects.filter(superseded_at__isnull=True)
    ranged_line, range_weeks = line_objects[0], weeks[3:5]
    in_range = list(current.filter(line=ranged_line, week__in=range_weeks).order_by("id"))
    elsewhere = list(current.exclude(line=ranged_line).order_by("id"))
    if len(in_range) < 3 or len(elsewhere) < 10:
        fail("the schedule is too small for the incremental change (--products >= 20)")
    ranged = rng.sample(in_range, 3)
    cells = rng.sample(elsewhere, 10)
    overridden, accepted = cells[:5], cells[5:]

    def bump(entries):
        for entry in entries:
            QuotaRecommendation.objects.filter(product_id=entry.product_id, week=entry.week).update(
                recommended_units=F("recommended_units") + 7
            )

    first = overridden[0]  # overridden twice: its first override is created and superseded
    overrides = [(entry, 10, "a customer order moved") for entry in overridden]
    overrides.append((first, 20, "and moved again"))
    created = [
        quota_override(
            actor=planner,
            product_id=entry.product_id,
            week=entry.week,
            units=entry.units + extra,
            reason=f"ERP bench: {reason}",
            **decision_versions(entry.product_id, entry.week),
        )
        for entry, extra, reason in overrides
    ]
    bump(accepted)
    for entry in accepted:
        created.append(
            quota_accept(
                actor=planner,
                product_id=entry.product_id,
                week=entry.week,
                **decision_versions(entry.product_id, entry.week),
            )
        )
    bump(ranged)
    revision = quotas_accept_range(
        actor=planner,
        line_id=ranged_line.pk,
        week_from=range_weeks[0],
        week_to=range_weeks[-1],
        seen_schedule_version=schedule_version(),
    )
    created.extend(revision.entries.all())
    if len(created) != 14:
        fail(f"the services wrote {len(created)} entries, expected 14")
    return {entry.pk for entry in created}, {entry.pk for entry in (*cells, *ranged)}


def sync(mirror: dict, rows: list) -> None:
    """What the ERP does with an incremental pull: upsert current, drop superseded."""
    for row in rows:
        if row["superseded"]:
            mirror.pop(row["id"], None)
        else:
            mirror[row["id"]] = row


# --- the run -------------------------------------------------------------------------


def run(args) -> None:
    from coordination.services.api_clients import client_create
    from production.models import ScheduleEntry, ScheduleRevision
    from production.selectors.schedule import SCHEDULE_ROW_COLUMNS, schedule_version

    started = time.perf_counter()
    planner, line_objects, weeks = build_schedule(args)
    build_s = time.perf_counter() - started
    current_rows = ScheduleEntry.objects.filter(superseded_at__isnull=True).count()
    all_rows = ScheduleEntry.objects.count()
    version = schedule_version()
    expected_revisions = len(line_objects) * (args.history + 1)
    if current_rows != args.products * WEEKS or version != expected_revisions:
        fail(f"built {current_rows} current entries, version {version}")
    if ScheduleRevision.objects.count() != version:
        fail("revision ids are not 1..version")
    print(
        f"schedule: {args.products:,} products on {len(line_objects)} lines x {WEEKS} weeks = "
        f"{current_rows:,} current entries, {all_rows - current_rows:,} superseded, "
        f"version {version}; built in {build_s:.1f} s "
        f"({'services' if args.via_services else 'bulk'}), fingerprint {fingerprint()}"
    )

    _, key = client_create(name="ERP bench", scopes=["schedules:read"])
    with api_server(args.workers, key) as api:
        print(
            f"server: gunicorn, {args.workers} sync worker(s) on 127.0.0.1:{api.port}, DEBUG off;"
            " client: http.client in this process, page_size "
            f"{PAGE_SIZE}, --repeat {args.repeat}\n",
            flush=True,
        )
        json_runs, csv_runs, bulk_json_runs, bulk_csv_runs = [], [], [], []
        for _ in range(args.repeat):
            rows, pages, pulled_version, seconds = pull(api, {})
            json_runs.append(seconds)
            if len(json_runs) == 1:
                mirror = {row["id"]: row for row in rows}
                stored_version = pulled_version
            if len(rows) != current_rows or len(mirror) != current_rows:
                fail(f"the JSON full pull returned {len(rows)} rows, {current_rows} expected")
            csv_rows, csv_pages, _, seconds = pull(api, {}, as_csv=True)
            csv_runs.append(seconds)
            if len(csv_rows) != current_rows:
                fail(f"the CSV full pull returned {len(csv_rows)} rows")
            for as_csv, runs in ((False, bulk_json_runs), (True, bulk_csv_runs)):
                bulk_rows, _, _, seconds = pull(api, {}, as_csv=as_csv, page_size=BULK_PAGE_SIZE)
                runs.append(seconds)
                if len(bulk_rows) != current_rows:
                    fail(f"the bulk pull returned {len(bulk_rows)} rows, {current_rows} expected")
                if not as_csv and bulk_rows != rows:
                    fail("the bulk pull differs from the pull in pages of 1,000")
        if stored_version != version:
            fail(f"the pull says version {stored_version}, the database {version}")

        orm_runs = []
        for _ in range(args.repeat):
            began = time.perf_counter()
            orm_rows = list(
                ScheduleEntry.objects.filter(superseded_at__isnull=True)
                .order_by("id")
                .values(*SCHEDULE_ROW_COLUMNS)
            )
            orm_runs.append(time.perf_counter() - began)
            if len(orm_rows) != current_rows:
                fail("the ORM baseline read another number of rows")

        first_page = f"{SCHEDULE_PATH}?{urlencode({'page_size': PAGE_SIZE})}"
        api.get(first_page)  # warm-up
        ok_ms, ok_p95, headers = latency_ms(api, first_page, {}, 200, CONDITIONAL_REQUESTS)
        etag = headers["ETag"]
        not_modified_ms, _, _ = latency_ms(
            api, first_page, {"If-None-Match": etag}, 304, CONDITIONAL_REQUESTS
        )

        new_ids, old_ids = change_a_handful(planner, line_objects, weeks, args.seed)
        incremental = {"changed_since": stored_version}
        rows, inc_pages, new_version, _ = pull(api, incremental)
        returned = [row["id"] for row in rows]
        expected = new_ids | old_ids
        if len(returned) != len(set(returned)) or set(returned) != expected:
            fail(
                f"changed_since={stored_version} returned {len(returned)} rows "
                f"{sorted(returned)}, expected {len(expected)}: {sorted(expected)}"
            )
        superseded = {row["id"] for row in rows if row["superseded"]}
        if not old_ids <= superseded or len(superseded) != len(old_ids) + 1:
            fail(f"superseded rows {sorted(superseded)}, expected {sorted(old_ids)} + 1")
        if new_version != schedule_version() or new_version <= stored_version:
            fail(f"incremental pull version {new_version}, database {schedule_version()}")
        sync(mirror, rows)
        fresh, _, _, _ = pull(api, {})
        if mirror != {row["id"]: row for row in fresh}:
            fail("the mirror did not converge to a fresh full pull")
        leftover, _, _, _ = pull(api, {"changed_since": new_version})
        if leftover:
            fail(f"changed_since={new_version} returned {len(leftover)} rows, expected 0")
        incremental_runs = []
        for _ in range(INCREMENTAL_REQUESTS):
            again, _, _, seconds = pull(api, incremental)
            incremental_runs.append(seconds * 1000)
            if len(again) != len(expected):
                fail("the incremental pull is not repeatable")

    json_s, csv_s, orm_s, bulk_json_s, bulk_csv_s = (
        statistics.median(r) for r in (json_runs, csv_runs, orm_runs, bulk_json_runs, bulk_csv_runs)
    )
    inc_ms = statistics.median(incremental_runs)

    def spread(values):
        return " / ".join(f"{value:.2f}" for value in values)

    def verdict(value: float, target: float, unit: str = "x") -> str:
        return f"target <= {target:g}{unit}: {'met' if value <= target else 'MISSED'}"

    print(f"{'':<52} {'median':>10} {'rows/s':>10} {'pages':>6} {'vs ORM':>8}")
    for label, seconds, page_count, target in (
        (f"full pull, JSON, page_size {PAGE_SIZE:,}", json_s, pages, None),
        (f"full pull, CSV, page_size {PAGE_SIZE:,}", csv_s, csv_pages, None),
        (f"full pull, JSON, page_size {BULK_PAGE_SIZE:,}", bulk_json_s, None, TARGET_JSON_X),
        (f"full pull, CSV, page_size {BULK_PAGE_SIZE:,}", bulk_csv_s, None, TARGET_CSV_X),
    ):
        page_count = page_count or -(-current_rows // BULK_PAGE_SIZE)
        ratio = seconds / orm_s
        print(
            f"{label:<52} {seconds:8.2f} s {current_rows / seconds:>10,.0f} "
            f"{page_count:>6} {ratio:>7.1f}x" + (f"  {verdict(ratio, target)}" if target else "")
        )
    print(
        f"{'baseline: ORM list(values()), same rows and columns':<52} {orm_s:8.2f} s "
        f"{current_rows / orm_s:>10,.0f}"
    )
    print(
        f"{'first page (1,000 rows), 200':<52} {ok_ms:7.1f} ms, p95 {ok_p95:.1f} ms  "
        f"{verdict(ok_p95, TARGET_FIRST_PAGE_P95_MS, ' ms')}"
    )
    print(
        f"{'first page again, If-None-Match -> 304':<52} {not_modified_ms:7.1f} ms "
        f"{'':>10} {'':>6} {not_modified_ms / ok_ms:>7.3f} of the 200"
    )
    label = f"incremental, {len(rows)} rows ({len(superseded)} superseded)"
    print(f"{label:<52} {inc_ms:7.1f} ms {'':>10} {inc_pages:>6}")
    print()
    print(
        f"runs (s): JSON {spread(json_runs)}; CSV {spread(csv_runs)}; "
        f"bulk JSON {spread(bulk_json_runs)}; bulk CSV {spread(bulk_csv_runs)}; "
        f"ORM {spread(orm_runs)}"
    )
    print(
        f"mirror: stored version {stored_version} -> {new_version}, converged to a fresh full "
        "pull; a pull from the new version is empty"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--lines", type=int, default=20)
    parser.add_argument("--history", type=int, default=1, help="earlier accept rounds")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1, help="gunicorn sync workers")
    parser.add_argument("--via-services", action="store_true", help="build with the services")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--database",
        default=BENCH_DB,
        help=f"the database to create and drop (default {BENCH_DB}); give each run its own",
    )
    args = parser.parse_args()
    if args.repeat < 1 or args.products < 20 or args.lines < 2:
        parser.error("--repeat >= 1, --products >= 20 and --lines >= 2, please")
    with bench_database(args.database):
        run(args)


if __name__ == "__main__":
    main()
