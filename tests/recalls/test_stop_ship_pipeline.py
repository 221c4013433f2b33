"""A stop-ship through the real recompute pipeline: held products are planned at 0 with
the reason, their accepted quotas are zeroed, their promotions are put at risk and the
banners raised; releasing the hold plans them again."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError

from coordination.models import Notice, RecomputeRequest
from coordination.services import recompute as recompute_services
from coordination.services.locking import UNCHECKED
from coordination.weeks import add_weeks, current_week
from demand.models import Promotion, SalesActual
from demand.services.promotions import promotion_create
from production.models import (
    ProductionHold,
    QuotaRecommendation,
    RunRate,
    ScheduleEntry,
)
from production.services.schedule import quotas_accept_range
from recalls.models import AffectedLot, RecallIncident
from recalls.services import incidents
from tests.factories import LineFactory, ProductFactory, PromotionFactory, PromotionItemFactory
from tests.production.seen import seen_schedule

pytestmark = pytest.mark.django_db

WEEKS_OF_HISTORY = 156
HORIZON = 26


@pytest.fixture
def world():
    """Two products selling exactly 60 and 30 a week for three years, on a line of 1,000
    hours a week (never short) where a unit takes an hour, made and sold in the same week."""
    line = LineFactory(name="Bottling", weekly_capacity_hours=Decimal("1000"))
    tea = ProductFactory(sku="TEA-LEM-05", production_line=line, lead_time_weeks=0)
    mint = ProductFactory(sku="TEA-MNT-01", production_line=line, lead_time_weeks=0)
    start = add_weeks(current_week(), -WEEKS_OF_HISTORY)
    for product, units in ((tea, 60), (mint, 30)):
        RunRate.objects.create(product=product, hours_per_unit=Decimal("1"))
        SalesActual.objects.bulk_create(
            SalesActual(product=product, week=add_weeks(start, k), units=units)
            for k in range(WEEKS_OF_HISTORY)
        )
    return {"line": line, "tea": tea, "mint": mint}


def plan(product) -> list[tuple]:
    return list(
        QuotaRecommendation.objects.filter(product=product)
        .order_by("week")
        .values_list("week", "recommended_units", "hold_reason")
    )


def units(product) -> list[float]:
    return [units for _, units, _ in plan(product)]


def recompute(world, capture) -> None:
    with capture(execute=True):
        recompute_services.recompute_request(
            product_ids=[world["tea"].pk, world["mint"].pk], source="manual", reason="Plan"
        )


def week(offset: int):
    return add_weeks(current_week(), offset)


def open_recall(actor, products, **extra) -> RecallIncident:
    fields = {
        "title": "Glass fragments",
        "classification": "class_i",
        "hazard": "Cuts.",
        "source": "internal_test",
        **extra,
    }
    return incidents.recall_open(actor=actor, product_ids=[p.pk for p in products], **fields)


def stop(actor, incident, on: bool, capture) -> RecallIncident:
    with capture(execute=True):
        incidents.recall_set_stop_ship(
            actor=actor, incident_id=incident.pk, expected_version=UNCHECKED, stop=on
        )
    return RecallIncident.objects.get(pk=incident.pk)


def live_notices(reference: str) -> list[tuple]:
    return sorted(
        (notice.content_type.model, notice.object_id, notice.level)
        for notice in Notice.objects.filter(reference=reference, cleared_at__isnull=True)
    )


def test_stop_ship_holds_quotas_at_0_and_release_restores_them(
    quality_user, marketing_user, world, django_capture_on_commit_callbacks
):
    tea, mint, line = world["tea"], world["mint"], world["line"]
    capture = django_capture_on_commit_callbacks
    # Promotions: one running now, one ahead, one over, one cancelled, one on another product.
    running = PromotionItemFactory(
        product=tea,
        promotion__start_week=week(-1),
        promotion__end_week=week(1),
        promotion__status="confirmed",
    ).promotion
    with capture(execute=True):
        upcoming = promotion_create(
            actor=marketing_user,
            name="Summer tea",
            discount_pct=Decimal("20"),
            start_week=week(6),
            end_week=week(7),
            status="planned",
            items=[{"product": tea, "expected_lift_pct": Decimal("50")}],
        )
    over = PromotionItemFactory(
        product=tea,
        promotion__start_week=week(-5),
        promotion__end_week=week(-3),
        promotion__status="confirmed",
    ).promotion
    cancelled = PromotionItemFactory(product=tea, promotion__status="cancelled").promotion
    other = PromotionItemFactory(product=mint, promotion__status="confirmed").promotion
    recompute(world, capture)
    before_tea, before_mint = plan(tea), plan(mint)
    # Tea: 60 a week, +30 % while the running promotion lasts, +50 % in weeks 6-7.
    assert units(tea) == [78.0, 78.0, *[60.0] * 4, 90.0, 90.0, *[60.0] * 18]
    # Mint: 30 a week, +30 % in weeks 2-4.
    assert units(mint) == [30.0, 30.0, 39.0, 39.0, 39.0, *[30.0] * 21]
    assert {reason for _, _, reason in before_tea} == {""}

    incident = open_recall(quality_user, [tea])
    versions = dict(Promotion.objects.values_list("pk", "version"))
    incident = stop(quality_user, incident, True, capture)

    reason = f"Stop-ship {incident.code}: Glass fragments"
    assert (incident.stop_ship, incident.version) == (True, 2)
    assert incident.stop_ship_since is not None
    assert plan(tea) == [(w, 0.0, reason) for w, _, _ in before_tea]
    assert plan(mint) == before_mint
    hold = ProductionHold.objects.get()
    assert (hold.product, hold.reference, hold.reason, hold.released_at) == (
        tea,
        incident.code,
        reason,
        None,
    )
    request = RecomputeRequest.objects.filter(source="recall").get()
    assert (request.status, request.product_ids, request.reason) == (
        "done",
        [tea.pk],
        f"Hold {incident.code}: {reason}",
    )
    at_risk = dict(Promotion.objects.values_list("pk", "at_risk_reason"))
    assert at_risk == {
        running.pk: reason,
        upcoming.pk: reason,
        over.pk: "",
        cancelled.pk: "",
        other.pk: "",
    }
    assert Promotion.objects.get(pk=running.pk).version == versions[running.pk] + 1
    assert Promotion.objects.get(pk=over.pk).version == versions[over.pk]
    product_type = ContentType.objects.get_for_model(tea).model
    assert live_notices(incident.code) == sorted(
        [
            (product_type, tea.pk, "danger"),
            ("promotion", running.pk, "danger"),
            ("promotion", upcoming.pk, "danger"),
            ("line", line.pk, "danger"),
        ]
    )

    incident = stop(quality_user, incident, False, capture)

    assert (incident.stop_ship, incident.version) == (False, 3)
    assert plan(tea) == before_tea
    assert plan(mint) == before_mint
    assert ProductionHold.objects.get().released_at is not None
    assert list(
        RecomputeRequest.objects.filter(source="recall")
        .order_by("id")
        .values_list("status", "reason")
    ) == [("done", f"Hold {incident.code}: {reason}"), ("done", f"Hold {incident.code} released")]
    assert set(Promotion.objects.values_list("at_risk_reason", flat=True)) == {""}
    assert live_notices(incident.code) == []


def test_accepted_quotas_are_zeroed_and_stay_0_in_the_frozen_window_after_release(
    quality_user, production_user, world, django_capture_on_commit_callbacks
):
    tea, mint, line = world["tea"], world["mint"], world["line"]
    capture = django_capture_on_commit_callbacks
    recompute(world, capture)
    quotas_accept_range(
        actor=production_user,
        line_id=line.pk,
        week_from=week(0),
        week_to=week(HORIZON - 1),
        **seen_schedule(),
    )
    accepted_mint = schedule(mint)
    assert schedule(tea) == [(week(k), 60, "accepted", "") for k in range(HORIZON)]

    incident = stop(quality_user, open_recall(quality_user, [tea]), True, capture)

    reason = f"Stop-ship {incident.code}: Glass fragments"
    assert schedule(tea) == [
        (week(k), 0, "overridden", f"Hold {incident.code}: {reason}") for k in range(HORIZON)
    ]
    assert schedule(mint) == accepted_mint
    assert units(tea) == [0.0] * HORIZON

    stop(quality_user, incident, False, capture)

    # The accepted schedule keeps the zeros the hold wrote (production restarts by
    # accepting again), so the line's two frozen weeks stay at 0 and the plan catches up
    # the 120 units they miss in the first free week.
    assert units(tea) == [0.0, 0.0, 180.0, *[60.0] * 23]
    assert [r for _, _, r in plan(tea)] == [""] * HORIZON
    assert schedule(mint) == accepted_mint


def schedule(product) -> list[tuple]:
    return list(
        ScheduleEntry.objects.filter(product=product, superseded_at__isnull=True)
        .order_by("week")
        .values_list("week", "units", "kind", "reason")
    )


def test_a_promotion_stays_at_risk_while_another_recall_stops_its_product(
    quality_user, world, django_capture_on_commit_callbacks
):
    tea, mint = world["tea"], world["mint"]
    capture = django_capture_on_commit_callbacks
    both = PromotionFactory(status="confirmed")
    PromotionItemFactory(promotion=both, product=tea)
    PromotionItemFactory(promotion=both, product=mint)
    recompute(world, capture)
    glass = stop(quality_user, open_recall(quality_user, [tea]), True, capture)
    mould = stop(
        quality_user,
        open_recall(quality_user, [mint], title="Mould in mint tea"),
        True,
        capture,
    )
    mould_reason = f"Stop-ship {mould.code}: Mould in mint tea"
    both.refresh_from_db()
    assert both.at_risk_reason == mould_reason

    stop(quality_user, glass, False, capture)

    both.refresh_from_db()
    assert both.at_risk_reason == mould_reason  # mint is still stopped
    # Tea is planned again, the at-risk promotion (+30 % in weeks 2-4) included.
    assert units(tea) == [60.0, 60.0, 78.0, 78.0, 78.0, *[60.0] * 21]
    assert plan(mint) == [(week(k), 0.0, mould_reason) for k in range(HORIZON)]

    stop(quality_user, mould, False, capture)

    both.refresh_from_db()
    assert both.at_risk_reason == ""
    assert units(mint) == [30.0, 30.0, 39.0, 39.0, 39.0, *[30.0] * 21]


def test_two_recalls_on_one_product_hold_it_until_both_release(
    quality_user, world, django_capture_on_commit_callbacks
):
    tea = world["tea"]
    capture = django_capture_on_commit_callbacks
    recompute(world, capture)
    before = plan(tea)
    first = stop(quality_user, open_recall(quality_user, [tea]), True, capture)
    second = stop(
        quality_user, open_recall(quality_user, [tea], title="Wrong label"), True, capture
    )
    both = {f"Stop-ship {first.code}: Glass fragments", f"Stop-ship {second.code}: Wrong label"}
    assert {units for _, units, _ in plan(tea)} == {0.0}
    assert [set(reason.split("; ")) for _, _, reason in plan(tea)] == [both] * HORIZON

    stop(quality_user, first, False, capture)

    second_only = f"Stop-ship {second.code}: Wrong label"
    assert {(units, reason) for _, units, reason in plan(tea)} == {(0.0, second_only)}
    assert live_notices(first.code) == []
    assert len(live_notices(second.code)) == 2  # the product and its line

    stop(quality_user, second, False, capture)

    assert plan(tea) == before


def test_opening_with_a_stop_ship_holds_at_once(
    quality_user, world, django_capture_on_commit_callbacks
):
    tea, mint = world["tea"], world["mint"]
    capture = django_capture_on_commit_callbacks
    recompute(world, capture)
    before_mint = plan(mint)
    with capture(execute=True):
        incident = open_recall(quality_user, [tea], stop_ship=True)
    incident.refresh_from_db()
    reason = f"Stop-ship {incident.code}: Glass fragments"
    assert (incident.stop_ship, incident.version) == (True, 2)
    assert plan(tea) == [(week(k), 0.0, reason) for k in range(HORIZON)]
    assert plan(mint) == before_mint


def test_a_lot_of_a_new_product_under_a_stop_ship_holds_that_product_too(
    quality_user, world, django_capture_on_commit_callbacks
):
    tea, mint = world["tea"], world["mint"]
    capture = django_capture_on_commit_callbacks
    promotion = PromotionItemFactory(product=mint, promotion__status="planned").promotion
    recompute(world, capture)
    incident = stop(quality_user, open_recall(quality_user, [tea]), True, capture)
    reason = f"Stop-ship {incident.code}: Glass fragments"
    promotion.refresh_from_db()
    assert promotion.at_risk_reason == ""

    # Only an explicit add_product brings a new product into the recall, and holds it.
    with pytest.raises(ValidationError) as refused, capture(execute=True):
        incidents.lot_add(
            actor=quality_user, incident_id=incident.pk, product_id=mint.pk, lot_code="M-7"
        )
    assert refused.value.message_dict == {
        "product": [
            "TEA-MNT-01 is not in this recall. Adding it stops its shipping: its production "
            "is held at 0 and 1 promotion is put at risk. Confirm adding the product to the "
            "recall to go ahead."
        ]
    }
    assert ProductionHold.objects.filter(product=mint).count() == 0
    assert AffectedLot.objects.count() == 0
    with capture(execute=True):
        incidents.lot_add(
            actor=quality_user,
            incident_id=incident.pk,
            product_id=mint.pk,
            lot_code="M-7",
            add_product=True,
        )

    assert plan(mint) == [(week(k), 0.0, reason) for k in range(HORIZON)]
    assert sorted(
        ProductionHold.objects.filter(released_at__isnull=True).values_list(
            "product__sku", flat=True
        )
    ) == ["TEA-LEM-05", "TEA-MNT-01"]
    promotion.refresh_from_db()
    assert promotion.at_risk_reason == reason
    assert (ContentType.objects.get_for_model(mint).model, mint.pk, "danger") in live_notices(
        incident.code
    )

    stop(quality_user, incident, False, capture)

    # Mint is planned again, its planned promotion (+30 % in weeks 2-4) included.
    assert units(mint) == [30.0, 30.0, 39.0, 39.0, 39.0, *[30.0] * 21]
    promotion.refresh_from_db()
    assert promotion.at_risk_reason == ""
