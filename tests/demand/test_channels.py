"""Sales channels: sales history per channel, imported with an optional channel column;
forecasts per channel summed for the plan; a promotion lifting only its channel;
accuracy per channel; the API and the forecast page showing the breakdown."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings as django_settings
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from coordination.models import RecomputeRequest
from coordination.weeks import add_weeks, current_week, iso_label
from demand.csv_import import ImportRejected
from demand.engine import forecast_baseline
from demand.engine.effects import DipEstimate
from demand.models import (
    Channel,
    ChannelForecast,
    DemandForecast,
    ForecastFit,
    Promotion,
    SalesActual,
    SalesImport,
)
from demand.selectors.accuracy import forecast_accuracy
from demand.selectors.lift import past_effects
from demand.selectors.sales import mean_weekly_sales, sales_cells, weekly_sales
from demand.services import forecasting
from demand.services import sales_import as services
from demand.services.forecasting import HISTORY_WEEKS, SEASON_LENGTH, forecast_products
from tests.factories import (
    ForecastRunFactory,
    ProductFactory,
    PromotionFactory,
    PromotionItemFactory,
    SalesActualFactory,
)
from tests.workbooks import read_back, workbook

pytestmark = pytest.mark.django_db

API = "/api/v1/sales-actuals/"
FORECASTS = "/api/v1/forecasts/"
ACCURACY = "/api/v1/forecast-accuracy/"
ALLOWED = "all, retail, online, distributor, foodservice"


def week(k: int):
    return add_weeks(current_week(), k)


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# ---------------------------------------------------------------------------- model


def test_promotion_channels_are_the_module_channels():
    assert Promotion.Channel is Channel
    assert Channel.values == ["all", "retail", "online", "distributor", "foodservice"]


def test_a_product_has_one_row_per_channel_and_week():
    product = ProductFactory()
    for channel in ("all", "retail", "online"):
        SalesActual.objects.create(product=product, channel=channel, week=week(-1), units=5)
    with pytest.raises(IntegrityError), transaction.atomic():
        SalesActual.objects.create(product=product, channel="retail", week=week(-1), units=9)
    assert SalesActual.objects.filter(product=product).count() == 3


def test_the_database_refuses_a_channel_that_does_not_exist():
    product = ProductFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        SalesActual.objects.create(product=product, channel="web", week=week(-1), units=5)
    assert not SalesActual.objects.exists()


def test_a_row_written_without_a_channel_is_all():
    product = ProductFactory()
    table = SalesActual._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (product_id, week, units, updated_at)"  # noqa: S608
            " VALUES (%s, %s, 3, now())",
            [product.pk, week(-1)],
        )
    assert SalesActual.objects.get().channel == "all"


def test_a_products_weekly_sales_are_the_sum_of_its_channels():
    product, other = ProductFactory(), ProductFactory()
    SalesActualFactory(product=product, channel="retail", week=week(-2), units=60)
    SalesActualFactory(product=product, channel="online", week=week(-2), units=40)
    SalesActualFactory(product=product, channel="all", week=week(-1), units=90)
    SalesActualFactory(product=other, week=week(-1), units=7)
    assert sorted(weekly_sales(product_id__in=[product.pk, other.pk])) == sorted(
        [(product.pk, week(-2), 100), (product.pk, week(-1), 90), (other.pk, week(-1), 7)]
    )
    # A mean over rows would say 63.3 (three rows): per week it is 95.
    assert mean_weekly_sales(product_id=product.pk) == {product.pk: 95.0}
    # The sums come back as ints without Django's per-row converter (the database answers
    # ints), and no (product, week) without a row.
    assert {type(units) for *_, units in weekly_sales(product_id=product.pk)} == {int}
    assert list(weekly_sales(product_id=other.pk, week=week(-2))) == []
    query = weekly_sales(product_id=product.pk).query
    assert (
        query.get_compiler(connection=connection).get_converters([query.annotations["total"]]) == {}
    )


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.sampled_from(["all", "retail"]), st.integers(0, 200)),
        max_size=40,
    ),
    st.integers(-3, 3),
)
def test_sales_cells_are_the_rows_and_weeks_each_record_was_placed_at(cells, shift):
    """sales_cells against the former per-record arithmetic (row[pid], weeks since first
    floored), records with the week at index 2 as channel_sales reads them."""
    first = add_weeks(current_week(), shift)
    row = {pid * 10 + 3: pid for pid in range(6)}
    records = [(pid * 10 + 3, channel, add_weeks(first, k), 1) for pid, channel, k in cells]
    rows, columns = sales_cells(records, row, first, week=2)
    assert rows.tolist() == [row[pid] for pid, *_ in records]
    assert columns.tolist() == [(monday - first).days // 7 for _, _, monday, _ in records]


def test_every_reader_of_sales_rows_goes_through_the_channel_aware_selectors():
    """A product's sales in a week are the sum of its channels' rows. Only these modules
    name SalesActual (each reviewed for channels); everything else reads through
    demand.selectors.sales. A new one must be reviewed and added here on purpose."""
    reviewed = {
        "demand/models.py": "the model",
        "demand/admin.py": "lists rows with their channel",
        "demand/apps.py": "registers the rows as a planning input (per row: channel-blind)",
        "demand/api/sales.py": "serializes rows with their channel",
        "demand/selectors/sales.py": "the channel-aware readers",
        "demand/services/sales_import.py": "writes; lists rows with their channel (API)",
        "demand/selectors/lift.py": "Max(pk): when sales last changed",
        "demand/selectors/launches.py": "Min(week) and 'has sales': channel-blind",
        "demand/selectors/forecasts.py": "Sum over the rows of a range: channel-blind",
        "demand/demo.py": "seeds the rows",
        "production/demo.py": "Sum over the rows of a range: channel-blind",
        "production/scale_seed.py": "seeds the rows (channel: the column's default)",
    }
    root = Path(django_settings.BASE_DIR)
    readers = set()
    for app in ("coordination", "demand", "production", "recalls", "planning"):
        for path in (root / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            text = path.read_text(encoding="utf-8")
            if re.search(r"\b(SalesActual|sales_actuals|demand_salesactual)\b", text):
                readers.add(path.relative_to(root).as_posix())
    assert readers == set(reviewed)


# -------------------------------------------------------------------------- imports


@pytest.fixture
def products():
    return {sku: ProductFactory(sku=sku).pk for sku in ("BEV-1001", "JCE-2002")}


W1, W2 = "2024-W01", "2024-W02"


def stored() -> list[tuple[str, str, str, int]]:
    return sorted(
        (sku, channel, iso_label(day), units)
        for sku, channel, day, units in SalesActual.objects.values_list(
            "product__sku", "channel", "week", "units"
        )
    )


def test_a_csv_with_channels_stores_a_row_per_channel(marketing_user, products):
    text = (
        "sku,week,units,channel\n"
        f"BEV-1001,{W1},60,Retail\n"
        f"BEV-1001,{W1},40,online\n"
        f"BEV-1001,{W1},5,\n"
        f"JCE-2002,{W1},9,Food service\n"
        f"JCE-2002,{W2},8,  DISTRIBUTOR \n"
    )
    record = services.sales_import_rows(actor=marketing_user, rows=text, source="command")
    assert (record.status, record.row_count, record.created_count, record.products_count) == (
        "applied",
        5,
        5,
        2,
    )
    assert stored() == [
        ("BEV-1001", "all", W1, 5),
        ("BEV-1001", "online", W1, 40),
        ("BEV-1001", "retail", W1, 60),
        ("JCE-2002", "distributor", W2, 8),
        ("JCE-2002", "foodservice", W1, 9),
    ]
    # Re-imported with other units: each (product, channel, week) is updated in place.
    again = services.sales_import_rows(
        actor=marketing_user,
        rows=f"sku,week,units,channel\nBEV-1001,{W1},61,retail\nBEV-1001,{W2},3,retail\n",
        source="command",
    )
    assert (again.created_count, again.updated_count) == (1, 1)
    assert stored()[:4] == [
        ("BEV-1001", "all", W1, 5),
        ("BEV-1001", "online", W1, 40),
        ("BEV-1001", "retail", W1, 61),
        ("BEV-1001", "retail", W2, 3),
    ]


def test_a_csv_without_the_channel_column_is_all(marketing_user, products):
    services.sales_import_rows(
        actor=marketing_user, rows=f"sku,week,units\nBEV-1001,{W1},12\n", source="command"
    )
    assert stored() == [("BEV-1001", "all", W1, 12)]


def rejected(actor, text: str) -> list[tuple[str, str]]:
    """(place, message) of each error of an import that must be refused."""
    with pytest.raises(ImportRejected) as caught:
        services.sales_import_rows(actor=actor, rows=text, source="command")
    return [(e["place"], e["message"]) for e in caught.value.listed()]


def test_an_unknown_channel_is_refused_by_line_and_nothing_is_saved(marketing_user, products):
    text = (
        "sku,week,units,channel\n"
        f"BEV-1001,{W1},60,retail\n"
        f"BEV-1001,{W2},60,web\n"
        f"JCE-2002,{W1},9,shop\n"
    )
    assert rejected(marketing_user, text) == [
        ("line 3, channel", f"Channel 'web' is not one of: {ALLOWED}."),
        ("line 4, channel", f"Channel 'shop' is not one of: {ALLOWED}."),
    ]
    assert not SalesActual.objects.exists()
    assert not RecomputeRequest.objects.exists()
    assert SalesImport.objects.get().status == "rejected"


def test_the_same_product_channel_and_week_twice_is_a_duplicate(marketing_user, products):
    text = (
        "sku,week,units,channel\n"
        f"BEV-1001,{W1},60,retail\n"
        f"BEV-1001,{W1},40,online\n"
        f"BEV-1001,{W1},61,Retail\n"
        f"BEV-1001,{W1},1,\n"
        f"BEV-1001,{W1},2,all\n"
    )
    assert rejected(marketing_user, text) == [
        (
            "line 4, week",
            "Duplicate of line 2: BEV-1001 already has a row for 2024-W01 in the channel retail.",
        ),
        ("line 6, week", "Duplicate of line 5: BEV-1001 already has a row for 2024-W01."),
    ]
    assert not SalesActual.objects.exists()


def test_a_workbook_with_channels_is_previewed_and_applied(marketing_user, products):
    data = workbook(
        ("SKU", "Week", "Units", "Channel"),
        ("BEV-1001", W1, 60, "Retail"),
        ("BEV-1001", W1, 40, "online"),
        ("JCE-2002", W1, 9, None),
    )
    record = services.sales_import_preview(actor=marketing_user, filename="s.xlsx", content=data)
    assert record.status == "previewed"
    services.sales_import_apply(actor=marketing_user, import_id=record.pk)
    assert stored() == [
        ("BEV-1001", "online", W1, 40),
        ("BEV-1001", "retail", W1, 60),
        ("JCE-2002", "all", W1, 9),
    ]
    bad = workbook(("sku", "week", "units", "channel"), ("BEV-1001", W2, 1, "web"), title="Sales")
    with pytest.raises(ImportRejected) as caught:
        services.sales_import_rows(actor=marketing_user, rows=bad, source="command")
    assert [(e["place"], e["message"]) for e in caught.value.listed()] == [
        ("Sales, row 2, channel", f"Channel 'web' is not one of: {ALLOWED}."),
    ]
    assert SalesActual.objects.count() == 3


def test_the_browser_preview_keeps_the_channels_for_the_apply(marketing_user, products):
    text = f"sku,week,units,channel\nBEV-1001,{W1},60,retail\nBEV-1001,{W1},40,online\n"
    record = services.sales_import_preview(
        actor=marketing_user, filename="sales.csv", content=text.encode()
    )
    assert [row["channel"] for row in services.sales_import_sample(record)] == [
        "retail",
        "online",
    ]
    services.sales_import_apply(actor=marketing_user, import_id=record.pk)
    assert stored() == [("BEV-1001", "online", W1, 40), ("BEV-1001", "retail", W1, 60)]


def test_the_api_imports_and_lists_channels(sales_user, products):
    client = client_for(sales_user)
    items = [
        {"sku": "BEV-1001", "week": W1, "units": 60, "channel": "retail"},
        {"sku": "BEV-1001", "week": W1, "units": 40, "channel": "Online"},
        {"sku": "BEV-1001", "week": W2, "units": 7},
    ]
    response = client.post(API, data=json.dumps(items), content_type="application/json")
    assert response.status_code == 201
    assert (response.json()["rows"], response.json()["created"]) == (3, 3)
    listed = client.get(API).json()["results"]
    assert [(r["sku"], r["iso_week"], r["channel"], r["units"]) for r in listed] == [
        ("BEV-1001", W1, "online", 40),
        ("BEV-1001", W1, "retail", 60),
        ("BEV-1001", W2, "all", 7),
    ]
    only_retail = client.get(f"{API}?channel=retail").json()["results"]
    assert [(r["channel"], r["units"]) for r in only_retail] == [("retail", 60)]
    refused = client.get(f"{API}?channel=web")
    assert refused.status_code == 400
    assert list(refused.json()["error"]["fields"]) == ["channel"]


def test_the_api_refuses_an_unknown_channel_with_its_index(sales_user, products):
    items = [
        {"sku": "BEV-1001", "week": W1, "units": 60, "channel": "retail"},
        {"sku": "BEV-1001", "week": W2, "units": 40, "channel": "web"},
    ]
    response = client_for(sales_user).post(
        API, data=json.dumps(items), content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "1.channel": [f"Channel 'web' is not one of: {ALLOWED}."]
    }
    assert not SalesActual.objects.exists()


# ------------------------------------------------------------------------ forecasts


def channel_history(product, channels: dict[str, float], weeks: int = 104) -> None:
    SalesActual.objects.bulk_create(
        SalesActual(product=product, channel=channel, week=week(k - weeks), units=units)
        for channel, units in channels.items()
        for k in range(weeks)
    )


def by_week(product) -> dict:
    return {
        f.week: (f.baseline, f.promotion_uplift, f.final)
        for f in DemandForecast.objects.filter(product=product)
    }


def channel_rows(product) -> dict:
    return {
        (f.channel, f.week): (f.baseline, f.promotion_uplift, f.final)
        for f in ChannelForecast.objects.filter(product=product)
    }


@pytest.fixture
def split_product():
    """Retail sells 60 a week, online 40, for two years."""
    product = ProductFactory(sku="TEA-SPLIT")
    channel_history(product, {"retail": 60, "online": 40})
    return product


def retail_week_with_dip(product, monkeypatch, start) -> None:
    """A planned +50 % retail promotion in week `start`, with a learned -20 % dip for the
    week after it."""
    monkeypatch.setattr(
        forecasting, "learned_dips", lambda ids: {pid: DipEstimate(-20.0, 1) for pid in ids}
    )
    promotion = PromotionFactory(
        status="planned", channel="retail", start_week=start, end_week=start
    )
    PromotionItemFactory(promotion=promotion, product=product, expected_lift_pct=50)


def test_a_product_sold_in_channels_is_forecast_per_channel_and_summed(split_product):
    plain = ProductFactory()
    channel_history(plain, {"all": 100})
    run = forecast_products(product_ids=[split_product.pk, plain.pk], trigger="test")
    horizon = run.horizon_weeks
    assert set(by_week(split_product).values()) == {(100.0, 0.0, 100.0)}
    assert channel_rows(split_product) == {
        **{("retail", week(k)): (60.0, 0.0, 60.0) for k in range(horizon)},
        **{("online", week(k)): (40.0, 0.0, 40.0) for k in range(horizon)},
    }
    assert not ChannelForecast.objects.filter(product=plain).exists()
    assert set(by_week(plain).values()) == {(100.0, 0.0, 100.0)}
    fit = ForecastFit.objects.get(run=run, product=split_product)
    assert fit.sigma == 0.0  # two flat channels: sqrt(0^2 + 0^2)


def test_a_retail_promotion_lifts_only_retail(split_product):
    promotion = PromotionFactory(
        status="planned", channel="retail", start_week=week(2), end_week=week(3)
    )
    PromotionItemFactory(promotion=promotion, product=split_product, expected_lift_pct=50)
    forecast_products(product_ids=[split_product.pk], trigger="retail promotion")
    rows = by_week(split_product)
    channels = channel_rows(split_product)
    # +50 % of retail's 60, not of the product's 100.
    assert rows[week(2)] == rows[week(3)] == (100.0, 30.0, 130.0)
    assert rows[week(1)] == rows[week(4)] == (100.0, 0.0, 100.0)
    assert channels[("retail", week(2))] == (60.0, 30.0, 90.0)
    assert channels[("online", week(2))] == (40.0, 0.0, 40.0)


def test_the_dip_after_a_retail_promotion_scales_with_retail(split_product, monkeypatch):
    monkeypatch.setattr(
        forecasting, "learned_dips", lambda ids: {pid: DipEstimate(-20.0, 2) for pid in ids}
    )
    promotion = PromotionFactory(
        status="planned", channel="retail", start_week=week(2), end_week=week(3)
    )
    PromotionItemFactory(promotion=promotion, product=split_product, expected_lift_pct=50)
    forecast_products(product_ids=[split_product.pk], trigger="retail dip")
    dips = {
        f.week: (f.promotion_dip, f.final)
        for f in DemandForecast.objects.filter(product=split_product)
    }
    # -20 % of retail's 60 in the two weeks after, not of the product's 100.
    assert [dips[week(k)] for k in range(1, 7)] == [
        (0.0, 100.0),
        (0.0, 130.0),
        (0.0, 130.0),
        (-12.0, 88.0),
        (-12.0, 88.0),
        (0.0, 100.0),
    ]
    # The dip is retail's: -12 on retail, 0 on online, adding up to the product's.
    channel_dips = {
        (f.channel, f.week): (f.promotion_dip, f.final)
        for f in ChannelForecast.objects.filter(product=split_product)
    }
    assert [
        (channel_dips[("retail", week(k))], channel_dips[("online", week(k))]) for k in range(3, 7)
    ] == [
        ((0.0, 90.0), (0.0, 40.0)),
        ((-12.0, 48.0), (0.0, 40.0)),
        ((-12.0, 48.0), (0.0, 40.0)),
        ((0.0, 60.0), (0.0, 40.0)),
    ]


def test_the_dip_after_a_promotion_of_every_channel_falls_on_each(split_product, monkeypatch):
    monkeypatch.setattr(
        forecasting, "learned_dips", lambda ids: {pid: DipEstimate(-20.0, 1) for pid in ids}
    )
    promotion = PromotionFactory(status="planned", start_week=week(2), end_week=week(2))
    PromotionItemFactory(promotion=promotion, product=split_product, expected_lift_pct=50)
    forecast_products(product_ids=[split_product.pk], trigger="all-channel dip")
    assert DemandForecast.objects.get(product=split_product, week=week(3)).promotion_dip == -20.0
    assert dict(
        ChannelForecast.objects.filter(product=split_product, week=week(3)).values_list(
            "channel", "promotion_dip"
        )
    ) == {"retail": -12.0, "online": -8.0}


def test_a_past_retail_promotion_is_measured_as_retails_lift():
    """Retail 60 and online 40 a week; a past retail promotion sold 90 in retail (+50 %)
    for two weeks: +30 % of the product's 100, restated as +50 % of retail's 60 (what a
    retail promotion's lift is applied to)."""
    product = ProductFactory()
    start = week(-30)
    rows = []
    for k in range(-104, 0):
        promoted = start <= week(k) <= week(-29)
        retail = 90 if promoted else 60
        rows.append(SalesActual(product=product, channel="retail", week=week(k), units=retail))
        rows.append(SalesActual(product=product, channel="online", week=week(k), units=40))
    SalesActual.objects.bulk_create(rows)
    for channel in ("retail", "all"):
        promotion = PromotionFactory(
            status="confirmed", channel=channel, start_week=start, end_week=week(-29)
        )
        PromotionItemFactory(promotion=promotion, product=product, expected_lift_pct=50)
        (effect,) = past_effects([product.pk])
        expected = 50.0 if channel == "retail" else 30.0  # "all": the whole product's
        assert effect.lift_pct == pytest.approx(expected, abs=0.01), channel
        promotion.delete()


def test_a_promotion_of_all_channels_lifts_the_whole_product(split_product):
    promotion = PromotionFactory(status="planned", start_week=week(2), end_week=week(2))
    PromotionItemFactory(promotion=promotion, product=split_product, expected_lift_pct=50)
    forecast_products(product_ids=[split_product.pk], trigger="all-channel promotion")
    assert by_week(split_product)[week(2)] == (100.0, 50.0, 150.0)
    assert channel_rows(split_product)[("retail", week(2))] == (60.0, 30.0, 90.0)
    assert channel_rows(split_product)[("online", week(2))] == (40.0, 20.0, 60.0)


def test_a_product_without_any_sales_is_forecast_as_before():
    product = ProductFactory()
    run = forecast_products(product_ids=[product.pk], trigger="no sales")
    assert DemandForecast.objects.filter(product=product).count() == run.horizon_weeks
    assert not ChannelForecast.objects.exists()


def test_a_channel_promotion_on_a_product_without_a_breakdown_lifts_it_all():
    product = ProductFactory()
    channel_history(product, {"all": 100})
    promotion = PromotionFactory(
        status="planned", channel="online", start_week=week(1), end_week=week(1)
    )
    PromotionItemFactory(promotion=promotion, product=product, expected_lift_pct=20)
    forecast_products(product_ids=[product.pk], trigger="online promotion")
    assert by_week(product)[week(1)] == (100.0, 20.0, 120.0)


def padded(units: list[int]) -> np.ndarray:
    history = np.full((1, HISTORY_WEEKS), np.nan)
    history[0, HISTORY_WEEKS - len(units) :] = units
    return history


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    units=st.lists(st.integers(min_value=0, max_value=400), min_size=8, max_size=60),
    other=st.lists(st.integers(min_value=0, max_value=400), min_size=8, max_size=60),
)
def test_with_no_channel_data_the_forecast_is_todays_and_channels_add_up(db, units, other):
    """Only "all" rows: the baseline is exactly the engine's forecast of the product's
    series, as before channels. With channels: the product's baseline is the sum of the
    engine's forecasts of its channels' series."""
    plain, split = ProductFactory(), ProductFactory()
    SalesActual.objects.bulk_create(
        SalesActual(product=plain, week=week(k - len(units)), units=sold)
        for k, sold in enumerate(units)
    )
    SalesActual.objects.bulk_create(
        SalesActual(product=split, channel=channel, week=week(k - len(series)), units=sold)
        for channel, series in (("retail", units), ("online", other))
        for k, sold in enumerate(series)
    )
    run = forecast_products(product_ids=[plain.pk, split.pk], trigger="property")
    horizon = run.horizon_weeks

    def engine(*series):
        result = forecast_baseline(
            np.vstack([padded(s) for s in series]), horizon, season_length=SEASON_LENGTH
        )
        return np.asarray(result.mean).sum(axis=0), np.asarray(result.sigma)

    plain_mean, plain_sigma = engine(units)
    baselines = [f.baseline for f in DemandForecast.objects.filter(product=plain)]
    assert baselines == np.round(plain_mean, 3).tolist()
    assert ForecastFit.objects.get(run=run, product=plain).sigma == float(plain_sigma[0])
    assert not ChannelForecast.objects.filter(product=plain).exists()

    split_mean, split_sigma = engine(units, other)
    baselines = [f.baseline for f in DemandForecast.objects.filter(product=split)]
    assert baselines == pytest.approx(split_mean.tolist(), abs=1e-3)
    fit = ForecastFit.objects.get(run=run, product=split)
    assert fit.sigma == pytest.approx(math.sqrt(float((split_sigma**2).sum())))
    summed = {}
    for f in ChannelForecast.objects.filter(product=split):
        summed[f.week] = summed.get(f.week, 0.0) + f.baseline
    assert [summed[week(k)] for k in range(horizon)] == pytest.approx(baselines, abs=2e-3)


