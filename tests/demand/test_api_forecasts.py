"""REST: /api/v1/forecasts/, /api/v1/forecasts/adjustments/, /api/v1/forecast-accuracy/."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from coordination.input_limits import window_message
from coordination.models import ActivityEvent, RecomputeRequest
from coordination.weeks import add_weeks, current_week, iso_label
from demand.models import DemandForecast, MarketingAdjustment
from tests.factories import (
    DemandForecastFactory,
    ForecastRunFactory,
    ProductFactory,
    SalesActualFactory,
)

pytestmark = pytest.mark.django_db

FORECASTS = "/api/v1/forecasts/"
ADJUST = "/api/v1/forecasts/adjustments/"
ACCURACY = "/api/v1/forecast-accuracy/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def week(offset: int):
    return add_weeks(current_week(), offset)


# ---------------------------------------------------------------------------- forecasts


@pytest.fixture
def forecasts():
    """Two tea products and one juice, three weeks each, written by one run."""
    run = ForecastRunFactory()
    lemon = ProductFactory(sku="TEA-LEM-05", product_line__name="Tea")
    mint = ProductFactory(sku="TEA-MNT-01", product_line=lemon.product_line)
    juice = ProductFactory(sku="JUI-ORA-01", product_line__name="Juice")
    for product in (mint, juice, lemon):  # created out of order on purpose
        for k in (2, 0, 1):
            DemandForecastFactory(
                product=product,
                week=week(k),
                run=run,
                baseline=100.0 + k,
                promotion_uplift=10.0 * k,
                firm_orders=5.0,
                adjustment=-2.0,
                method="ets",
            )
    return run, lemon, mint, juice


def test_forecast_rows_carry_every_term_ordered_by_product_then_week(marketing_user, forecasts):
    run, lemon, *_ = forecasts
    response = client_for(marketing_user).get(f"{FORECASTS}?product=TEA-LEM-05")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    first = DemandForecast.objects.get(product=lemon, week=week(0))
    assert body["results"][0] == {
        "id": first.pk,
        "product": "TEA-LEM-05",
        "week": week(0).isoformat(),
        "baseline": 100.0,
        "promotion_uplift": 0.0,
        "promotion_dip": 0.0,
        "cannibalization": 0.0,
        "cannibalized_by": "",
        "halo": 0.0,
        "halo_from": "",
        "from_likes": 0.0,
        "successor_transfer": 0.0,
        "transferred_with": "",
        "firm_orders": 5.0,
        "adjustment": -2.0,
        "final": 103.0,
        "method": "ets",
        "run": run.pk,
        "channels": [],
    }
    assert [(r["week"], r["final"]) for r in body["results"]] == [
        (week(0).isoformat(), 103.0),
        (week(1).isoformat(), 114.0),
        (week(2).isoformat(), 125.0),
    ]


def rows_of(response) -> list[tuple[str, int]]:
    """(sku, weeks from now) per result row."""
    return [
        (r["product"], (dt.date.fromisoformat(r["week"]) - current_week()).days // 7)
        for r in response.json()["results"]
    ]


@pytest.mark.parametrize(
    ("query", "rows"),
    [
        (
            "",
            [
                ("JUI-ORA-01", 0),
                ("JUI-ORA-01", 1),
                ("JUI-ORA-01", 2),
                ("TEA-LEM-05", 0),
                ("TEA-LEM-05", 1),
                ("TEA-LEM-05", 2),
                ("TEA-MNT-01", 0),
                ("TEA-MNT-01", 1),
                ("TEA-MNT-01", 2),
            ],
        ),
        (
            "?from={w1}",
            [
                ("JUI-ORA-01", 1),
                ("JUI-ORA-01", 2),
                ("TEA-LEM-05", 1),
                ("TEA-LEM-05", 2),
                ("TEA-MNT-01", 1),
                ("TEA-MNT-01", 2),
            ],
        ),
        ("?to={w0}&line={tea}", [("TEA-LEM-05", 0), ("TEA-MNT-01", 0)]),
        ("?product=TEA-MNT-01&from={w1}&to={thursday1}", [("TEA-MNT-01", 1)]),
        ("?product=TEA-MNT-01&from={w2}&to={w2}&line={juice}", []),
    ],
)
def test_forecast_filters(marketing_user, forecasts, query, rows):
    _, lemon, _, juice = forecasts
    query = query.format(
        w0=iso_label(week(0)),
        w1=iso_label(week(1)),
        w2=week(2).isoformat(),
        thursday1=(week(1) + dt.timedelta(days=3)).isoformat(),
        tea=lemon.product_line_id,
        juice=juice.product_line_id,
    )
    response = client_for(marketing_user).get(FORECASTS + query)
    assert response.status_code == 200
    assert rows_of(response) == rows
    assert response.json()["count"] == len(rows)


def test_forecast_pagination(marketing_user, forecasts):
    client = client_for(marketing_user)
    response = client.get(f"{FORECASTS}?page_size=4&page=2")
    assert rows_of(response) == [
        ("TEA-LEM-05", 1),
        ("TEA-LEM-05", 2),
        ("TEA-MNT-01", 0),
        ("TEA-MNT-01", 1),
    ]
    page = response.json()
    assert page["count"] == 9
    assert page["next"] == "http://testserver/api/v1/forecasts/?page=3&page_size=4"
    assert page["previous"] == "http://testserver/api/v1/forecasts/?page_size=4"
    last = client.get(f"{FORECASTS}?page_size=4&page=4")
    assert last.status_code == 404
    assert last.json()["error"]["code"] == "not_found"


def test_forecast_page_size_is_capped_at_500(marketing_user):
    run = ForecastRunFactory()
    product = ProductFactory(sku="BIG-0001")
    DemandForecast.objects.bulk_create(
        DemandForecast(product=product, week=week(k), run=run, baseline=1, final=1, method="x")
        for k in range(501)
    )
    body = client_for(marketing_user).get(f"{FORECASTS}?page_size=1000").json()
    assert (body["count"], len(body["results"])) == (501, 500)
    assert body["results"][-1]["week"] == week(499).isoformat()


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        (
            "?from=next-week",
            {"from": ["Enter a week as 2026-W48 or a date as 2026-11-23; got 'next-week'."]},
        ),
        ("?to=2026-W54", {"to": ["2026-W54 is not a week of 2026."]}),
        ("?from=2027-W10&to=2027-W01", {"to": ["`to` is before `from`."]}),
        ("?product=NOPE-1", {"product": ["No product with SKU NOPE-1."]}),
        ("?line=999999", {"line": ["No product line with id 999999."]}),
        ("?line=tea", {"line": ["No product line with id tea."]}),
    ],
)
def test_bad_forecast_parameters_are_400(sales_user, forecasts, query, fields):
    response = client_for(sales_user).get(FORECASTS + query)
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "invalid",
        "message": "Some fields are not valid; see fields.",
        "fields": fields,
    }


@pytest.mark.parametrize(
    "role", ["marketing_user", "sales_user", "production_user", "quality_user", "admin_user"]
)
def test_every_role_reads_forecasts_and_accuracy(request, role, forecasts):
    client = client_for(request.getfixturevalue(role))
    assert client.get(FORECASTS).json()["count"] == 9
    assert client.get(ACCURACY).status_code == 200


def test_forecasts_are_read_only(marketing_user, forecasts):
    client = client_for(marketing_user)
    assert client.post(FORECASTS, {}, format="json").status_code == 405
    assert client.post(ACCURACY, {}, format="json").status_code == 405
    assert DemandForecast.objects.count() == 9


# ---------------------------------------------------------------------------- accuracy


@pytest.fixture
def accuracy_data():
    """Four weeks before this week (window weeks=4: W-4 .. W-1).

    Lemon tea (line Tea):
        actual       100  120   80  100      (sum 400)
        statistical  130  100   60  100
        adjustment   -20    0  +30  +10      (3 adjusted weeks)
        final        110  100   90  110      (sum 410)
        |a - final|   10   20   10   10  -> 50: WMAPE 0.125, bias +10/400 = 0.025
        |a - stat|    30   20   20    0  -> 70: WMAPE 0.175, FVA 0.175 - 0.125 = 0.05
        history before the window (W-8..W-5): 100 110 100 110, naive error 10,
        MAE 12.5 -> MASE 1.25
    Mint tea (line Tea), two weeks, no earlier history:
        actual 50 50, final 40 60 (no adjustment): WMAPE 0.2, bias 0, FVA 0, MASE null
    Tea line: actual 500, |error| 70: WMAPE 0.14, bias 10/500 = 0.02,
        stat error 90: FVA 0.18 - 0.14 = 0.04; scale (10*4 + 0*2)/6, MAE 70/6: MASE 1.75
    Orange juice (line Juice): one week, actual 10, final 10.
    Not counted: a forecast of lemon tea at W-5 (before the window), and this week's.
    """
    run = ForecastRunFactory()
    lemon = ProductFactory(sku="TEA-LEM-05", name="Lemon tea", product_line__name="Tea")
    mint = ProductFactory(sku="TEA-MNT-01", name="Mint tea", product_line=lemon.product_line)
    juice = ProductFactory(sku="JUI-ORA-01", name="Orange juice", product_line__name="Juice")
    for k, units in zip(range(-8, -4), (100, 110, 100, 110), strict=True):
        SalesActualFactory(product=lemon, week=week(k), units=units)
    rows = zip(
        range(-4, 0), (100, 120, 80, 100), (130, 100, 60, 100), (-20, 0, 30, 10), strict=True
    )
    for k, actual, statistical, adjustment in rows:
        SalesActualFactory(product=lemon, week=week(k), units=actual)
        DemandForecastFactory(
            product=lemon, week=week(k), run=run, baseline=statistical, adjustment=adjustment
        )
    DemandForecastFactory(product=lemon, week=week(-5), run=run, baseline=500)
    DemandForecastFactory(product=lemon, week=week(0), run=run, baseline=500)
    SalesActualFactory(product=lemon, week=week(0), units=1)
    for k, final in ((-2, 40), (-1, 60)):
        SalesActualFactory(product=mint, week=week(k), units=50)
        DemandForecastFactory(product=mint, week=week(k), run=run, baseline=final)
    SalesActualFactory(product=juice, week=week(-1), units=10)
    DemandForecastFactory(product=juice, week=week(-1), run=run, baseline=10)
    return lemon, mint, juice


def test_accuracy_on_hand_computed_numbers(production_user, accuracy_data):
    lemon, *_ = accuracy_data
    response = client_for(production_user).get(f"{ACCURACY}?weeks=4&line={lemon.product_line_id}")
    assert response.status_code == 200
    body = response.json()
    assert (body["start"], body["end"], body["weeks"]) == (
        week(-4).isoformat(),
        week(0).isoformat(),
        4,
    )
    assert body["products"] == [
        {
            "key": "TEA-MNT-01",
            "label": "Mint tea",
            "product_line": "Tea",
            "weeks": 2,
            "actual": 100.0,
            "forecast": 100.0,
            "wmape": pytest.approx(0.2),
            "bias": 0.0,
            "mase": None,
            "fva": 0.0,
            "adjusted_weeks": 0,
        },
        {
            "key": "TEA-LEM-05",
            "label": "Lemon tea",
            "product_line": "Tea",
            "weeks": 4,
            "actual": 400.0,
            "forecast": 410.0,
            "wmape": pytest.approx(0.125),
            "bias": pytest.approx(0.025),
            "mase": pytest.approx(1.25),
            "fva": pytest.approx(0.05),
            "adjusted_weeks": 3,
        },
    ]
    assert body["lines"] == [
        {
            "key": "Tea",
            "label": "Tea",
            "product_line": "Tea",
            "weeks": 6,
            "actual": 500.0,
            "forecast": 510.0,
            "wmape": pytest.approx(0.14),
            "bias": pytest.approx(0.02),
            "mase": pytest.approx(1.75),
            "fva": pytest.approx(0.04),
            "adjusted_weeks": 3,
        }
    ]


def test_accuracy_defaults_to_13_weeks_of_every_line(marketing_user, accuracy_data):
    body = client_for(marketing_user).get(ACCURACY).json()
    assert (body["weeks"], body["start"]) == (13, week(-13).isoformat())
    # W-5 now counts for lemon tea: forecast 500 against 110 sold.
    assert [(p["key"], p["weeks"]) for p in body["products"]] == [
        ("TEA-LEM-05", 5),
        ("TEA-MNT-01", 2),
        ("JUI-ORA-01", 1),
    ]
    assert [line["key"] for line in body["lines"]] == ["Juice", "Tea"]
    juice = body["products"][2]
    assert (juice["wmape"], juice["bias"], juice["fva"], juice["mase"]) == (0.0, 0.0, 0.0, None)


def test_accuracy_with_an_explicit_end_week(marketing_user, accuracy_data):
    body = client_for(marketing_user).get(f"{ACCURACY}?weeks=2&end={iso_label(week(-2))}").json()
    assert (body["start"], body["end"]) == (week(-4).isoformat(), week(-2).isoformat())
    assert [(p["key"], p["weeks"], p["actual"]) for p in body["products"]] == [
        ("TEA-LEM-05", 2, 220.0)
    ]


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("?weeks=0", {"weeks": ["Ensure this value is greater than or equal to 1."]}),
        ("?end=0001-01-01", {"end": [window_message()]}),
        ("?weeks=105", {"weeks": ["Ensure this value is less than or equal to 104."]}),
        ("?weeks=many", {"weeks": ["A valid integer is required."]}),
        ("?line=999999", {"line": ['Invalid pk "999999" - object does not exist.']}),
        ("?line=tea", {"line": ["Incorrect type. Expected pk value, received str."]}),
        (
            "?end=2026-13-01",
            {"end": ["Enter a week as 2026-W48 or a date as 2026-11-23; got '2026-13-01'."]},
        ),
    ],
)
def test_bad_accuracy_parameters_are_400(marketing_user, query, fields):
    response = client_for(marketing_user).get(ACCURACY + query)
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == fields


# ---------------------------------------------------------------------------- adjustments


@pytest.fixture
def lemon():
    return ProductFactory(sku="TEA-LEM-05")


def adjustment_body(**overrides):
    body = {
        "product": "TEA-LEM-05",
        "week": iso_label(week(2)),
        "units": 250,
        "reason": "Retailer flyer",
        "version": None,
    }
    body.update(overrides)
    return body


def test_put_creates_an_adjustment_and_asks_a_recompute(marketing_user, lemon):
    response = client_for(marketing_user).put(ADJUST, adjustment_body(), format="json")
    assert response.status_code == 200, response.json()
    adjustment = MarketingAdjustment.objects.get()
    body = response.json()
    assert body == {
        "id": adjustment.pk,
        "product": "TEA-LEM-05",
        "week": week(2).isoformat(),
        "units": 250,
        "reason": "Retailer flyer",
        "version": 1,
        "created_by": "mara",
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    request = RecomputeRequest.objects.get()
    assert (request.source, request.product_ids) == ("adjustment", [lemon.pk])
    assert ActivityEvent.objects.get().message == (
        f"Adjusted {iso_label(week(2))} by +250 units: Retailer flyer"
    )


def test_put_again_updates_the_same_adjustment(marketing_user, lemon):
    client = client_for(marketing_user)
    client.put(ADJUST, adjustment_body(), format="json")
    response = client.put(
        ADJUST, adjustment_body(units=-40, reason="Store closures", version=1), format="json"
    )
    assert response.status_code == 200
    assert (response.json()["units"], response.json()["version"]) == (-40, 2)
    assert MarketingAdjustment.objects.count() == 1


def test_stale_adjustment_is_409_and_changes_nothing(marketing_user, lemon):
    client = client_for(marketing_user)
    client.put(ADJUST, adjustment_body(), format="json")
    client.put(ADJUST, adjustment_body(units=300, version=1), format="json")
    events, requests = ActivityEvent.objects.count(), RecomputeRequest.objects.count()

    response = client.put(ADJUST, adjustment_body(units=5, version=1), format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "stale_edit"
    adjustment = MarketingAdjustment.objects.get()
    assert (adjustment.units, adjustment.version) == (300, 2)
    assert (ActivityEvent.objects.count(), RecomputeRequest.objects.count()) == (events, requests)


def test_zero_units_removes_the_adjustment_with_204(marketing_user, lemon):
    client = client_for(marketing_user)
    client.put(ADJUST, adjustment_body(), format="json")
    response = client.put(ADJUST, adjustment_body(units=0, reason="", version=1), format="json")
    assert response.status_code == 204
    assert response.content == b""
    assert MarketingAdjustment.objects.count() == 0
    assert RecomputeRequest.objects.count() == 2


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"reason": ""}, {"reason": ["Say why: what marketing knows that the statistics do not."]}),
        (
            {"week": iso_label(week(-1))},
            {"week": [f"{iso_label(week(-1))} has started: adjust this week or a later one."]},
        ),
        (
            {"week": "someday"},
            {"week": ["Enter a week as 2026-W48 or a date as 2026-11-23; got 'someday'."]},
        ),
        ({"units": 20_000_000}, {"units": ["An adjustment is at most ±10,000,000 units."]}),
        ({"units": "12.5"}, {"units": ["A valid integer is required."]}),
        ({"units": None}, {"units": ["This field may not be null."]}),
        ({"product": "NOPE-1"}, {"product": ["No product with SKU NOPE-1."]}),
        ({"version": 0}, {"version": ["Ensure this value is greater than or equal to 1."]}),
    ],
)
def test_invalid_adjustment_is_400_and_writes_nothing(marketing_user, lemon, overrides, fields):
    response = client_for(marketing_user).put(ADJUST, adjustment_body(**overrides), format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == fields
    assert MarketingAdjustment.objects.count() == 0
    assert ActivityEvent.objects.count() == 0
    assert RecomputeRequest.objects.count() == 0


def test_missing_fields_and_malformed_json(marketing_user, lemon):
    client = client_for(marketing_user)
    response = client.put(ADJUST, {"version": None}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "product": ["This field is required."],
        "week": ["Choose the week, e.g. 2026-W48."],
        "units": ["This field is required."],
    }
    broken = client.put(ADJUST, data="{units: 3}", content_type="application/json")
    assert broken.status_code == 400
    assert broken.json()["error"]["code"] == "parse_error"
    assert MarketingAdjustment.objects.count() == 0


@pytest.mark.parametrize("role", ["sales_user", "production_user", "quality_user"])
def test_only_marketing_adjusts(request, role, lemon):
    response = client_for(request.getfixturevalue(role)).put(
        ADJUST, adjustment_body(), format="json"
    )
    assert response.status_code == 403
    assert MarketingAdjustment.objects.count() == 0
    assert RecomputeRequest.objects.count() == 0


def test_adjustments_take_put_only(marketing_user, lemon):
    response = client_for(marketing_user).post(ADJUST, adjustment_body(), format="json")
    assert response.status_code == 405
    assert MarketingAdjustment.objects.count() == 0
