"""REST: quota recommendations, accept, override and accept-range."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.fields import DateTimeField
from rest_framework.test import APIClient

from coordination import roles
from coordination.models import ActivityEvent, Product
from coordination.weeks import add_weeks, current_week, iso_label
from production.models import ScheduleEntry, ScheduleRevision
from tests.factories import (
    LineFactory,
    ProductFactory,
    QuotaRecommendationFactory,
    RecomputeRunFactory,
)
from tests.production.seen import seen_cell, seen_schedule

pytestmark = pytest.mark.django_db

LIST = "/api/v1/quota-recommendations/"
ACCEPT = "/api/v1/quota-recommendations/accept/"
OVERRIDE = "/api/v1/quota-recommendations/override/"
ACCEPT_RANGE = "/api/v1/quota-recommendations/accept-range/"


def week(offset: int):
    return add_weeks(current_week(), offset)


def label(offset: int) -> str:
    return iso_label(week(offset))


def json_time(value) -> str:
    return DateTimeField().to_representation(value)


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def seen(sku: str = "BEV-1001", offset: int = 1) -> dict:
    """What a client that just read the cell sends: its run and its accepted entry."""
    return seen_cell(Product.objects.get(sku=sku).pk, week(offset))


def seen_version() -> dict:
    return seen_schedule()


def schedule_state() -> tuple:
    """Everything a refused write must leave alone."""
    return (
        list(ScheduleRevision.objects.order_by("id").values_list("id", flat=True)),
        list(ScheduleEntry.objects.order_by("id").values_list("id", "units", "superseded_at")),
        ActivityEvent.objects.count(),
    )


@pytest.fixture
def line():
    return LineFactory(name="Bottling 1")


@pytest.fixture
def product(line):
    return ProductFactory(sku="BEV-1001", production_line=line, lead_time_weeks=1)


@pytest.fixture
def rec(product):
    """Made next week for the week after: 420.4 demand, 100 in stock, 80 built ahead."""
    return QuotaRecommendationFactory(
        product=product,
        week=week(1),
        baseline=300.4,
        promotion_uplift=120.0,
        safety_stock=50.0,
        stock_before_arrival=100.0,
        prebuild_units=80.0,
        shortage_units=40.0,
        projected_on_hand=50.0,
    )


def expected_entry(entry: ScheduleEntry) -> dict:
    return {
        "id": entry.pk,
        "product": entry.product.sku,
        "line": entry.line.name,
        "week": iso_label(entry.week),
        "week_start": entry.week.isoformat(),
        "units": entry.units,
        "kind": entry.kind,
        "reason": entry.reason,
        "recommended_units": entry.recommended_units,
        "revision": entry.revision_id,
        "accepted_by": entry.accepted_by.username,
        "accepted_at": json_time(entry.accepted_at),
        "superseded": entry.superseded_at is not None,
        "superseded_by": entry.superseded_by_id,
        "superseded_at": json_time(entry.superseded_at) if entry.superseded_at else None,
    }


# --- list ------------------------------------------------------------------------------


def test_list_has_every_term_the_accepted_units_and_an_explanation(
    marketing_user, production_user, rec
):
    response = api(marketing_user).get(LIST)
    assert response.status_code == 200
    assert response.json() == {
        "count": 1,
        "next": None,
        "previous": None,
        "results": [
            {
                "id": rec.pk,
                "product": "BEV-1001",
                "line": "Bottling 1",
                "week": label(1),
                "week_start": week(1).isoformat(),
                "covers_week": label(2),
                # Whole units, as the grid states it and accepting writes.
                "recommended_units": 451,
                "baseline": 300.4,
                "promotion_uplift": 120.0,
                "promotion_dip": 0.0,
                "cannibalization": 0.0,
                "cannibalized_by": "",
                "halo": 0.0,
                "halo_from": "",
                "firm_orders": 0.0,
                "adjustment": 0.0,
                "demand": 420.4,
                "safety_stock": 50.0,
                "stock_before_arrival": 100.0,
                "net_requirement": 370.4,
                "projected_on_hand": 50.0,
                "prebuild_units": 80.0,
                "capacity_cut_units": 0.0,
                "shortage_units": 40.0,
                "hold_reason": "",
                "frozen": False,
                "stock_cap": None,
                "shelf_life_capped": False,
                "unplannable": "",
                "run": rec.run_id,
                "accepted_units": None,
                "accepted_entry": None,
                "explanation": f"for {label(2)}: demand 420 = baseline 300 + promotion 120; "
                "safety stock 50; 100 in stock; 80 built ahead for later weeks; short 40; "
                "recommended 451",
            }
        ],
    }
    api(production_user).post(
        ACCEPT, {"product": "BEV-1001", "week": label(1), **seen()}, format="json"
    )
    assert api(marketing_user).get(LIST).json()["results"][0]["accepted_units"] == 451


def test_explanation_of_held_frozen_and_negative_adjustment_cells(marketing_user, product):
    QuotaRecommendationFactory(
        product=product, week=week(2), baseline=200, adjustment=-30.0, frozen=True
    )
    QuotaRecommendationFactory(
        product=product,
        week=week(3),
        recommended_units=0.0,
        hold_reason="Stop-ship R-2026-004",
        stock_before_arrival=-25.0,
    )
    QuotaRecommendationFactory(
        product=product, week=week(4), firm_orders=60.0, capacity_cut_units=30.0
    )
    results = api(marketing_user).get(LIST).json()["results"]
    assert [r["explanation"] for r in results] == [
        f"for {label(3)}: demand 170 = baseline 200 - adjustment 30; "
        "frozen: accepted quota kept; recommended 170",
        "on hold: Stop-ship R-2026-004; recommended 0",
        f"for {label(5)}: demand 160 = baseline 100 + firm orders 60; "
        "30 could not be made this week; recommended 130",
    ]


def test_list_is_ordered_by_line_product_and_week_and_filters(marketing_user):
    line_b, line_a = LineFactory(name="Line B"), LineFactory(name="Line A")
    p2 = ProductFactory(sku="SKU-2", production_line=line_a)
    p1 = ProductFactory(sku="SKU-1", production_line=line_a)
    p3 = ProductFactory(sku="SKU-3", production_line=line_b)
    for p in (p3, p2, p1):
        for offset in (3, 1, 2):
            QuotaRecommendationFactory(product=p, week=week(offset))
    client = api(marketing_user)

    def cells(query=""):
        response = client.get(LIST + query)
        assert response.status_code == 200, response.json()
        return [(r["line"], r["product"], r["week"]) for r in response.json()["results"]]

    assert cells() == [
        ("Line A", sku, label(offset)) for sku in ("SKU-1", "SKU-2") for offset in (1, 2, 3)
    ] + [("Line B", "SKU-3", label(offset)) for offset in (1, 2, 3)]
    assert cells(f"?line={line_b.pk}") == [("Line B", "SKU-3", label(o)) for o in (1, 2, 3)]
    assert cells("?line=Line%20B") == cells(f"?line={line_b.pk}")
    assert cells(f"?product=SKU-2&from={label(2)}") == [
        ("Line A", "SKU-2", label(2)),
        ("Line A", "SKU-2", label(3)),
    ]
    assert cells(f"?to={week(1).isoformat()}&line=Line A") == [
        ("Line A", "SKU-1", label(1)),
        ("Line A", "SKU-2", label(1)),
    ]
    assert cells("?product=&line=") == cells()  # blank parameters are no filter
    page = client.get(LIST + "?page_size=4&page=3").json()
    assert page["count"] == 9
    assert [(r["product"], r["week"]) for r in page["results"]] == [("SKU-3", label(3))]


def test_a_page_of_recommendations_costs_three_queries(
    marketing_user, product, django_assert_num_queries
):
    client = api(marketing_user)
    client.get(LIST)  # loads the user's permissions once
    for offset in (1, 2, 3, 4):
        QuotaRecommendationFactory(product=product, week=week(offset))
        # The count, the page, and the page's channel forecasts (their explanations).
        with django_assert_num_queries(3):
            assert client.get(LIST).json()["count"] == offset


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("?line=Nowhere", "line", "There is no line 'Nowhere'."),
        ("?line=999999999", "line", "There is no line '999999999'."),
        ("?line=%C2%B2", "line", "There is no line '²'."),
        ("?product=NOPE-1", "product", "There is no product with SKU NOPE-1."),
        ("?from=2026-W60", "from", "2026-W60 is not a week of 2026."),
        (
            "?to=yesterday",
            "to",
            "Enter a week as 2026-W48 or a date as 2026-11-23; got 'yesterday'.",
        ),
        ("?from=2026-W10&to=2026-W09", "to", "The last week must not be before the first."),
    ],
)
def test_bad_filters_are_400_at_the_parameter(marketing_user, rec, query, field, message):
    response = api(marketing_user).get(LIST + query)
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "invalid",
            "message": "Some fields are not valid; see fields.",
            "fields": {field: [message]},
        }
    }


# --- accept ----------------------------------------------------------------------------


def test_accept_creates_a_revision_and_an_entry_rounded_up(production_user, rec):
    response = api(production_user).post(
        ACCEPT,
        {"product": "BEV-1001", "week": label(1), "seen_run_id": rec.run_id, "seen_entry_id": None},
        format="json",
    )
    assert response.status_code == 201
    revision = ScheduleRevision.objects.get()
    entry = ScheduleEntry.objects.get()
    assert (entry.units, entry.kind, entry.recommended_units) == (451, "accepted", 450.4)
    assert (entry.revision_id, entry.week, entry.accepted_by) == (
        revision.pk,
        week(1),
        production_user,
    )
    assert revision.summary == f"Accepted BEV-1001 {label(1)}: 451 units"
    assert response.json() == expected_entry(entry)
    assert response.json()["revision"] == revision.pk
    assert response.json()["accepted_by"] == "petra"


def test_accept_takes_a_date_inside_the_week(production_user, rec):
    wednesday = week(1) + dt.timedelta(days=2)
    response = api(production_user).post(
        ACCEPT,
        {"product": "BEV-1001", "week": wednesday.isoformat(), **seen()},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["week"] == label(1)


def test_accepting_again_supersedes_the_first_entry(production_user, rec):
    client = api(production_user)
    first = client.post(
        ACCEPT, {"product": "BEV-1001", "week": label(1), **seen()}, format="json"
    ).json()
    second = client.post(
        ACCEPT, {"product": "BEV-1001", "week": label(1), **seen()}, format="json"
    ).json()
    assert second["revision"] == first["revision"] + 1
    old, new = ScheduleEntry.objects.order_by("id")
    assert (old.pk, new.pk) == (first["id"], second["id"])
    assert old.superseded_by_id == new.pk
    assert old.superseded_at is not None
    assert new.superseded_at is None
    assert ScheduleEntry.objects.filter(superseded_at__isnull=True).count() == 1
    assert ScheduleRevision.objects.count() == 2


def test_accept_without_a_recommendation_is_400(production_user, rec):
    before = schedule_state()
    response = api(production_user).post(
        ACCEPT,
        {"product": "BEV-1001", "week": label(5), **seen(), "seen_entry_id": None},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "invalid",
        "message": f"There is no recommendation for that product in {label(5)}.",
        "fields": {
            "non_field_errors": [f"There is no recommendation for that product in {label(5)}."]
        },
    }
    assert schedule_state() == before


def test_stale_seen_run_id_is_409_and_accepts_nothing(production_user, rec):
    newer = RecomputeRunFactory(line=rec.line)
    rec.run = newer
    rec.save()
    before = schedule_state()
    client = api(production_user)
    for url, body in (
        (ACCEPT, {}),
        (OVERRIDE, {"units": 300, "reason": "Tank cleaning"}),
    ):
        stale = {
            "product": "BEV-1001",
            "week": label(1),
            "seen_run_id": newer.pk - 1,
            "seen_entry_id": None,
            **body,
        }
        response = client.post(url, stale, format="json")
        assert response.status_code == 409
        assert response.json()["error"] == {
            "code": "stale_edit",
            "message": "A recompute changed this recommendation since you loaded the page. "
            "Review the new number, then accept again.",
            "fields": {},
        }
    assert schedule_state() == before
    fresh = client.post(
        ACCEPT,
        {"product": "BEV-1001", "week": label(1), "seen_run_id": newer.pk, "seen_entry_id": None},
        format="json",
    )
    assert fresh.status_code == 201


def test_a_week_in_the_past_is_400_and_accepts_nothing(production_user, product):
    QuotaRecommendationFactory(product=product, week=week(-1))
    before = schedule_state()
    client = api(production_user)
    for url, extra in ((ACCEPT, {}), (OVERRIDE, {"units": 5, "reason": "Late count"})):
        response = client.post(
            url,
            {"product": "BEV-1001", "week": label(-1), **seen(offset=-1), **extra},
            format="json",
        )
        assert response.status_code == 400
        message = f"{label(-1)} is over: its quota can no longer change."
        assert response.json()["error"]["fields"] == {"non_field_errors": [message]}
        assert response.json()["error"]["message"] == message
    assert schedule_state() == before


# --- override --------------------------------------------------------------------------


def test_override_records_units_and_reason(production_user, rec):
    response = api(production_user).post(
        OVERRIDE,
        {
            "product": "BEV-1001",
            "week": label(1),
            "units": 380,
            "reason": "  Tank cleaning ",
            **seen(),
        },
        format="json",
    )
    assert response.status_code == 201
    entry = ScheduleEntry.objects.get()
    assert (entry.units, entry.kind, entry.reason, entry.recommended_units) == (
        380,
        "overridden",
        "Tank cleaning",
        450.4,
    )
    assert response.json() == expected_entry(entry)
    assert ScheduleRevision.objects.get().summary == (
        f"Overrode BEV-1001 {label(1)}: 380 units (recommended 451) — Tank cleaning"
    )


def test_an_override_with_the_longest_reason_is_accepted(production_user, rec):
    body = {"product": "BEV-1001", "week": label(1), "units": 5, "reason": "x" * 300, **seen()}
    response = api(production_user).post(OVERRIDE, body, format="json")
    assert response.status_code == 201
    assert ScheduleEntry.objects.get().reason == "x" * 300
    assert len(ScheduleRevision.objects.get().summary) <= 300


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_override_without_reason_is_400_at_reason(production_user, rec, reason):
    body = {"product": "BEV-1001", "week": label(1), "units": 380, **seen()}
    if reason is not None:
        body["reason"] = reason
    before = schedule_state()
    response = api(production_user).post(OVERRIDE, body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "reason": ["Say why you override Tandem's recommendation."]
    }
    assert schedule_state() == before


@pytest.mark.parametrize(
    ("units", "message"),
    [(-1, "A quota cannot be negative."), (100_000_001, "A quota is at most 100,000,000 units.")],
)
def test_override_units_out_of_range_is_400(production_user, rec, units, message):
    before = schedule_state()
    response = api(production_user).post(
        OVERRIDE,
        {"product": "BEV-1001", "week": label(1), "units": units, "reason": "Why not", **seen()},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"units": [message]}
    assert schedule_state() == before


def test_override_of_a_held_product_must_stay_zero(production_user, product):
    QuotaRecommendationFactory(
        product=product, week=week(1), recommended_units=0.0, hold_reason="Stop-ship R-1"
    )
    before = schedule_state()
    client = api(production_user)
    body = {"product": "BEV-1001", "week": label(1), "reason": "Customer insists", **seen()}
    response = client.post(OVERRIDE, {**body, "units": 10}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "units": ["BEV-1001 is on hold (Stop-ship R-1): its quota stays 0."]
    }
    assert schedule_state() == before
    assert client.post(OVERRIDE, {**body, "units": 0}, format="json").status_code == 201


# --- accept-range ----------------------------------------------------------------------


def test_accept_range_accepts_what_differs_as_one_revision(production_user, line, product):
    other = ProductFactory(sku="BEV-1002", production_line=line)
    elsewhere = ProductFactory(sku="BEV-9000", production_line=LineFactory(name="Canning"))
    for p in (product, other, elsewhere):
        for offset in (-1, 1, 2, 3):
            QuotaRecommendationFactory(product=p, week=week(offset), baseline=99.2)
    client = api(production_user)
    client.post(
        ACCEPT, {"product": "BEV-1002", "week": label(2), **seen("BEV-1002", 2)}, format="json"
    )
    first_version = ScheduleRevision.objects.get().pk

    body = {"line": "Bottling 1", "from": label(-1), "to": label(2), **seen_version()}
    response = client.post(ACCEPT_RANGE, body, format="json")
    assert response.status_code == 201
    revision = ScheduleRevision.objects.latest("id")
    assert response.json() == {"revision": revision.pk, "entries": 3, "kept_overrides": []}
    assert revision.pk == first_version + 1
    assert sorted(revision.entries.values_list("product__sku", "week", "units")) == [
        ("BEV-1001", week(1), 100),
        ("BEV-1001", week(2), 100),
        ("BEV-1002", week(1), 100),
    ]

    again = client.post(ACCEPT_RANGE, {**body, "line": line.pk, **seen_version()}, format="json")
    assert again.status_code == 200
    assert again.json() == {"revision": None, "entries": 0, "kept_overrides": []}
    assert ScheduleRevision.objects.count() == 2


def test_accept_range_keeps_what_a_person_overrode(production_user, line, product):
    """A range accept is not a decision about cells a person overrode: they stay, and the
    answer lists them. Accepting the cell on its own replaces the override."""
    other = ProductFactory(sku="BEV-1002", production_line=line)
    for p in (product, other):
        for offset in (1, 2):
            QuotaRecommendationFactory(product=p, week=week(offset), baseline=99.2)
    client = api(production_user)
    override = client.post(
        OVERRIDE,
        {"product": "BEV-1002", "week": label(2), "units": 40, "reason": "Tank cleaning",
         **seen("BEV-1002", 2)},
        format="json",
    )  # fmt: skip
    assert override.status_code == 201, override.json()
    entry = ScheduleEntry.objects.get(product=other, week=week(2), superseded_at__isnull=True)

    body = {"line": "Bottling 1", "from": label(1), "to": label(2), **seen_version()}
    response = client.post(ACCEPT_RANGE, body, format="json")
    assert response.status_code == 201
    assert response.json()["entries"] == 3
    assert response.json()["kept_overrides"] == [
        {"product": "BEV-1002", "week": label(2), "units": 40, "reason": "Tank cleaning",
         "entry": entry.pk},
    ]  # fmt: skip
    current = ScheduleEntry.objects.filter(superseded_at__isnull=True)
    assert sorted(current.values_list("product__sku", "week", "units", "kind")) == [
        ("BEV-1001", week(1), 100, "accepted"),
        ("BEV-1001", week(2), 100, "accepted"),
        ("BEV-1002", week(1), 100, "accepted"),
        ("BEV-1002", week(2), 40, "overridden"),
    ]

    single = client.post(
        ACCEPT, {"product": "BEV-1002", "week": label(2), **seen("BEV-1002", 2)}, format="json"
    )
    assert single.status_code == 201, single.json()
    assert current.get(product=other, week=week(2)).units == 100
    again = client.post(ACCEPT_RANGE, {**body, **seen_version()}, format="json")
    assert again.json() == {"revision": None, "entries": 0, "kept_overrides": []}


NO_VERSION_YET = {"seen_schedule_version": 0}


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [
        (-3, -1, "W-3–W-1 are over: their quotas can no longer change."),
        (-1, -1, "W-1 is over: its quota can no longer change."),
    ],
)
def test_accept_range_of_past_weeks_says_they_are_over(
    production_user, product, first, last, message
):
    for offset in (-3, -2, -1):
        QuotaRecommendationFactory(product=product, week=week(offset))
    message = message.replace("W-3", label(-3)).replace("W-1", label(-1))
    before = schedule_state()

    response = api(production_user).post(
        ACCEPT_RANGE,
        {"line": "Bottling 1", "from": label(first), "to": label(last), **NO_VERSION_YET},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["message"] == message
    assert response.json()["error"]["fields"] == {"non_field_errors": [message]}
    assert schedule_state() == before


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (
            {"line": "Bottling 1", "from": "2026-W10", "to": "2026-W09", **NO_VERSION_YET},
            {"to": ["The last week must not be before the first."]},
        ),
        (
            {"line": "Nowhere", "from": "2026-W10", "to": "2026-W12", **NO_VERSION_YET},
            {"line": ["There is no line 'Nowhere'."]},
        ),
        (
            {"line": "Bottling 1", **NO_VERSION_YET},
            {
                "from": ["Choose the week, e.g. 2026-W48."],
                "to": ["Choose the week, e.g. 2026-W48."],
            },
        ),
    ],
)
def test_accept_range_validation(production_user, rec, body, fields):
    before = schedule_state()
    response = api(production_user).post(ACCEPT_RANGE, body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == fields
    assert schedule_state() == before


# --- who may -----------------------------------------------------------------------------


ACTIONS = [
    (ACCEPT, lambda: {"product": "BEV-1001", "week": label(1), **seen()}),
    (
        OVERRIDE,
        lambda: {"product": "BEV-1001", "week": label(1), "units": 1, "reason": "x", **seen()},
    ),
    (
        ACCEPT_RANGE,
        lambda: {"line": "Bottling 1", "from": label(0), "to": label(4), **seen_version()},
    ),
]


@pytest.mark.parametrize("role", [roles.MARKETING, roles.SALES, roles.QUALITY])
@pytest.mark.parametrize(("url", "body"), ACTIONS)
def test_only_production_accepts_or_overrides(make_user, rec, role, url, body):
    user = make_user(role)
    before = schedule_state()
    response = api(user).post(url, body(), format="json")
    assert response.status_code == 403
    assert response.json() == {
        "error": {
            "code": "permission_denied",
            "message": "You do not have permission to perform this action.",
            "fields": {},
        }
    }
    assert schedule_state() == before
    assert api(user).get(LIST).status_code == 200  # every role reads the plan


def test_admin_may_accept(make_user, rec):
    response = api(make_user(roles.ADMIN)).post(ACCEPT, ACTIONS[0][1](), format="json")
    assert response.status_code == 201


@pytest.mark.parametrize(("url", "body"), ACTIONS)
def test_anonymous_is_refused_with_a_401_token_challenge(rec, url, body):
    before = schedule_state()
    for response in (api().post(url, body(), format="json"), api().get(LIST)):
        assert response.status_code == 401
        assert response.json() == {
            "error": {
                "code": "not_authenticated",
                "message": "Authentication credentials were not provided.",
                "fields": {},
            }
        }
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    bad_token = APIClient(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = bad_token.post(url, body(), format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
    assert schedule_state() == before


def test_token_authentication_works(production_user, rec):
    token = Token.objects.create(user=production_user)
    client = APIClient(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get(LIST).json()["count"] == 1
    response = client.post(ACCEPT, ACTIONS[0][1](), format="json")
    assert response.status_code == 201
    assert response.json()["accepted_by"] == "petra"


def test_session_authentication_works(client, production_user, rec):
    client.force_login(production_user)
    assert client.get(LIST).json()["count"] == 1


# --- never a 500 -----------------------------------------------------------------------


BAD_BODIES = [
    ("malformed", '{"product": "BEV-1001", '),
    ("list", "[]"),
    ("string", '"accept"'),
    ("null", "null"),
    ("number", "12"),
]

WRONG_TYPES = [
    (ACCEPT, {"product": ["BEV-1001"]}, "product"),
    (ACCEPT, {"product": {"sku": "BEV-1001"}}, "product"),
    (ACCEPT, {"product": True}, "product"),
    (ACCEPT, {"product": None}, "product"),
    (ACCEPT, {"week": 12}, "week"),
    (ACCEPT, {"week": [2026, 48]}, "week"),
    (ACCEPT, {"week": True}, "week"),
    (ACCEPT, {"week": "2026-02-30"}, "week"),
    (ACCEPT, {"week": "2026-W00"}, "week"),
    (ACCEPT, {"week": ""}, "week"),
    (ACCEPT, {"seen_run_id": "abc"}, "seen_run_id"),
    (ACCEPT, {"seen_run_id": True}, "seen_run_id"),
    (ACCEPT, {"seen_run_id": 1.5}, "seen_run_id"),
    (ACCEPT, {"seen_run_id": 10**30}, "seen_run_id"),
    (ACCEPT, {"seen_run_id": 0}, "seen_run_id"),
    (OVERRIDE, {"units": "ten"}, "units"),
    (OVERRIDE, {"units": 1.5}, "units"),
    (OVERRIDE, {"units": True}, "units"),
    (OVERRIDE, {"units": None}, "units"),
    (OVERRIDE, {"units": [1]}, "units"),
    (OVERRIDE, {"units": 10**30}, "units"),
    (OVERRIDE, {"reason": ["why"]}, "reason"),
    (OVERRIDE, {"reason": {"text": "why"}}, "reason"),
    (OVERRIDE, {"reason": "x" * 301}, "reason"),
    (ACCEPT_RANGE, {"line": [1]}, "line"),
    (ACCEPT_RANGE, {"line": True}, "line"),
    (ACCEPT_RANGE, {"line": 10**30}, "line"),
    (ACCEPT_RANGE, {"from": {}}, "from"),
    (ACCEPT_RANGE, {"to": 3.5}, "to"),
]

VALID = {
    ACCEPT: lambda: {"product": "BEV-1001", "week": label(1), **seen()},
    OVERRIDE: lambda: {
        "product": "BEV-1001",
        "week": label(1),
        "units": 5,
        "reason": "x",
        **seen(),
    },
    ACCEPT_RANGE: lambda: {
        "line": "Bottling 1",
        "from": label(0),
        "to": label(4),
        **seen_version(),
    },
}


@pytest.mark.parametrize("url", [ACCEPT, OVERRIDE, ACCEPT_RANGE])
@pytest.mark.parametrize(("kind", "raw"), BAD_BODIES)
def test_bodies_that_are_not_a_json_object_are_400(production_user, rec, url, kind, raw):
    before = schedule_state()
    response = api(production_user).post(url, raw, content_type="application/json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] in ("parse_error", "invalid")
    assert error["message"]
    assert schedule_state() == before


@pytest.mark.parametrize(("url", "change", "field"), WRONG_TYPES)
def test_wrong_types_are_400_at_the_field(production_user, rec, url, change, field):
    before = schedule_state()
    response = api(production_user).post(url, {**VALID[url](), **change}, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == [field]
    assert schedule_state() == before


def test_form_encoded_bodies_are_415(production_user, rec):
    body = {**VALID[ACCEPT](), "seen_entry_id": ""}  # a form has no null
    response = api(production_user).post(ACCEPT, body)  # multipart
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
    assert ScheduleEntry.objects.count() == 0