# ------------------------------------------------------------------------- accuracy


def test_accuracy_is_reported_per_channel():
    product = ProductFactory(sku="TEA-ACC")
    run = ForecastRunFactory()
    # Before the window: retail alternates 50/60 (naive error 10), online 40/44 (4).
    for k in range(-12, -4):
        SalesActualFactory(product=product, channel="retail", week=week(k), units=50 + 10 * (k % 2))
        SalesActualFactory(product=product, channel="online", week=week(k), units=40 + 4 * (k % 2))
    for k, (retail, online) in zip(
        range(-4, 0), [(60, 40), (50, 40), (70, 30), (60, 50)], strict=True
    ):
        SalesActualFactory(product=product, channel="retail", week=week(k), units=retail)
        SalesActualFactory(product=product, channel="online", week=week(k), units=online)
        for channel in ("retail", "online"):
            ChannelForecast.objects.create(
                product=product, channel=channel, week=week(k), run=run, baseline=50, final=50
            )
        DemandForecast.objects.create(
            product=product, week=week(k), run=run, baseline=100, final=100, method="ses"
        )
    report = forecast_accuracy(weeks=4)
    channels = {a.key: a for a in report["channels"]}
    assert list(channels) == ["retail", "online"]
    retail, online = channels["retail"], channels["online"]
    # retail: actual 240, forecast 200, |errors| 10+0+20+10 = 40.
    assert (retail.label, retail.weeks, retail.actual, retail.forecast) == (
        "Retail",
        4,
        240.0,
        200.0,
    )
    assert retail.wmape == pytest.approx(40 / 240)
    assert retail.bias == pytest.approx(-40 / 240)
    assert retail.mase == pytest.approx(10 / 10)
    assert retail.fva is None
    # online: actual 160, forecast 200, |errors| 10+10+20+0 = 40.
    assert online.wmape == pytest.approx(40 / 160)
    assert online.bias == pytest.approx(40 / 160)
    assert online.mase == pytest.approx(10 / 4)


