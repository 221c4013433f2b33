"""REST: /api/v1/promotions/ — create, read, edit, status, filters, lift suggestion."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from coordination.input_limits import window_message
from coordination.models import ActivityEvent, Product, RecomputeRequest
from coordination.weeks import add_weeks, current_week, iso_label
from demand.engine.effects import learn_lift_curves
from demand.models import Promotion, PromotionItem
from tests.factories import (
    ProductFactory,
    PromotionFactory,
    PromotionItemFactory,
    SalesActualFactory,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/promotions/"
NO_HISTORY = "No finished promotions in this product line yet: enter your own estimate."


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def tea():
    return ProductFactory(sku="TEA-LEM-05", name="Lemon tea", product_line__name="Tea")


@pytest.fixture
def mint(tea):
    return ProductFactory(sku="TEA-MNT-01", name="Mint tea", product_line=tea.product_line)


def week(offset: int):
    return add_weeks(current_week(), offset)


def payload(**overrides) -> dict:
    body = {
        "name": "Summer tea",
        "channel": "retail",
        "discount_pct": "20",
        "start_week": iso_label(week(4)),
        "end_week": iso_label(week(6)),
        "notes": "Endcaps in 40 stores.",
        "items": [{"product": "TEA-LEM-05", "expected_lift_pct": 35}],
    }
    body.update(overrides)
    return body


def nothing_written():
    return (
        Promotion.objects.count(),
        PromotionItem.objects.count(),
        ActivityEvent.objects.count(),
        RecomputeRequest.objects.count(),
    ) == (0, 0, 0, 0)


# ---------------------------------------------------------------------------- create


def test_create_draft_returns_the_promotion_and_asks_no_recompute(
    marketing_user, tea, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client_for(marketing_user).post(URL, payload(), format="json")

    assert response.status_code == 201
    promotion = Promotion.objects.get()
    body = response.json()
    assert body == {
        "id": promotion.pk,
        "name": "Summer tea",
        "channel": "retail",
        "discount_pct": "20.0",
        "start_week": week(4).isoformat(),
        "end_week": week(6).isoformat(),
        "status": "draft",
        "notes": "Endcaps in 40 stores.",
        "at_risk_reason": "",
        "items": [
            {
                "product": "TEA-LEM-05",
                "expected_lift_pct": "35.0",
                "suggested_lift_pct": None,
                "suggestion_evidence": NO_HISTORY,
            }
        ],
        "created_by": "mara",
        "updated_by": "mara",
        "version": 1,
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
        "recompute": None,
        "warnings": [],
    }
    assert body["created_at"].startswith(str(promotion.created_at.year))
    assert RecomputeRequest.objects.count() == 0
    assert callbacks == []
    assert list(ActivityEvent.objects.values_list("verb", "object_id")) == [
        ("created", promotion.pk)
    ]


def test_create_planned_asks_one_recompute_of_its_products(
    marketing_user, tea, mint, django_capture_on_commit_callbacks
):
    items = [
        {"product": "tea-mnt-01 ", "expected_lift_pct": "12.5"},
        {"product": "TEA-LEM-05", "expected_lift_pct": -5},
    ]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client_for(marketing_user).post(
            URL,
            payload(status="planned", items=items, start_week=week(3).isoformat()),
            format="json",
        )

    assert response.status_code == 201, response.json()
    promotion = Promotion.objects.get()
    request = RecomputeRequest.objects.get()
    assert request.source == "promotion"
    assert request.product_ids == sorted([tea.pk, mint.pk])
    assert request.subject_id == promotion.pk
    assert request.requested_by == marketing_user
    assert request.reason == "Promotion “Summer tea” was logged"
    assert len(callbacks) == 1  # the enqueue, after commit
    body = response.json()
    assert body["status"] == "planned"
    assert body["start_week"] == week(3).isoformat()
    assert [(i["product"], i["expected_lift_pct"]) for i in body["items"]] == [
        ("TEA-LEM-05", "-5.0"),
        ("TEA-MNT-01", "12.5"),
    ]
    assert body["recompute"] == {
        "id": request.pk,
        "status": "pending",
        "source": "promotion",
        "reason": "Promotion “Summer tea” was logged",
        "product_ids": sorted([tea.pk, mint.pk]),
        "created_at": body["recompute"]["created_at"],
        "started_at": None,
        "finished_at": None,
        "error": "",
    }


def test_create_accepts_an_iso_date_and_stores_its_monday(marketing_user, tea):
    wednesday = week(4) + dt.timedelta(days=2)
    response = client_for(marketing_user).post(
        URL, payload(start_week=wednesday.isoformat()), format="json"
    )
    assert response.status_code == 201
    assert Promotion.objects.get().start_week == week(4)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"start_week": "W", "end_week": "2020-W01"},
            "start_week",
            "Enter a week as 2026-W48 or a date as 2026-11-23; got 'W'.",
        ),
        ({"start_week": "2027-W60"}, "start_week", "2027-W60 is not a week of 2027."),
        ({"end_week": "9999-W01"}, "end_week", window_message()),
        ({"start_week": 202701}, "start_week", "Enter a week as 2026-W48 or a date as 2026-11-23."),
        ({"discount_pct": "95"}, "discount_pct", "Ensure this value is less than or equal to 90."),
        ({"discount_pct": "lots"}, "discount_pct", "A valid number is required."),
        ({"name": ""}, "name", "This field may not be blank."),
        ({"name": ["Summer"]}, "name", "Not a valid string."),
        ({"channel": "radio"}, "channel", '"radio" is not a valid choice.'),
        ({"status": "cancelled"}, "status", '"cancelled" is not a valid choice.'),
        ({"items": []}, "items", "Add at least one product to the promotion."),
        ({"items": "TEA-LEM-05"}, "items", 'Expected a list of items but got type "str".'),
        (
            {"items": [{"product": "TEA-XXX-99", "expected_lift_pct": 10}]},
            "items.0.product",
            "No product with SKU TEA-XXX-99.",
        ),
        (
            {"items": [{"product": 5, "expected_lift_pct": 10}]},
            "items.0.product",
            "Give the product's SKU as text, e.g. BEV-1001.",
        ),
        (
            {"items": [{"product": "TEA-LEM-05", "expected_lift_pct": 900}]},
            "items.0.expected_lift_pct",
            "A lift of 900.0% is outside the sane range -50% to +500%.",
        ),
        (
            {"items": [{"product": "TEA-LEM-05", "expected_lift_pct": "a lot"}]},
            "items.0.expected_lift_pct",
            "A valid number is required.",
        ),
        (
            {
                "items": [
                    {"product": "TEA-LEM-05", "expected_lift_pct": 10},
                    {"product": "TEA-LEM-05", "expected_lift_pct": 20},
                ]
            },
            "items.1.product",
            "TEA-LEM-05 is already in this promotion.",
        ),
        (
            {"items": [{"product": "TEA-OLD-01", "expected_lift_pct": 10}]},
            "items.0.product",
            "TEA-OLD-01 is discontinued and cannot be promoted.",
        ),
        (
            {"start_week": iso_label(week(6)), "end_week": iso_label(week(4))},
            "end_week",
            "The promotion must end on or after its start week.",
        ),
    ],
)
def test_invalid_create_answers_400_at_the_field_and_writes_nothing(
    marketing_user, tea, overrides, field, message
):
    ProductFactory(sku="TEA-OLD-01", lifecycle=Product.Lifecycle.DISCONTINUED)

    response = client_for(marketing_user).post(URL, payload(**overrides), format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["fields"][field] == [message]
    assert nothing_written()


def test_create_of_a_past_promotion_is_refused(marketing_user, tea):
    response = client_for(marketing_user).post(
        URL,
        payload(start_week=iso_label(week(-3)), end_week=iso_label(week(-1))),
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "end_week": [f"{iso_label(week(-1))} has passed: plan a future promotion."]
    }
    assert nothing_written()


def test_malformed_json_answers_400_with_the_error_body(marketing_user, tea):
    response = client_for(marketing_user).post(
        URL, data='{"name": "Summer', content_type="application/json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "parse_error"
    assert error["message"].startswith("JSON parse error")
    assert error["fields"] == {}
    assert nothing_written()


def test_a_json_list_body_answers_400(marketing_user, tea):
    response = client_for(marketing_user).post(URL, [payload()], format="json")
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "invalid",
        "message": "Invalid data. Expected a dictionary, but got list.",
        "fields": {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]},
    }
    assert nothing_written()


def test_form_encoded_body_is_refused_with_415(marketing_user, tea):
    response = client_for(marketing_user).post(URL, {"name": "x"})
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
    assert nothing_written()


def test_create_reports_overlapping_promotions_on_the_same_products(marketing_user, tea, mint):
    other = PromotionFactory(
        name="Spring tea", status="planned", start_week=week(5), end_week=week(8)
    )
    PromotionItemFactory(promotion=other, product=tea)
    PromotionItemFactory(promotion=other, product=mint)
    cancelled = PromotionFactory(name="Old idea", status="cancelled", start_week=week(4))
    PromotionItemFactory(promotion=cancelled, product=tea)
    elsewhere = PromotionFactory(name="Autumn tea", start_week=week(7), end_week=week(9))
    PromotionItemFactory(promotion=elsewhere, product=tea)

    response = client_for(marketing_user).post(URL, payload(), format="json")

    assert response.status_code == 201
    assert response.json()["warnings"] == [
        f"Overlaps “Spring tea” (planned) on TEA-LEM-05 in "
        f"{iso_label(week(5))} – {iso_label(week(8))}."
    ]


# ---------------------------------------------------------------------------- permissions


def test_production_may_not_create_promotions(production_user, tea):
    response = client_for(production_user).post(URL, payload(), format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert nothing_written()


def test_sales_may_not_plan_or_edit_promotions(sales_user):
    promotion = PromotionItemFactory().promotion
    client = client_for(sales_user)
    assert (
        client.post(
            f"{URL}{promotion.pk}/status/", {"status": "planned", "version": 1}, format="json"
        ).status_code
        == 403
    )
    assert (
        client.patch(
            f"{URL}{promotion.pk}/", {"name": "x", "version": 1}, format="json"
        ).status_code
        == 403
    )
    promotion.refresh_from_db()
    assert (promotion.status, promotion.version, promotion.name) == ("draft", 1, promotion.name)
    assert ActivityEvent.objects.count() == 0


@pytest.mark.parametrize(
    "role", ["marketing_user", "sales_user", "production_user", "quality_user", "admin_user"]
)
def test_every_role_reads_promotions(request, role):
    item = PromotionItemFactory()
    client = client_for(request.getfixturevalue(role))
    listed = client.get(URL)
    assert listed.status_code == 200
    assert [p["id"] for p in listed.json()["results"]] == [item.promotion_id]
    assert client.get(f"{URL}{item.promotion_id}/").status_code == 200


def test_anonymous_callers_are_refused(tea):
    response = APIClient().get(URL)
    assert response.status_code in (401, 403)
    assert response.json()["error"]["code"] == "not_authenticated"


def test_delete_and_put_are_not_offered(marketing_user):
    promotion = PromotionItemFactory().promotion
    client = client_for(marketing_user)
    assert client.delete(f"{URL}{promotion.pk}/").status_code == 405
    assert client.put(f"{URL}{promotion.pk}/", payload(version=1), format="json").status_code == 405
    assert client.delete(URL).status_code == 405
    assert Promotion.objects.filter(pk=promotion.pk).exists()


def test_unknown_promotion_is_404(marketing_user):
    client = client_for(marketing_user)
    assert client.get(f"{URL}999/").status_code == 404
    assert client.get(f"{URL}abc/").json()["error"]["code"] == "not_found"
    response = client.patch(f"{URL}999/", {"version": 1}, format="json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


# ---------------------------------------------------------------------------- edit


def test_patch_changes_the_fields_sent_and_bumps_the_version(marketing_user, tea, mint):
    promotion = PromotionItemFactory(product=tea, promotion__name="Summer tea").promotion

    response = client_for(marketing_user).patch(
        f"{URL}{promotion.pk}/",
        {
            "name": "  Summer tea XL ",
            "discount_pct": "25",
            "end_week": iso_label(week(5)),
            "items": [{"product": "TEA-MNT-01", "expected_lift_pct": 40}],
            "version": 1,
        },
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["name"], body["discount_pct"], body["end_week"], body["version"]) == (
        "Summer tea XL",
        "25.0",
        week(5).isoformat(),
        2,
    )
    assert body["start_week"] == week(2).isoformat()
    assert [i["product"] for i in body["items"]] == ["TEA-MNT-01"]
    assert body["updated_by"] == "mara"
    assert body["recompute"] is None  # a draft does not reach the plan
    assert RecomputeRequest.objects.count() == 0


def test_patch_of_a_planned_promotion_recomputes_old_and_new_products(marketing_user, tea, mint):
    promotion = PromotionItemFactory(product=tea, promotion__status="planned").promotion

    response = client_for(marketing_user).patch(
        f"{URL}{promotion.pk}/",
        {"items": [{"product": "TEA-MNT-01", "expected_lift_pct": 40}], "version": 1},
        format="json",
    )

    assert response.status_code == 200
    request = RecomputeRequest.objects.get()
    assert request.product_ids == sorted([tea.pk, mint.pk])
    assert response.json()["recompute"]["id"] == request.pk


def test_patch_without_version_is_400_at_version(marketing_user):
    promotion = PromotionItemFactory(promotion__name="Old").promotion
    response = client_for(marketing_user).patch(
        f"{URL}{promotion.pk}/", {"name": "New"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"version": ["This field is required."]}
    promotion.refresh_from_db()
    assert (promotion.name, promotion.version) == ("Old", 1)
    assert ActivityEvent.objects.count() == 0


def test_stale_patch_is_409_and_changes_nothing(marketing_user):
    promotion = PromotionItemFactory(promotion__name="Summer tea").promotion
    Promotion.objects.filter(pk=promotion.pk).update(version=3)

    response = client_for(marketing_user).patch(
        f"{URL}{promotion.pk}/", {"name": "Mine", "version": 2}, format="json"
    )

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "stale_edit"
    assert error["message"].startswith("Promotion Summer tea was changed by someone else")
    promotion.refresh_from_db()
    assert (promotion.name, promotion.version) == ("Summer tea", 3)
    assert ActivityEvent.objects.count() == 0
    assert RecomputeRequest.objects.count() == 0


def test_patch_cannot_change_the_status(marketing_user):
    promotion = PromotionItemFactory().promotion
    response = client_for(marketing_user).patch(
        f"{URL}{promotion.pk}/", {"status": "confirmed", "version": 1}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "status": ["Change the status with POST /api/v1/promotions/<id>/status/."]
    }
    promotion.refresh_from_db()
    assert (promotion.status, promotion.version) == ("draft", 1)


def test_patch_with_a_bad_lift_changes_nothing(marketing_user, tea):
    promotion = PromotionItemFactory(product=tea, expected_lift_pct=Decimal("30")).promotion
    response = client_for(marketing_user).patch(
        f"{URL}{promotion.pk}/",
        {
            "name": "Changed",
            "items": [{"product": "TEA-LEM-05", "expected_lift_pct": -80}],
            "version": 1,
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "items.0.expected_lift_pct": ["A lift of -80.0% is outside the sane range -50% to +500%."]
    }
    promotion.refresh_from_db()
    assert (promotion.name, promotion.version) == (promotion.name, 1)
    assert promotion.name != "Changed"
    assert list(promotion.items.values_list("expected_lift_pct", flat=True)) == [Decimal("30.0")]


# ---------------------------------------------------------------------------- status


@pytest.mark.parametrize(
    ("start", "target", "recomputes"),
    [
        ("draft", "planned", 1),
        ("draft", "confirmed", 1),
        ("planned", "confirmed", 1),
        ("confirmed", "planned", 1),
        ("confirmed", "cancelled", 1),
        ("draft", "cancelled", 0),
        ("cancelled", "draft", 0),
    ],
)
def test_allowed_status_changes(marketing_user, tea, start, target, recomputes):
    promotion = PromotionItemFactory(product=tea, promotion__status=start).promotion

    response = client_for(marketing_user).post(
        f"{URL}{promotion.pk}/status/", {"status": target, "version": 1}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["version"]) == (target, 2)
    assert RecomputeRequest.objects.count() == recomputes
    event = ActivityEvent.objects.get()
    assert (event.verb, event.data) == ("transitioned", {"from": start, "to": target})


@pytest.mark.parametrize(
    ("start", "target", "message"),
    [
        ("cancelled", "confirmed", "A cancelled promotion cannot become confirmed."),
        ("cancelled", "planned", "A cancelled promotion cannot become planned."),
        ("confirmed", "draft", "A confirmed promotion cannot become draft."),
        ("draft", "draft", "A draft promotion cannot become draft."),
    ],
)
def test_refused_status_changes_are_400_and_change_nothing(
    marketing_user, tea, start, target, message
):
    promotion = PromotionItemFactory(product=tea, promotion__status=start).promotion

    response = client_for(marketing_user).post(
        f"{URL}{promotion.pk}/status/", {"status": target, "version": 1}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"status": [message]}
    promotion.refresh_from_db()
    assert (promotion.status, promotion.version) == (start, 1)
    assert ActivityEvent.objects.count() == 0
    assert RecomputeRequest.objects.count() == 0


def test_status_needs_a_known_status_and_the_version(marketing_user):
    promotion = PromotionItemFactory().promotion
    response = client_for(marketing_user).post(
        f"{URL}{promotion.pk}/status/", {"status": "live"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "status": ['"live" is not a valid choice.'],
        "version": ["This field is required."],
    }


def test_stale_status_change_is_409(marketing_user):
    promotion = PromotionItemFactory().promotion
    Promotion.objects.filter(pk=promotion.pk).update(version=2)
    response = client_for(marketing_user).post(
        f"{URL}{promotion.pk}/status/", {"status": "planned", "version": 1}, format="json"
    )
    assert response.status_code == 409
    promotion.refresh_from_db()
    assert (promotion.status, promotion.version) == ("draft", 2)
    assert RecomputeRequest.objects.count() == 0


def test_planning_a_promotion_of_a_discontinued_product_is_refused(marketing_user, tea):
    promotion = PromotionItemFactory(product=tea).promotion
    Product.objects.filter(pk=tea.pk).update(lifecycle=Product.Lifecycle.DISCONTINUED)
    response = client_for(marketing_user).post(
        f"{URL}{promotion.pk}/status/", {"status": "planned", "version": 1}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Remove discontinued products first: TEA-LEM-05."
    assert RecomputeRequest.objects.count() == 0


# ---------------------------------------------------------------------------- list


@pytest.fixture
def calendar(tea, mint):
    """Three promotions: A weeks 2-4 on tea (planned), B weeks 6-7 on mint (draft),
    C weeks 3-3 on tea and mint (cancelled, online)."""
    a = PromotionItemFactory(
        product=tea,
        promotion__name="A",
        promotion__status="planned",
        promotion__start_week=week(2),
        promotion__end_week=week(4),
    ).promotion
    b = PromotionItemFactory(
        product=mint,
        promotion__name="B",
        promotion__start_week=week(6),
        promotion__end_week=week(7),
    ).promotion
    c = PromotionItemFactory(
        product=tea,
        promotion__name="C",
        promotion__status="cancelled",
        promotion__channel="online",
        promotion__start_week=week(3),
        promotion__end_week=week(3),
    ).promotion
    PromotionItemFactory(promotion=c, product=mint)
    return a, b, c


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("", ["A", "C", "B"]),
        ("?status=planned&status=draft", ["A", "B"]),
        ("?channel=online", ["C"]),
        ("?product=TEA-MNT-01", ["C", "B"]),
        ("?active_in={w3}", ["A", "C"]),
        ("?active_in={w5}", []),
        ("?from={w4}&to={w6}", ["A", "B"]),
        ("?from={w5}", ["B"]),
        ("?to={w2}", ["A"]),
        ("?ordering=-name", ["C", "B", "A"]),
        ("?ordering=name&product=TEA-LEM-05", ["A", "C"]),
    ],
)
def test_list_filters_and_ordering(marketing_user, calendar, query, names):
    query = query.format(
        w3=iso_label(week(3)),
        w5=week(5).isoformat(),
        w4=iso_label(week(4)),
        w6=iso_label(week(6)),
        w2=iso_label(week(2)),
    )
    response = client_for(marketing_user).get(URL + query)
    assert response.status_code == 200
    body = response.json()
    assert [p["name"] for p in body["results"]] == names
    assert body["count"] == len(names)


def test_list_shows_each_promotions_latest_recompute(marketing_user, calendar):
    a, _, _ = calendar
    client = client_for(marketing_user)
    client.post(f"{URL}{a.pk}/status/", {"status": "confirmed", "version": 1}, format="json")
    latest = RecomputeRequest.objects.get()
    results = {p["name"]: p for p in client.get(URL).json()["results"]}
    assert results["A"]["recompute"]["id"] == latest.pk
    assert results["B"]["recompute"] is None
    assert "warnings" not in results["A"]


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        (
            "?active_in=soon",
            "active_in",
            "Enter a week as 2026-W48 or a date as 2026-11-23; got 'soon'.",
        ),
        ("?from=2026-W99", "from", "2026-W99 is not a week of 2026."),
        ("?from=2027-W10&to=2027-W09", "to", "`to` is before `from`."),
        ("?product=NOPE-1", "product", "No product with SKU NOPE-1."),
        (
            "?status=live",
            "status",
            "Select a valid choice. live is not one of the available choices.",
        ),
    ],
)
def test_bad_filters_are_400_at_the_parameter(marketing_user, calendar, query, field, message):
    response = client_for(marketing_user).get(URL + query)
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {field: [message]}


# ---------------------------------------------------------------------------- lift


@pytest.fixture
def lift_history(tea, mint):
    """Lemon tea: a confirmed 20%-off promotion two weeks long, 12-11 weeks ago, with
    8 weeks of 100 units before, 150 and 170 during, 90 for 4 weeks after:
    lift (160/100 - 1) = +60%, dip -10%. Mint tea (same line): a planned 30%-off
    one-week promotion 30 weeks ago, 50 units before and 60 during: +20%, no dip data.
    Noise that must not count: a cancelled promotion of lemon tea with a huge spike."""
    confirmed = PromotionItemFactory(
        product=tea,
        promotion__name="Summer tea 2025",
        promotion__status="confirmed",
        promotion__discount_pct=Decimal("20"),
        promotion__start_week=week(-12),
        promotion__end_week=week(-11),
    ).promotion
    for k in range(1, 9):
        SalesActualFactory(product=tea, week=add_weeks(week(-12), -k), units=100)
    SalesActualFactory(product=tea, week=week(-12), units=150)
    SalesActualFactory(product=tea, week=week(-11), units=170)
    for k in range(1, 5):
        SalesActualFactory(product=tea, week=add_weeks(week(-11), k), units=90)

    planned = PromotionItemFactory(
        product=mint,
        promotion__name="Mint week",
        promotion__status="planned",
        promotion__discount_pct=Decimal("30"),
        promotion__start_week=week(-30),
        promotion__end_week=week(-30),
    ).promotion
    for k in range(1, 9):
        SalesActualFactory(product=mint, week=add_weeks(week(-30), -k), units=50)
    SalesActualFactory(product=mint, week=week(-30), units=60)

    PromotionItemFactory(
        product=tea,
        promotion__status="cancelled",
        promotion__start_week=week(-40),
        promotion__end_week=week(-40),
    )
    for k in range(1, 9):
        SalesActualFactory(product=tea, week=add_weeks(week(-40), -k), units=10)
    SalesActualFactory(product=tea, week=week(-40), units=1000)
    return confirmed, planned


def test_lift_suggestion_from_a_known_history(marketing_user, lift_history):
    confirmed, _ = lift_history
    # Flat histories: each counterfactual is the level around the promotion (100, 50).
    # The line's lift line through (20 %, +60) and (30 %, +20), centred on 25 %, weighted
    # by 1 / (100 + fitted)^2 (noise-free: every promotion as precise), its slope held
    # toward 0 by a tenth of a promotion's worth at 10 points; each product's line is the
    # line's scaled by its own factor, pooled toward 1 by the products' spread: noise-free
    # promotions are precise against any spread, so lemon keeps its own (+60 at 20 %).
    learned = learn_lift_curves([20.0, 30.0], [60.0, 20.0], ["lemon", "mint"])
    line_avg = learned.line.at(20)
    suggested = learned.curve("lemon").at(20)
    b = learned.curve("lemon").slope
    assert (round(line_avg, 1), round(learned.line.at(30), 1)) == (56.8, 23.5)
    assert round(suggested, 1) == 60.0

    response = client_for(marketing_user).get(
        f"{URL}lift-suggestion/?product=TEA-LEM-05&discount=20"
    )

    assert response.status_code == 200
    body = response.json()
    assert body["suggested_lift_pct"] == "60.0"
    assert body["evidence"] == (
        "1 past promotion, avg +60% against the counterfactual; dip -10% for 4 weeks; Tea +57%."
    )
    assert body["elasticity"] == pytest.approx(b)
    assert (body["dip_pct"], body["dip_weeks"]) == (pytest.approx(-10.0), 4)
    # Mint sold nothing on record while lemon tea was promoted: nothing to measure.
    assert body["cannibalization"] == []
    assert (body["product_count"], body["line_count"]) == (1, 2)
    assert body["product_avg"] == pytest.approx(60.0)
    assert body["line_avg"] == pytest.approx(line_avg)
    assert body["past"] == [
        {
            "promotion": confirmed.pk,
            "promotion_name": "Summer tea 2025",
            "start_week": week(-12).isoformat(),
            "end_week": week(-11).isoformat(),
            "discount_pct": 20.0,
            "baseline": pytest.approx(100.0),
            "lift_pct": pytest.approx(60.0),
            "dip_pct": pytest.approx(-10.0),
        }
    ]


def test_lift_suggestion_for_a_product_without_its_own_history(marketing_user, lift_history):
    ProductFactory(sku="TEA-GRN-02", product_line__name="Tea")
    response = client_for(marketing_user).get(
        f"{URL}lift-suggestion/?product=tea-grn-02&discount=30"
    )
    assert response.status_code == 200
    body = response.json()
    # The line's lift line at 30 % off (as above); the line's dip, -10 % for 4 weeks.
    assert body["suggested_lift_pct"] == "23.5"
    assert body["evidence"] == (
        "No past promotions of TEA-GRN-02; Tea averaged +24% over 2 promotions against the "
        "counterfactual; dip -10% for 4 weeks."
    )
    assert (body["product_count"], body["product_avg"], body["past"]) == (0, None, [])


def test_lift_suggestion_can_leave_out_the_promotion_being_edited(marketing_user, lift_history):
    confirmed, _ = lift_history
    response = client_for(marketing_user).get(
        f"{URL}lift-suggestion/?product=TEA-LEM-05&discount=20&promotion={confirmed.pk}"
    )
    assert response.json()["evidence"] == (
        "No past promotions of TEA-LEM-05; Tea averaged +20% over 1 promotion against the "
        "counterfactual; no dip."
    )


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("discount=20", {"product": ["This field is required."]}),
        ("product=NOPE-1&discount=20", {"product": ["No product with SKU NOPE-1."]}),
        ("product=TEA-LEM-05&discount=abc", {"discount": ["A valid number is required."]}),
        (
            "product=TEA-LEM-05&discount=95",
            {"discount": ["Ensure this value is less than or equal to 90."]},
        ),
        ("product=TEA-LEM-05", {"discount": ["This field is required."]}),
    ],
)
def test_lift_suggestion_refuses_bad_queries(sales_user, tea, query, fields):
    response = client_for(sales_user).get(f"{URL}lift-suggestion/?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == fields


def test_the_suggestion_names_what_a_promotion_took_from_each_sibling(marketing_user):
    """Lemon tea promoted alone twice (+50 %); peach loses a fifth of its extra units,
    mint nothing."""
    lemon, peach, mint = (
        ProductFactory(sku=sku, product_line__name="Tea")
        for sku in ("TEA-LEM-05", "TEA-PEA-05", "TEA-MNT-05")
    )
    for product in (peach, mint):
        product.product_line = lemon.product_line
        product.save()
    for start in (-30, -15):
        promotion = PromotionFactory(
            status="confirmed", start_week=week(start), end_week=week(start + 1)
        )
        PromotionItemFactory(promotion=promotion, product=lemon)
    promoted = {week(k) for start in (-30, -15) for k in (start, start + 1)}
    for k in range(-40, 0):
        w = week(k)
        SalesActualFactory(product=lemon, week=w, units=150 if w in promoted else 100)
        SalesActualFactory(product=peach, week=w, units=190 if w in promoted else 200)
        SalesActualFactory(product=mint, week=w, units=80)

    response = client_for(marketing_user).get(
        f"{URL}lift-suggestion/?product=TEA-LEM-05&discount=20"
    )

    assert response.status_code == 200
    assert response.json()["cannibalization"] == [
        {
            "sibling": "TEA-PEA-05",
            "share_pct": pytest.approx(20.0),
            "measured_pct": pytest.approx(20.0),
            "promotions": 2,
            "learned": True,
            "halo": False,
            "note": "20% of the extra units, over 2 promotions",
        },
        {
            "sibling": "TEA-MNT-05",
            "share_pct": 0.0,
            "measured_pct": pytest.approx(0.0, abs=1e-9),
            "promotions": 2,
            "learned": False,
            "halo": False,
            "note": "0: no loss or gain distinguishable from the sibling's noise",
        },
    ]
