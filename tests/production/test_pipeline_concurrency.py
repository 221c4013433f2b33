"""Two workers planning different lines at the same time (PostgreSQL: real row locks).

A worker locks the requests it serves for its whole re-plan. It must lock only those:
holding another line's request made that line's worker wait to mark it running, or skip
its own locked row and leave it "running" until the reconciler's 20-minute limit."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from coordination.models import RecomputeRequest
from production.services import pipeline
from tests.factories import LineFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks need PostgreSQL (CI runs it)"
    ),
]


def request_for(line) -> RecomputeRequest:
    return RecomputeRequest.objects.create(
        source="manual", reason=f"edit on {line}", product_ids=[], line_ids=[line.pk]
    )


def test_a_worker_holds_only_its_own_lines_requests():
    first_line, second_line = LineFactory(name="Bottling"), LineFactory(name="Canning")
    first, second = request_for(first_line), request_for(second_line)
    claimed_by_first = []
    holding, release = threading.Event(), threading.Event()

    def first_worker():
        try:
            with transaction.atomic():
                claimed_by_first.extend(pipeline._claim(first, {first_line.pk}))
                holding.set()
                release.wait(timeout=10)  # the re-plan, holding the claim's locks
        finally:
            connection.close()

    thread = threading.Thread(target=first_worker)
    thread.start()
    try:
        assert holding.wait(timeout=10)
        with transaction.atomic():
            # Fail fast instead of hanging if the first worker holds this row.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            marked = RecomputeRequest.objects.filter(pk=second.pk, status="pending").update(
                status="running"
            )
            claimed_by_second = pipeline._claim(second, {second_line.pk})
    finally:
        release.set()
        thread.join(timeout=10)

    assert [r.pk for r in claimed_by_first] == [first.pk]
    assert marked == 1
    assert [r.pk for r in claimed_by_second] == [second.pk]


def test_a_request_the_holder_serves_is_left_to_it():
    line = LineFactory(name="Bottling")
    mine, coalesced = request_for(line), request_for(line)
    holding, release = threading.Event(), threading.Event()
    claimed_by_first = []

    def first_worker():
        try:
            with transaction.atomic():
                claimed_by_first.extend(pipeline._claim(mine, {line.pk}))
                holding.set()
                release.wait(timeout=10)
        finally:
            connection.close()

    thread = threading.Thread(target=first_worker)
    thread.start()
    try:
        assert holding.wait(timeout=10)
        with transaction.atomic():
            # The second request's own worker finds its row taken: it does nothing, the
            # holder plans it (and marks it done when it commits).
            assert pipeline._claim(coalesced, {line.pk}) == []
    finally:
        release.set()
        thread.join(timeout=10)

    assert [r.pk for r in claimed_by_first] == [mine.pk, coalesced.pk]