def test_accuracy_api_and_page_show_the_channels(client, marketing_user):
    test_accuracy_is_reported_per_channel()
    body = client_for(marketing_user).get(f"{ACCURACY}?weeks=4").json()
    assert [(c["key"], c["weeks"], c["actual"]) for c in body["channels"]] == [
        ("retail", 4, 240.0),
        ("online", 4, 160.0),
    ]
    client.force_login(marketing_user)
    page = client.get(reverse("forecast_accuracy"), {"weeks": 13}).content.decode()
    table = page[page.index('id="by-channel"') : page.index("By product, worst first")]
    assert re.findall(r'<th scope="row">(\w+)</th>\s*<td class="num">(\d+)</td>', table) == [
        ("Retail", "4"),
        ("Online", "4"),
    ]
    assert "No product's sales history names a channel" not in page


def test_the_accuracy_page_says_when_no_product_has_channels(client, marketing_user):
    product = ProductFactory()
    run = ForecastRunFactory()
    SalesActualFactory(product=product, week=week(-1), units=10)
    DemandForecast.objects.create(
        product=product, week=week(-1), run=run, baseline=10, final=10, method="ses"
    )
    client.force_login(marketing_user)
    page = client.get(reverse("forecast_accuracy"), {"weeks": 13}).content.decode()
    assert "By channel" in page
    assert "No product's sales history names a channel in these weeks." in page
    assert forecast_accuracy(weeks=4)["channels"] == []


