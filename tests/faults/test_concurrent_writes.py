"""Two writers at once, for real: threads with their own PostgreSQL connections.

- Two planners override the same cell over the same state: exactly one wins (201), the
  other is refused (409) and nothing of it is written. The loser waits on the schedule
  lock while the winner's transaction is open, then sees the winner's entry: the check
  runs under the lock, so no interleaving loses a decision.
- A client sends the same create twice at once with one Idempotency-Key (a retry that
  overtakes the first attempt): one row is created and both answers are the same.

SQLite serializes whole transactions, so these need PostgreSQL: skipped on SQLite,
failed in CI (CI=true), where PostgreSQL must be configured. Every wait is bounded."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client

from coordination import roles
from coordination.models import ActivityEvent, IdempotencyKey
from coordination.services import idempotency
from coordination.weeks import add_weeks, current_week, iso_label
from demand.models import Promotion
from production.models import ScheduleEntry, ScheduleRevision
from production.services import webhooks
from tests.conftest import IN_CI
from tests.factories import LineFactory, ProductFactory, QuotaRecommendationFactory
from tests.production.seen import seen_cell

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

WAIT = 15  # seconds: any wait longer than this is a hang, and fails the test


@pytest.fixture(autouse=True)
def _postgresql():
    if connection.vendor != "postgresql":
        if IN_CI:
            pytest.fail("CI=true but DATABASE_URL is not PostgreSQL: race tests need it.")
        pytest.skip("Real concurrent writers need PostgreSQL (set DATABASE_URL); CI runs them.")


class Pause:
    """Wraps a function so that its first caller stops inside it (its transaction open,
    its locks held) until released; later callers go straight through."""

    def __init__(self, function: Callable):
        self.function = function
        self.reached, self.release = threading.Event(), threading.Event()
        self._first = threading.Lock()

    def __call__(self, *args, **kwargs):
        if self._first.acquire(blocking=False):
            self.reached.set()
            assert self.release.wait(WAIT), "never released"
        return self.function(*args, **kwargs)


class Writer(threading.Thread):
    """One browser or API client, in its own thread with its own database connection."""

    def __init__(self, user, send: Callable[[Client], object]):
        super().__init__(daemon=True)
        self.client = Client()
        self.client.force_login(user)
        self.send, self.response, self.error = send, None, None

    def run(self):
        try:
            self.response = self.send(self.client)
        except BaseException as exc:  # reported by the test, not lost in the thread
            self.error = exc
        finally:
            connection.close()

    def finish(self):
        self.join(WAIT)
        assert not self.is_alive(), "a writer hung"
        assert self.error is None, self.error
        return self.response


def week(offset: int):
    return add_weeks(current_week(), offset)


@pytest.fixture
def planners(make_user):
    return (
        make_user(roles.PRODUCTION, username="petra", first_name="Petra", last_name=""),
        make_user(roles.PRODUCTION, username="oskar", first_name="Oskar", last_name=""),
    )


@pytest.fixture
def cell():
    line = LineFactory(name="Bottling 1")
    product = ProductFactory(sku="BEV-1001", production_line=line)
    QuotaRecommendationFactory(product=product, week=week(1), baseline=100.0)
    return product


def together(start: threading.Barrier, send: Callable[[Client], object]):
    """Send when every writer is ready, so they reach the server at the same moment."""

    def go(client):
        start.wait()
        return send(client)

    return go


def override(seen: dict, units: int):
    body = {"product": "BEV-1001", "week": iso_label(week(1)), "units": units, "reason": "Plant"}
    return lambda client: client.post(
        "/api/v1/quota-recommendations/override/", {**body, **seen}, content_type="application/json"
    )


def test_two_concurrent_overrides_of_one_cell_one_wins_one_is_refused(planners, cell, monkeypatch):
    petra, oskar = planners
    seen = seen_cell(cell.pk, week(1))  # both loaded the cell: nothing accepted yet
    pause = Pause(webhooks.schedule_changed)  # the last step of a write, inside its transaction
    monkeypatch.setattr(webhooks, "schedule_changed", pause)

    first = Writer(petra, override(seen, 111))
    first.start()
    assert pause.reached.wait(WAIT)  # Petra's override is written, not yet committed
    second = Writer(oskar, override(seen, 222))
    second.start()
    second.join(1.0)
    waited = second.is_alive()  # Oskar's override waits on the schedule lock
    pause.release.set()
    won, lost = first.finish(), second.finish()

    assert waited
    assert (won.status_code, lost.status_code) == (201, 409)
    entry = ScheduleEntry.objects.get()
    assert (entry.units, entry.accepted_by, entry.pk) == (111, petra, won.json()["id"])
    assert lost.json()["error"]["code"] == "stale_edit"
    assert lost.json()["error"]["message"].startswith(
        f"Petra overrode BEV-1001 in {iso_label(week(1))} to 111 units at "
    )
    assert ScheduleRevision.objects.count() == 1
    assert ActivityEvent.objects.filter(actor=oskar).count() == 0


def test_overrides_released_together_never_both_win(planners, cell):
    petra, oskar = planners
    for round_ in range(5):
        seen = seen_cell(cell.pk, week(1))
        start = threading.Barrier(2, timeout=WAIT)
        writers = [
            Writer(petra, together(start, override(seen, 100 + round_))),
            Writer(oskar, together(start, override(seen, 200 + round_))),
        ]
        for writer in writers:
            writer.start()
        statuses = sorted(writer.finish().status_code for writer in writers)

        assert statuses == [201, 409]
        current = ScheduleEntry.objects.get(superseded_at__isnull=True)
        assert current.units in (100 + round_, 200 + round_)
        assert ScheduleEntry.objects.count() == round_ + 1
        assert ScheduleRevision.objects.count() == round_ + 1


def test_one_create_sent_twice_at_once_with_one_key_makes_one_row(make_user, monkeypatch):
    marketer = make_user(roles.MARKETING, username="mara")
    ProductFactory(sku="BEV-1001")
    body = {
        "name": "Summer",
        "discount_pct": "10",
        "start_week": iso_label(week(3)),
        "end_week": iso_label(week(4)),
        "items": [{"product": "BEV-1001", "expected_lift_pct": "20"}],
    }
    pause = Pause(idempotency.idempotency_record)  # the create is made, not committed
    monkeypatch.setattr(idempotency, "idempotency_record", pause)

    def send(client):
        return client.post(
            "/api/v1/promotions/",
            body,
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="3f1c9a2e-retry",
        )

    first = Writer(marketer, send)
    first.start()
    assert pause.reached.wait(WAIT)
    retry = Writer(marketer, send)
    retry.start()
    retry.join(1.0)
    waited = retry.is_alive()  # the retry waits on the key's unique index
    pause.release.set()
    original, replayed = first.finish(), retry.finish()

    assert waited
    assert original.status_code == replayed.status_code == 201
    assert replayed.content == original.content
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in original.headers
    assert Promotion.objects.count() == 1
    assert Promotion.objects.get().pk == original.json()["id"]
    assert IdempotencyKey.objects.count() == 1
