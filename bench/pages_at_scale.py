"""Every page a role opens from its home, on a large company.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/pages_at_scale.py [--products 20000] [--lines 40] [--repeat 20]

Issue 18's target: with seed_scale loaded, each page answers p95 < 300 ms with a bounded
number of queries.

The script creates `tandem_bench_pages`, loads a company with `manage.py seed_scale`,
plans it as the nightly re-plan does (every line's request processed in this process:
forecasts of every product, then each line's quota plan), opens a planning cycle (its
snapshot) and drops the database at the end (bench/_database.py). Then, signed in as the
role that opens it (Django's test client: the whole request and response path, no
network), each page --repeat times after one warm-up: median, p95 and max in ms
(tests/test_query_counts_at_scale.py guards the query counts). The same pages on a
demo-sized company are the baseline (`--products 40 --lines 3`). Exits non-zero if a
page answers other than 200. `--keep` leaves the database (and its users bench-<role>)
for profiling a page.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _database import bench_database

TARGET_MS = 300  # issue 18: every page a role opens from its home, p95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=20000)
    parser.add_argument("--lines", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument(
        "--keep", action="store_true", help="keep tandem_bench_pages afterwards (to profile)"
    )
    args = parser.parse_args()
    os.environ.pop("CELERY_BROKER_URL", None)  # the plan is made in this process
    # Production settings (DEBUG off), plain http: the test client speaks no TLS.
    os.environ.update(SECURE_COOKIES="0", SECURE_SSL_REDIRECT="0")

    with bench_database("tandem_bench_pages", keep=args.keep):
        from django.conf import settings
        from django.core.management import call_command
        from django.core.signals import request_finished, request_started
        from django.db import close_old_connections
        from django.test import Client

        from coordination import roles
        from coordination.models import Line, Product, User
        from coordination.weeks import current_week
        from demand.models import Promotion
        from planning.services.cycles import planning_cycle_open
        from production.services import pipeline

        settings.ALLOWED_HOSTS = ["testserver"]
        # As Django's test runner does: one connection for every request.
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        began = time.perf_counter()
        with open(os.devnull, "w") as quiet:
            call_command("seed_scale", products=args.products, lines=args.lines, stdout=quiet)
            # DEBUG off serves static files from the manifest (STATIC_ROOT, gitignored): a
            # fresh checkout has none, and every page would be a 500.
            call_command("collectstatic", "--noinput", stdout=quiet)
        print(
            f"seed_scale: {args.products:,} x {args.lines} in {time.perf_counter() - began:.1f} s"
        )
        began = time.perf_counter()
        for request_id in pipeline.request_full_recompute(reason="Pages bench"):
            pipeline.process_request(request_id)
        print(f"nightly re-plan in this process: {time.perf_counter() - began:.1f} s")

        from django.contrib.auth.models import Group

        people = {}
        for role in (roles.PRODUCTION, roles.MARKETING, roles.SALES, roles.ADMIN):
            user = User.objects.create_user(username=f"bench-{role.lower()}", password=None)
            user.groups.add(Group.objects.get(name=role))
            if role == roles.ADMIN:
                user.is_staff = user.is_superuser = True
                user.save()
            people[role] = user
        month = current_week().replace(day=1)
        cycle = planning_cycle_open(actor=people[roles.ADMIN], period_start=month)
        line = Line.objects.order_by("pk").first()
        sku = Product.objects.filter(production_line=line).order_by("sku").first().sku
        promotion = Promotion.objects.order_by("pk").first()
        pages = [
            (roles.PRODUCTION, "/"),
            (roles.PRODUCTION, f"/production/?line={line.pk}"),
            (roles.PRODUCTION, "/production/lines/"),
            (roles.PRODUCTION, "/production/runs/"),
            (roles.PRODUCTION, f"/planning/{cycle.pk}/"),
            (roles.PRODUCTION, f"/planning/{cycle.pk}/report/"),
            (roles.MARKETING, "/"),
            (roles.MARKETING, "/forecasts/"),
            (roles.MARKETING, f"/forecasts/{sku}/"),
            (roles.MARKETING, "/promotions/"),
            (roles.MARKETING, "/products/"),
            (roles.SALES, "/"),
            (roles.SALES, "/requests/"),
        ]
        if promotion is not None:
            pages.append((roles.MARKETING, f"/promotions/{promotion.pk}/"))
        clients = {}
        for role, user in people.items():
            clients[role] = Client()
            clients[role].force_login(user)
        print(
            f"{'page':44} {'role':11} {'p50':>6} {'p95':>6} {'max':>6}  (ms)  p95 < {TARGET_MS} ms"
        )
        failed, missed = [], 0
        for role, path in pages:
            client = clients[role]
            response = client.get(path)
            if response.status_code != 200:
                failed.append((path, response.status_code))
                continue
            times = []
            for _ in range(args.repeat):
                t = time.perf_counter()
                client.get(path)
                times.append((time.perf_counter() - t) * 1000)
            times.sort()
            p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
            missed += p95 >= TARGET_MS
            print(
                f"{path:44} {role:11} {statistics.median(times):>6.0f} {p95:>6.0f} "
                f"{times[-1]:>6.0f}        {'met' if p95 < TARGET_MS else 'MISSED'}"
            )
        print(
            f"target p95 < {TARGET_MS} ms: met by "
            f"{len(pages) - len(failed) - missed} of {len(pages)} pages"
        )
        if failed:
            print(f"FAILED: {failed}", file=sys.stderr)
            sys.exit(1)


if __name__ == "__main__":
    main()