# ------------------------------------------------------------------ API and the page


def test_forecast_rows_carry_their_channels(marketing_user, split_product, monkeypatch):
    retail_week_with_dip(split_product, monkeypatch, week(0))
    plain = ProductFactory(sku="TEA-PLAIN")
    channel_history(plain, {"all": 10})
    forecast_products(product_ids=[split_product.pk, plain.pk], trigger="api")
    client = client_for(marketing_user)
    rows = client.get(f"{FORECASTS}?product=TEA-SPLIT&from={iso_label(week(0))}").json()
    assert rows["results"][0]["channels"] == [
        {
            "channel": "retail",
            "baseline": 60.0,
            "promotion_uplift": 30.0,
            "promotion_dip": 0.0,
            "final": 90.0,
            "method": "constant",
        },
        {
            "channel": "online",
            "baseline": 40.0,
            "promotion_uplift": 0.0,
            "promotion_dip": 0.0,
            "final": 40.0,
            "method": "constant",
        },
    ]
    assert rows["results"][0]["promotion_uplift"] == 30.0
    # The week after it, the dip is retail's alone.
    assert [
        (c["channel"], c["promotion_dip"], c["final"]) for c in rows["results"][1]["channels"]
    ] == [("retail", -12.0, 48.0), ("online", 0.0, 40.0)]
    assert rows["results"][1]["promotion_dip"] == -12.0
    plain_rows = client.get(f"{FORECASTS}?product=TEA-PLAIN").json()["results"]
    assert {len(r["channels"]) for r in plain_rows} == {0}


