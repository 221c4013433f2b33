"""The recompute pipeline: after commit only, coalescing, idempotency, failure safety,
the reconciler, and the worked pre-build example end to end."""

from decimal import Decimal

import pytest
from django.db import transaction

from coordination.models import RecomputeRequest
from coordination.services import recompute as recompute_services
from coordination.weeks import add_weeks, current_week
from demand.models import DemandForecast, Promotion, SalesActual
from demand.services.promotions import promotion_create
from production.models import QuotaRecommendation, RecomputeRun, RunRate
from production.services import pipeline
from tests.factories import LineFactory, ProductFactory

pytestmark = pytest.mark.django_db

WEEKS_OF_HISTORY = 156


@pytest.fixture
def world():
    """One product selling exactly 60 a week for three years, on a line of 100 hours a
    week where a unit takes an hour, made and sold in the same week (lead time 0)."""
    line = LineFactory(name="Bottling", weekly_capacity_hours=Decimal("100"))
    product = ProductFactory(sku="TEA-LEM-05", production_line=line, lead_time_weeks=0)
    RunRate.objects.create(product=product, hours_per_unit=Decimal("1"))
    start = add_weeks(current_week(), -WEEKS_OF_HISTORY)
    SalesActual.objects.bulk_create(
        SalesActual(product=product, week=add_weeks(start, k), units=60)
        for k in range(WEEKS_OF_HISTORY)
    )
    return {"line": line, "product": product}


def plan(product, first=0, count=10):
    recs = QuotaRecommendation.objects.filter(product=product).order_by("week")
    return [
        (round(r.recommended_units), round(r.prebuild_units), round(r.shortage_units))
        for r in recs[first : first + count]
    ]


def promote(actor, product, *, lift, week, status=Promotion.Status.CONFIRMED):
    return promotion_create(
        actor=actor,
        name="Big push",
        discount_pct=Decimal("25"),
        start_week=add_weeks(current_week(), week),
        end_week=add_weeks(current_week(), week),
        status=status,
        items=[{"product": product, "expected_lift_pct": Decimal(lift)}],
    )


def test_a_promotion_in_week_8_is_built_ahead_in_weeks_5_to_7(
    marketing_user, world, django_capture_on_commit_callbacks
):
    product = world["product"]
    # +250% on a baseline of 60: 210 wanted in week 8, the line makes at most 100,
    # so 110 units are made in the latest earlier weeks with room: 40 + 40 + 30.
    with django_capture_on_commit_callbacks(execute=True):
        promote(marketing_user, product, lift=250, week=8)
    request = RecomputeRequest.objects.get()
    assert (request.status, request.source, request.product_ids) == (
        "done",
        "promotion",
        [product.pk],
    )
    assert plan(product) == [
        (60, 0, 0),
        (60, 0, 0),
        (60, 0, 0),
        (60, 0, 0),
        (60, 0, 0),
        (90, 30, 0),
        (100, 40, 0),
        (100, 40, 0),
        (100, 0, 0),
        (60, 0, 0),
    ]
    week8 = QuotaRecommendation.objects.get(product=product, week=add_weeks(current_week(), 8))
    assert (week8.baseline, week8.promotion_uplift, week8.demand) == (60.0, 150.0, 210.0)
    assert week8.stock_before_arrival == pytest.approx(110.0)


