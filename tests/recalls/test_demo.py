"""The recall demo data: one live class II recall with a stop-ship and one closed class
III recall, made through the services, and nothing duplicated on a second run."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from coordination import demo
from coordination.models import ActivityEvent, CustomerRequest, Notice
from demand import demo as demand_demo
from demand.models import Promotion
from production.models import ProductionHold
from recalls import demo as recalls_demo
from recalls.models import (
    AffectedLot,
    CustomerNotification,
    PressInquiry,
    RecallIncident,
    RecallTask,
    Statement,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def company():
    demo.seed_users()
    demo.seed_products()
    demand_demo.seed_upcoming_promotions()


def counts() -> dict[str, int]:
    return {
        "incidents": RecallIncident.objects.count(),
        "lots": AffectedLot.objects.count(),
        "tasks": RecallTask.objects.count(),
        "press": PressInquiry.objects.count(),
        "statements": Statement.objects.count(),
        "notifications": CustomerNotification.objects.count(),
        "holds": ProductionHold.objects.count(),
        "requests": CustomerRequest.objects.count(),
        "notices": Notice.objects.count(),
        "events": ActivityEvent.objects.filter(
            content_type=ContentType.objects.get_for_model(RecallIncident)
        ).count(),
    }


def test_seed_recalls_creates_one_live_and_one_closed_recall(company, client):
    assert recalls_demo.seed_recalls() == {"recalls": 2, "created": 2}
    live = RecallIncident.objects.get(title=recalls_demo.LIVE_TITLE)
    closed = RecallIncident.objects.get(title=recalls_demo.CLOSED_TITLE)

    assert (live.classification, live.status, live.stop_ship, live.source) == (
        "class_ii",
        "announced",
        True,
        "customer",
    )
    assert list(live.products.values_list("sku", flat=True)) == ["TEA-MAN-05"]
    assert [r.kind for r in live.source_requests.all()] == ["quality_issue"]
    assert list(live.lots.values_list("lot_code", "units")) == [
        ("L-B1-0347", 9600),
        ("L-B1-0352", 8400),
    ]
    assert live.root_cause == ""
    assert live.tasks.count() == 4
    assert [t.title for t in live.tasks.all() if t.is_overdue] == [
        "Quarantine the remaining stock of both lots"
    ]
    assert live.tasks.filter(done_at__isnull=False).count() == 1
    assert list(live.press_inquiries.values_list("outlet", "status")) == [("Daily Courier", "open")]
    assert list(live.statements.values_list("status", flat=True)) == ["submitted"]
    assert live.notifications.count() == 3
    assert (live.units_distributed, live.units_recovered, live.consignees_to_notify) == (
        14500,
        2400,
        9,
    )
    assert live.announced_at < timezone.now()
    # The stop-ship really reached production and marketing.
    assert ProductionHold.objects.filter(reference=live.code, released_at=None).count() == 1
    promotion = Promotion.objects.get(name="Winter warm-up: iced tea 2 for 1")
    assert promotion.at_risk_reason == f"Stop-ship {live.code}: {recalls_demo.LIVE_TITLE}"
    assert sorted(
        Notice.objects.filter(reference=live.code, cleared_at=None).values_list(
            "content_type__model", flat=True
        )
    ) == ["line", "product", "promotion"]

    assert (closed.classification, closed.status, closed.stop_ship, closed.source) == (
        "class_iii",
        "closed",
        False,
        "internal_test",
    )
    assert closed.root_cause.startswith("After a format change the date coder")
    assert (closed.units_distributed, closed.units_recovered, closed.units_unaccounted) == (
        24000,
        22700,
        1300,
    )
    assert closed.consignees_to_notify == closed.notifications.count() == 4
    assert list(closed.statements.values_list("status", flat=True)) == ["published"]
    assert closed.created_at < closed.announced_at < closed.closed_at < timezone.now()
    assert ProductionHold.objects.filter(reference=closed.code).count() == 0
    # Both public notices are online.
    for incident in (live, closed):
        url = reverse("recall_public_notice", args=[incident.code])
        assert client.get(url).status_code == 200


def test_seed_recalls_twice_duplicates_nothing(company):
    recalls_demo.seed_recalls()
    before = counts()
    assert before == {
        "incidents": 2,
        "lots": 3,
        "tasks": 5,
        "press": 1,
        "statements": 2,
        "notifications": 7,
        "holds": 1,
        "requests": 1,
        "notices": 3,
        "events": 37,  # 19 on the live recall's timeline, 18 on the closed one's
    }
    assert recalls_demo.seed_recalls() == {"recalls": 2, "created": 0}
    assert counts() == before


def test_seed_recalls_without_the_demo_products_does_nothing(db):
    demo.seed_users()
    assert recalls_demo.seed_recalls() == {"recalls": 0, "created": 0}