def test_the_forecast_page_shows_the_channel_breakdown(client, marketing_user, split_product):
    plain = ProductFactory(sku="TEA-PLAIN")
    channel_history(plain, {"all": 10})
    forecast_products(product_ids=[split_product.pk, plain.pk], trigger="page")
    client.force_login(marketing_user)
    page = client.get(reverse("forecast_detail", args=["TEA-SPLIT"])).content.decode()
    assert 'id="channel-breakdown"' in page
    table = page[page.index('id="channel-breakdown"') :]
    assert re.search(r"<th scope=\"col\" class=\"num\">Retail</th>\s*<th", table)
    assert ">60</td>" in table and ">40</td>" in table
    other = client.get(reverse("forecast_detail", args=["TEA-PLAIN"])).content.decode()
    assert 'id="channel-breakdown"' not in other


def test_the_forecast_page_shows_a_retail_dip_on_retail(
    client, marketing_user, split_product, monkeypatch
):
    retail_week_with_dip(split_product, monkeypatch, week(1))
    forecast_products(product_ids=[split_product.pk], trigger="page")
    client.force_login(marketing_user)
    page = client.get(reverse("forecast_detail", args=["TEA-SPLIT"])).content.decode()
    table = page[page.index('id="channel-breakdown"') :]
    row = re.search(rf"<th scope=\"row\">{iso_label(week(2))}.*?</tr>", table, re.S).group(0)
    cells = re.findall(r'<td class="num">(.*?)</td>', row)
    assert cells == ['48 <span class="muted">(−12 dip after promotion)</span>', "40"]