def test_the_task_is_enqueued_only_after_commit(
    marketing_user, world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        promote(marketing_user, world["product"], lift=50, week=4)
    assert len(callbacks) == 1
    request = RecomputeRequest.objects.get()
    assert (request.status, request.enqueue_attempts) == ("pending", 0)
    assert QuotaRecommendation.objects.count() == 0
    callbacks[0]()
    request.refresh_from_db()
    assert (request.status, request.enqueue_attempts) == ("done", 1)
    assert QuotaRecommendation.objects.filter(product=world["product"]).count() == 26


def test_a_rollback_enqueues_nothing(marketing_user, world, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        promote(marketing_user, world["product"], lift=50, week=4)
        raise RuntimeError("the form failed after the save")
    assert callbacks == []
    assert RecomputeRequest.objects.count() == 0
    assert Promotion.objects.count() == 0


def test_a_draft_promotion_asks_for_nothing(marketing_user, world):
    promote(marketing_user, world["product"], lift=50, week=4, status=Promotion.Status.DRAFT)
    assert RecomputeRequest.objects.count() == 0


def test_ten_quick_edits_coalesce_into_one_run(
    marketing_user, world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        for _ in range(10):
            recompute_services.recompute_request(
                product_ids=[world["product"].pk], source="manual", reason="edit"
            )
    ids = list(RecomputeRequest.objects.order_by("pk").values_list("pk", flat=True))
    assert len(ids) == 10
    first_runs = pipeline.process_request(ids[0])
    assert len(first_runs) == 1
    assert set(RecomputeRequest.objects.values_list("status", flat=True)) == {"done"}
    for pk in ids[1:]:
        assert pipeline.process_request(pk) == []
    assert RecomputeRun.objects.count() == 1
    assert RecomputeRun.objects.get().requests.count() == 10


def test_a_duplicate_delivery_changes_nothing_and_a_rerun_gives_identical_rows(world):
    product = world["product"]
    with transaction.atomic():
        request = recompute_services.recompute_request(
            product_ids=[product.pk], source="manual", reason="first", enqueue_after_commit=False
        )
    pipeline.process_request(request.pk)
    first = list(
        QuotaRecommendation.objects.order_by("week").values_list("week", "recommended_units")
    )
    forecasts = list(DemandForecast.objects.order_by("week").values_list("week", "final"))
    assert pipeline.process_request(request.pk) == []  # redelivered: already done
    assert RecomputeRun.objects.count() == 1
    with transaction.atomic():
        again = recompute_services.recompute_request(
            product_ids=[product.pk], source="manual", reason="again", enqueue_after_commit=False
        )
    pipeline.process_request(again.pk)
    assert (
        list(QuotaRecommendation.objects.order_by("week").values_list("week", "recommended_units"))
        == first
    )
    assert list(DemandForecast.objects.order_by("week").values_list("week", "final")) == forecasts


def test_a_failing_run_keeps_the_old_plan(world, monkeypatch):
    product = world["product"]
    with transaction.atomic():
        first = recompute_services.recompute_request(
            product_ids=[product.pk], source="manual", reason="ok", enqueue_after_commit=False
        )
    pipeline.process_request(first.pk)
    before = list(QuotaRecommendation.objects.values_list("pk", "recommended_units"))
    forecasts_before = list(DemandForecast.objects.values_list("pk", "final"))

    def explode(**kwargs):
        raise RuntimeError("worker lost the database")

    monkeypatch.setattr("production.services.pipeline.plan_line", explode)
    with transaction.atomic():
        second = recompute_services.recompute_request(
            product_ids=[product.pk], source="manual", reason="boom", enqueue_after_commit=False
        )
    with pytest.raises(RuntimeError):
        pipeline.process_request(second.pk)
    second.refresh_from_db()
    assert second.status == "failed"
    assert second.error == "RuntimeError: worker lost the database"
    assert list(QuotaRecommendation.objects.values_list("pk", "recommended_units")) == before
    assert list(DemandForecast.objects.values_list("pk", "final")) == forecasts_before
    assert list(RecomputeRun.objects.order_by("pk").values_list("state", flat=True)) == [
        "done",
        "failed",
    ]


def test_the_reconciler_picks_up_what_a_broker_outage_left(
    world, monkeypatch, django_capture_on_commit_callbacks
):
    from celery import current_app
    from kombu.exceptions import OperationalError

    task = current_app.tasks[recompute_services.PROCESS_TASK]

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(task, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        recompute_services.recompute_request(
            product_ids=[world["product"].pk], source="manual", reason="during outage"
        )
    request = RecomputeRequest.objects.get()
    assert (request.status, request.enqueue_attempts, request.enqueued_at) == ("pending", 1, None)
    assert QuotaRecommendation.objects.count() == 0
    # Too fresh to re-enqueue: the after-commit enqueue may still be on its way.
    assert pipeline.reconcile() == []
    RecomputeRequest.objects.update(created_at=request.created_at - pipeline.UNSENT_GRACE * 2)
    monkeypatch.undo()
    assert pipeline.reconcile() == [request.pk]
    request.refresh_from_db()
    assert (request.status, request.enqueue_attempts) == ("done", 2)
    assert QuotaRecommendation.objects.filter(product=world["product"]).count() == 26
