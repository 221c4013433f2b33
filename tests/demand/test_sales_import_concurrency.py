"""Sales imports on PostgreSQL: the straight-COPY path for new rows, the staging path
when some rows exist, and two imports of the same weeks at once on two real
connections (threads), which must neither deadlock, nor fail, nor lose a row."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.db import connection

from demand.models import SalesActual, SalesImport
from demand.services import sales_import as services
from tests.factories import ProductFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="real concurrent imports need PostgreSQL"
    ),
]

SKUS = ("BEV-1001", "JCE-2002", "TEA-3003")
FIRST = dt.date(2024, 1, 1)


def week(k: int) -> dt.date:
    return FIRST + dt.timedelta(weeks=k)


def csv_of(weeks: range, units) -> str:
    lines = ["sku,week,units"]
    lines += [f"{sku},{week(k).isoformat()},{units(sku, k)}" for sku in SKUS for k in weeks]
    return "\n".join(lines) + "\n"


def history() -> dict[tuple[str, dt.date], int]:
    return {
        (sku, day): units
        for sku, day, units in SalesActual.objects.values_list("product__sku", "week", "units")
    }


@pytest.fixture
def products():
    return [ProductFactory(sku=sku) for sku in SKUS]


def run_import(user, content: str, name: str) -> SalesImport:
    try:
        return services.sales_import_rows(actor=user, rows=content, source="api", filename=name)
    finally:
        connection.close()  # a thread's own connection


def test_new_rows_then_overlapping_rows_count_created_and_updated(marketing_user, products):
    first = services.sales_import_rows(
        actor=marketing_user, rows=csv_of(range(4), lambda s, k: k), source="api"
    )
    assert (first.created_count, first.updated_count) == (12, 0)
    # Weeks 2-5: 2 and 3 exist (updated), 4 and 5 are new (created).
    second = services.sales_import_rows(
        actor=marketing_user, rows=csv_of(range(2, 6), lambda s, k: 100 + k), source="api"
    )
    assert (second.created_count, second.updated_count) == (6, 6)
    expected = {(sku, week(k)): k for sku in SKUS for k in range(2)}
    expected |= {(sku, week(k)): 100 + k for sku in SKUS for k in range(2, 6)}
    assert history() == expected
    # The same file again: everything exists, nothing new.
    again = services.sales_import_rows(
        actor=marketing_user, rows=csv_of(range(2, 6), lambda s, k: 100 + k), source="api"
    )
    assert (again.created_count, again.updated_count) == (0, 12)
    assert history() == expected


def test_another_product_in_the_same_weeks_is_new(marketing_user, products):
    services.sales_import_rows(
        actor=marketing_user, rows="sku,week,units\nBEV-1001,2024-W01,5\n", source="api"
    )
    record = services.sales_import_rows(
        actor=marketing_user,
        rows="sku,week,units\nBEV-1001,2024-W01,6\nJCE-2002,2024-W01,7\n",
        source="api",
    )
    assert (record.created_count, record.updated_count) == (1, 1)
    assert history() == {("BEV-1001", week(0)): 6, ("JCE-2002", week(0)): 7}


def test_two_imports_of_the_same_weeks_at_once_both_apply_in_turn(
    marketing_user, products, monkeypatch
):
    """The first import holds its transaction open after writing (inside it, where it asks
    for the recompute); the second, on another connection, must wait for it rather than
    fail or deadlock, then update what the first created."""
    holding, release = threading.Event(), threading.Event()
    real_request = services.recompute_request

    def slow_for_the_first(**kwargs):
        if threading.current_thread().name == "first":
            holding.set()
            release.wait(timeout=20)
        return real_request(**kwargs)

    monkeypatch.setattr(services, "recompute_request", slow_for_the_first)
    results: dict[str, SalesImport | BaseException] = {}

    def importer(name: str, content: str):
        try:
            results[name] = run_import(marketing_user, content, name)
        except BaseException as exc:  # reported by the assertions below
            results[name] = exc

    first = threading.Thread(
        target=importer, name="first", args=("first", csv_of(range(6), lambda s, k: 1))
    )
    second = threading.Thread(
        target=importer, name="second", args=("second", csv_of(range(3, 9), lambda s, k: 2))
    )
    first.start()
    try:
        assert holding.wait(timeout=20)
        second.start()
        time.sleep(1.0)
        # Still waiting for the first import's lock: it has written nothing yet.
        assert second.is_alive()
        assert "second" not in results
    finally:
        release.set()
        first.join(timeout=30)
        second.join(timeout=30)

    assert not first.is_alive() and not second.is_alive()
    one, two = results["first"], results["second"]
    assert isinstance(one, SalesImport), one
    assert isinstance(two, SalesImport), two
    assert (one.created_count, one.updated_count) == (18, 0)
    assert (two.created_count, two.updated_count) == (9, 9)
    expected = {(sku, week(k)): 1 for sku in SKUS for k in range(3)}
    expected |= {(sku, week(k)): 2 for sku in SKUS for k in range(3, 9)}
    assert history() == expected
    assert SalesImport.objects.filter(status="applied").count() == 2


def test_many_imports_of_one_file_at_once_leave_it_once(marketing_user, products):
    content = csv_of(range(10), lambda s, k: 3 * k)
    results: list = []
    start = threading.Barrier(4)

    def importer():
        try:
            start.wait(timeout=10)
            results.append(run_import(marketing_user, content, "same.csv"))
        except BaseException as exc:
            results.append(exc)

    threads = [threading.Thread(target=importer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert all(isinstance(result, SalesImport) for result in results), results
    assert sorted((r.created_count, r.updated_count) for r in results) == [
        (0, 30),
        (0, 30),
        (0, 30),
        (30, 0),
    ]
    assert history() == {(sku, week(k)): 3 * k for sku in SKUS for k in range(10)}