def test_each_channel_keeps_the_method_the_engine_chose_for_its_own_series(client, marketing_user):
    """Retail flat, online with a yearly season and noise: each channel's method is the
    one the engine picks for that channel's series alone, shown on the page and in the
    API; the product's is that of its total."""
    product = ProductFactory(sku="TEA-MIXED")
    rng = np.random.default_rng(7)
    t = np.arange(104)
    online = np.round(40 + 25 * np.sin(2 * np.pi * t / 52) + rng.normal(0, 3, 104))
    SalesActual.objects.bulk_create(
        [
            *(
                SalesActual(product=product, channel="retail", week=week(k - 104), units=60)
                for k in range(104)
            ),
            *(
                SalesActual(product=product, channel="online", week=week(k - 104), units=int(u))
                for k, u in enumerate(online)
            ),
        ]
    )
    run = forecast_products(product_ids=[product.pk], trigger="methods")
    mask = np.zeros((1, 104), dtype=bool)
    expected = {
        channel: str(
            forecast_baseline(
                np.asarray([units], dtype=float),
                run.horizon_weeks,
                season_length=SEASON_LENGTH,
                promo_mask=mask,
            ).method[0]
        )
        for channel, units in (("retail", np.full(104, 60.0)), ("online", online))
    }
    assert expected["retail"] == "constant" and expected["online"] != "constant"
    stored = set(ChannelForecast.objects.values_list("channel", "method"))
    assert stored == set(expected.items())

    client.force_login(marketing_user)
    page = client.get(reverse("forecast_detail", args=["TEA-MIXED"])).content.decode()
    table = page[page.index('id="channel-breakdown"') :]
    labels = [ChannelForecast(method=expected[c]).method_label for c in ("retail", "online")]
    assert re.search(
        rf'<th scope="row">Method</th><td class="num">{re.escape(labels[0])}</td>'
        rf'<td class="num">{re.escape(labels[1])}</td>',
        table,
    )
    rows = client_for(marketing_user).get(f"{FORECASTS}?product=TEA-MIXED").json()["results"]
    assert {(c["channel"], c["method"]) for r in rows for c in r["channels"]} == set(
        expected.items()
    )


