"""Tandem under load: API clients pulling schedules and people opening dashboards while
marketing saves promotions, on the real stack (gunicorn, a Celery worker, PostgreSQL,
Redis), driven by a real load tool (locust, headless).

    pip install -e ".[bench]"      # locust
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tandem \\
        .venv/bin/python bench/load_test.py [--seconds 60] [--api-clients 50] \\
        [--browsers 10] [--promotions 20] [--gunicorn-workers 3] [--redis-db 5]

Issue 18's target: 50 concurrent API clients pulling schedules and 10 people opening
dashboards for 60 s while 20 promotions are saved: 0 errors, p95 per request printed,
and every promotion's recompute done.

The DATABASE_URL names the server only: the script creates `tandem_bench_load`, loads the
demo company into it (seed_demo), and drops it at the end (bench/_database.py). The
broker is redis://127.0.0.1:6379/<--redis-db>, flushed before and after. Everything
listens on 127.0.0.1 only. gunicorn (sync workers) and the Celery worker (prefork, 2)
are subprocesses with production settings (DEBUG off, plain http), the API rate limits
raised for the run (50 clients share one key here; a real installation gives each its
own).

Printed: first each request alone on the idle stack (the baseline, median of 5), then
per request under load: count, failures, median, p95 and max (ms) from locust's own
statistics; then each promotion's re-plan: how long from the save's commit to its
request being done, and whether every one finished. Exits non-zero on any error or
unfinished re-plan. The users are in bench/locustfile.py.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _database import ROOT, bench_database
from _processes import start, stop

PASSWORD = "tandem-demo"  # noqa: S105 - the demo users' published password


def fail(message: str) -> None:
    print(f"FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check, timeout: float, what: str, *, quiet: bool = False):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    if quiet:
        return None
    fail(f"gave up waiting for {what}")


def baseline(base: str, api_key: str, lines: list[int]) -> dict[str, float]:
    """Median of 5 of each request alone on the idle stack, in ms."""
    import requests

    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {api_key}"
    browser = requests.Session()
    page = browser.get(base + "/accounts/login/")
    token = page.text.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    browser.post(
        base + "/accounts/login/",
        {"username": "production", "password": PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Referer": base + "/accounts/login/"},
    )
    probes = {
        "GET /api/v1/schedules/ (page)": (api, "/api/v1/schedules/?page_size=1000"),
        "GET /api/v1/schedules/load/": (api, f"/api/v1/schedules/load/?line={lines[0]}"),
        "GET /production/?line=": (browser, f"/production/?line={lines[0]}"),
        "GET /": (browser, "/"),
        "GET /forecasts/": (browser, "/forecasts/"),
        "GET /promotions/": (browser, "/promotions/"),
        "GET /requests/": (browser, "/requests/"),
        "GET /planning/": (browser, "/planning/"),
    }
    result = {}
    for name, (session, path) in probes.items():
        session.get(base + path).raise_for_status()  # warm
        times = []
        for _ in range(5):
            began = time.perf_counter()
            session.get(base + path).raise_for_status()
            times.append((time.perf_counter() - began) * 1000)
        result[name] = statistics.median(times)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--api-clients", type=int, default=50)
    parser.add_argument("--browsers", type=int, default=10)
    parser.add_argument("--promotions", type=int, default=20)
    parser.add_argument("--gunicorn-workers", type=int, default=3)
    parser.add_argument("--redis-db", type=int, default=5)
    args = parser.parse_args()
    if shutil.which("locust", path=str(Path(sys.executable).parent)) is None:
        fail('locust is not installed: pip install -e ".[bench]"')
    broker = f"redis://127.0.0.1:6379/{args.redis_db}"

    with bench_database("tandem_bench_load") as url, tempfile.TemporaryDirectory() as folder:
        import redis
        from django.core.management import call_command
        from django.db.models import Max

        from coordination.models import Line, Product, RecomputeRequest
        from coordination.services.api_clients import client_create
        from coordination.weeks import add_weeks, current_week, iso_label

        redis.Redis.from_url(broker).flushdb()
        began = time.perf_counter()
        with open(os.devnull, "w") as quiet:
            call_command("seed_demo", "--allow-production", stdout=quiet)
            # DEBUG off serves static files from the manifest (STATIC_ROOT, gitignored).
            call_command("collectstatic", "--noinput", stdout=quiet)
        print(f"demo company loaded in {time.perf_counter() - began:.1f} s")
        _, api_key = client_create(name="load-mirror", scopes=["schedules:read"])
        _, marketing_key = client_create(
            name="load-marketing", scopes=["promotions:write", "promotions:read"]
        )
        lines = list(Line.objects.order_by("pk").values_list("pk", flat=True))
        skus = list(
            Product.objects.filter(production_line__isnull=False)
            .exclude(lifecycle=Product.Lifecycle.DISCONTINUED)
            .order_by("sku")
            .values_list("sku", flat=True)
        )
        before = RecomputeRequest.objects.aggregate(last=Max("pk"))["last"] or 0
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "CELERY_BROKER_URL": broker,
            "DEBUG": "0",
            "SECURE_COOKIES": "0",
            "ALLOWED_HOSTS": "127.0.0.1",
            "API_CLIENT_RATE": "1000000/min",
            "API_USER_RATE": "1000000/min",
            "LOG_LEVEL": "WARNING",
        }
        logs = Path(folder)
        web = start(
            [sys.executable, "-m", "gunicorn", "coordination.wsgi:application", "--bind",
             f"127.0.0.1:{port}", "--workers", str(args.gunicorn_workers)],
            env, logs / "gunicorn.log",
        )  # fmt: skip
        worker = start(
            [sys.executable, "-m", "celery", "-A", "coordination", "worker", "--pool",
             "prefork", "--concurrency", "2", "--without-mingle", "--without-gossip",
             "--loglevel", "WARNING"],
            env, logs / "worker.log",
        )  # fmt: skip
        try:
            import requests

            def up():
                try:
                    return requests.get(base + "/accounts/login/", timeout=1).ok
                except requests.RequestException:
                    return False

            if not wait_for(up, 60, "gunicorn", quiet=True):
                fail(f"gunicorn did not answer: {(logs / 'gunicorn.log').read_text()[-3000:]}")
            alone = baseline(base, api_key, lines)
            print(
                f"stack: gunicorn {args.gunicorn_workers} sync workers, Celery prefork 2, "
                f"PostgreSQL, Redis; {len(lines)} lines, {len(skus)} products"
            )
            load_env = {
                **os.environ,
                "LOAD_API_KEY": api_key,
                "LOAD_MARKETING_KEY": marketing_key,
                "LOAD_LINES": ",".join(map(str, lines)),
                "LOAD_PRODUCTS": ",".join(skus),
                "LOAD_PROMOTIONS": str(args.promotions),
                "LOAD_PASSWORD": PASSWORD,
                "LOAD_START_WEEK": iso_label(add_weeks(current_week(), 8)),
                "LOAD_END_WEEK": iso_label(add_weeks(current_week(), 9)),
            }
            users = args.api_clients + args.browsers + 1
            locust = [
                str(Path(sys.executable).parent / "locust"),
                "-f", str(ROOT / "bench/locustfile.py"),
                "--headless", "--host", base, "-u", str(users), "-r", str(users),
                "-t", f"{args.seconds}s", "--csv", str(logs / "load"), "--only-summary",
                "--loglevel", "WARNING", "--stop-timeout", "30",
            ]  # fmt: skip
            # The class weights give 50 : 10 for the first 60 users; the marketer is fixed.
            print(
                f"load: {args.api_clients} API clients + {args.browsers} people + 1 marketer "
                f"for {args.seconds} s"
            )
            subprocess.run(locust, cwd=ROOT, env=load_env, capture_output=True, check=False)
            stats = list(csv.DictReader((logs / "load_stats.csv").open()))
            saved_at = time.monotonic()
            requests_made = RecomputeRequest.objects.filter(pk__gt=before)

            def all_done():
                counts = list(requests_made.values_list("status", flat=True))
                return counts and all(s in ("done", "failed") for s in counts)

            wait_for(all_done, 180, "the promotions' re-plans")
            waited = time.monotonic() - saved_at
            print()
            print(f"{'request':34} {'alone':>8} {'count':>7} {'fail':>5} {'p50':>6} {'p95':>6} "
                  f"{'max':>7}  (ms)")  # fmt: skip
            errors = 0
            for row in stats:
                name = row["Name"]
                if name == "Aggregated":
                    continue
                errors += int(row["Failure Count"])
                base_ms = alone.get(name)
                print(
                    f"{name:34} {f'{base_ms:.0f}' if base_ms else '-':>8} "
                    f"{row['Request Count']:>7} {row['Failure Count']:>5} "
                    f"{float(row['Median Response Time']):>6.0f} {float(row['95%']):>6.0f} "
                    f"{float(row['Max Response Time']):>7.0f}"
                )
            total = next(r for r in stats if r["Name"] == "Aggregated")
            print(
                f"{'all':34} {'':>8} {total['Request Count']:>7} {total['Failure Count']:>5} "
                f"{float(total['Median Response Time']):>6.0f} {float(total['95%']):>6.0f} "
                f"{float(total['Max Response Time']):>7.0f}"
            )
            done = list(
                requests_made.filter(source="promotion").values_list(
                    "status", "created_at", "finished_at"
                )
            )
            latencies = sorted((f - c).total_seconds() for s, c, f in done if s == "done")
            failed = [s for s, _, _ in done if s != "done"]
            print()
            print(
                f"promotions saved: {len(done)} of {args.promotions}; re-plans done: "
                f"{len(latencies)}, failed: {len(failed)}; save -> plan done: median "
                f"{statistics.median(latencies) if latencies else 0:.1f} s, max "
                f"{max(latencies, default=0):.1f} s (all done {waited:.1f} s after the load)"
            )
            if errors or failed or len(done) != args.promotions:
                fail(f"{errors} request errors, {len(failed)} failed re-plans")
        finally:
            stop(web)
            stop(worker)
            redis.Redis.from_url(broker).flushdb()


if __name__ == "__main__":
    main()
