"""Behind PgBouncer in transaction mode, with the settings the README gives for it
(DATABASE_POOLED=1): a real pgbouncer started by the test between PostgreSQL and a real
gunicorn and Celery worker, with fewer server connections than clients, so server
connections change hands between transactions. The worker re-plans a line (COPY,
advisory and row locks), the API accepts a range of quotas (the schedule's transaction
lock) and a client walks the schedule page by page; pgbouncer's own statistics prove the
traffic went through it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import urllib.parse
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from celery import Celery
from django.db import connection, transaction
from kombu import Connection

from coordination.models import Line, Product, ProductLine, RecomputeRequest
from coordination.services.api_clients import client_create
from coordination.services.recompute import PROCESS_TASK, recompute_request
from coordination.weeks import add_weeks, current_week, iso_label
from demand.models import SalesActual
from production.models import QuotaRecommendation, RunRate, ScheduleEntry
from production.selectors.schedule import schedule_version
from tests.faults import stack

pytestmark = pytest.mark.faults

PRODUCTS = 40
HISTORY_WEEKS = 60
SERVER_CONNECTIONS = 2


class PgBouncer:
    """pgbouncer in transaction mode in front of the test's PostgreSQL (it refuses to run
    as root: then it runs as the postgres user)."""

    def __init__(self):
        self.port = stack.free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="tandem-pgbouncer-"))
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        s = connection.settings_dict
        user = s["USER"] or "postgres"
        (self.folder / "users.txt").write_text(f'"{user}" ""\n')
        (self.folder / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"* = host={s['HOST'] or '127.0.0.1'} port={s['PORT'] or 5432}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {self.folder / 'users.txt'}\n"
            f"admin_users = {user}\npool_mode = transaction\n"
            f"default_pool_size = {SERVER_CONNECTIONS}\nmax_client_conn = 100\n"
            "ignore_startup_parameters = extra_float_digits,options\n"
            f"logfile = {self.folder / 'pgbouncer.log'}\n"
        )
        argv = ["pgbouncer", str(self.folder / "pgbouncer.ini")]
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
            os.chmod(self.folder, 0o755)  # noqa: S103 (postgres reads its config)
            argv = ["runuser", "-u", "postgres", "--", *argv]
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        stack.wait_until(
            lambda: self.show("VERSION") is not None, timeout=10, what="pgbouncer to answer"
        )

    def url(self) -> str:
        s = connection.settings_dict
        return f"postgres://{s['USER'] or 'postgres'}@127.0.0.1:{self.port}/{s['NAME']}"

    def show(self, what: str) -> list[dict] | None:
        """SHOW <what> on pgbouncer's admin console, as rows."""
        result = subprocess.run(
            [shutil.which("psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U",
             "postgres", "-X", "-A", "-F", "\t", "-c", f"SHOW {what}", "pgbouncer"],
            capture_output=True, text=True, timeout=10, check=False,
        )  # fmt: skip
        if result.returncode != 0:
            return None
        header, *rows = [line.split("\t") for line in result.stdout.splitlines()[:-1]]
        return [dict(zip(header, row, strict=True)) for row in rows]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def pgbouncer(real_services):
    stack._require(
        [] if shutil.which("pgbouncer") and shutil.which("psql") else ["pgbouncer and psql"]
    )
    bouncer = PgBouncer()
    bouncer.start()
    yield bouncer
    bouncer.stop()


@pytest.fixture
def line():
    rng = np.random.default_rng(3)
    line = Line.objects.create(name="Bottling 1", weekly_capacity_hours=Decimal("400"))
    family = ProductLine.objects.create(name="Teas")
    products = Product.objects.bulk_create(
        Product(sku=f"TEA-{i:03d}", name=f"Tea {i}", product_line=family, production_line=line,
                lead_time_weeks=0, unit_price=2, unit_cost=1)
        for i in range(PRODUCTS)
    )  # fmt: skip
    first = add_weeks(current_week(), -HISTORY_WEEKS)
    SalesActual.objects.bulk_create(
        SalesActual(product=p, week=add_weeks(first, k), units=int(rng.integers(20, 60)))
        for p in products
        for k in range(HISTORY_WEEKS)
    )
    RunRate.objects.bulk_create(RunRate(product=p, hours_per_unit=Decimal("0.1")) for p in products)
    return line


def test_the_app_works_behind_pgbouncer_in_transaction_mode(processes, pgbouncer, line):
    redis = processes.redis()
    env = stack.app_env(broker_url=redis.url(0))
    env.update(
        DATABASE_URL=pgbouncer.url(),
        DATABASE_POOLED="1",
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_COOKIES="0",  # plain http on 127.0.0.1
    )
    worker = processes.start(stack.celery_worker(env, processes.folder, "pooled"))
    port = stack.free_port()
    web = processes.start(stack.gunicorn(env, processes.folder, port))
    worker.wait_ready()
    web.wait_ready()

    # The worker re-plans the line through the pool.
    with transaction.atomic():
        request = recompute_request(
            product_ids=line.products.values_list("pk", flat=True),
            source="manual",
            reason="Behind PgBouncer",
            enqueue_after_commit=False,
        )
    with Connection(redis.url(0)) as broker:
        Celery("pooled-test", set_as_current=False).send_task(
            PROCESS_TASK, args=[request.pk], connection=broker, queue="planning"
        )
    stack.wait_until(
        lambda: RecomputeRequest.objects.get(pk=request.pk).status in ("done", "failed"),
        timeout=120,
        what="the worker's re-plan",
    )
    assert RecomputeRequest.objects.get(pk=request.pk).status == "done"
    horizon = QuotaRecommendation.objects.filter(product__production_line=line).count()
    assert horizon == PRODUCTS * 26

    # The API accepts a range of quotas (the schedule's transaction-scoped lock).
    _, key = client_create(
        name="Plant ERP", scopes=["quotas:read", "quotas:write", "schedules:read"]
    )
    http = stack.Http(f"http://127.0.0.1:{port}")
    auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    first, last = current_week(), add_weeks(current_week(), 3)
    status, _, body, _ = http.request(
        "POST",
        "/api/v1/quota-recommendations/accept-range/",
        data={"line": line.name, "from": iso_label(first), "to": iso_label(last),
              "seen_schedule_version": schedule_version()},
        headers=auth,
    )  # fmt: skip
    assert status == 201, body
    accepted = ScheduleEntry.objects.filter(superseded_at__isnull=True).count()
    assert json.loads(body)["entries"] == accepted > 0

    # A client walks the schedule 7 entries a page: every page its own transaction.
    path, seen, pages = "/api/v1/schedules/?page_size=7", [], 0
    while path:
        status, _, body, _ = http.request("GET", path, headers=auth)
        assert status == 200, body
        page = json.loads(body)
        seen += [(row["product"], row["week"]) for row in page["results"]]
        following = urllib.parse.urlsplit(page["next"] or "")
        path = following.path and f"{following.path}?{following.query}"
        pages += 1
    assert len(seen) == len(set(seen)) == accepted
    assert pages == -(-accepted // 7)

    # All of it went through pgbouncer, on at most SERVER_CONNECTIONS server connections.
    database = connection.settings_dict["NAME"]
    stats = {row["database"]: row for row in pgbouncer.show("STATS")}
    assert int(stats[database]["total_xact_count"]) > pages
    pools = [row for row in pgbouncer.show("POOLS") if row["database"] == database]
    assert sum(int(row["sv_active"]) + int(row["sv_idle"]) for row in pools) <= (SERVER_CONNECTIONS)