def test_the_forecast_download_has_a_sheet_per_channel(
    client, marketing_user, split_product, monkeypatch
):
    retail_week_with_dip(split_product, monkeypatch, week(1))
    forecast_products(product_ids=[split_product.pk], trigger="download")
    client.force_login(marketing_user)
    response = client.get(reverse("forecast_xlsx", args=["TEA-SPLIT"]))
    book = read_back(response.content)
    assert book.sheetnames == ["Forecast TEA-SPLIT", "By channel TEA-SPLIT"]
    rows = list(book["By channel TEA-SPLIT"].iter_rows(values_only=True))
    assert rows[0] == (
        "Week",
        "ISO week",
        "Channel",
        "Baseline",
        "Promotion uplift",
        "Dip after promotion",
        "Final",
        "Method",
    )
    assert rows[1][1:] == (iso_label(week(0)), "Retail", 60, 0, 0, 60, "constant")
    assert rows[2][1:] == (iso_label(week(0)), "Online", 40, 0, 0, 40, "constant")
    assert rows[3][1:] == (iso_label(week(1)), "Retail", 60, 30, 0, 90, "constant")
    assert rows[5][1:] == (iso_label(week(2)), "Retail", 60, 0, -12, 48, "constant")
    assert rows[6][1:] == (iso_label(week(2)), "Online", 40, 0, 0, 40, "constant")
    assert len(rows) == 1 + 2 * 26


def test_upsert_quantities_refuses_a_key_that_is_not_the_tables():
    """Sales rows are unique per (product, channel, week): a write keyed on (product,
    week) alone would update every channel's row of the week, so it is refused."""
    from demand.services.sales_import import upsert_quantities

    with pytest.raises(
        ValueError, match=r"SalesActual rows are not unique on \['product', 'week'\]"
    ):
        upsert_quantities(SalesActual, date_field="week", quantity_field="units", records=[])
