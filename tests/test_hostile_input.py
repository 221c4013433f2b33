"""Hostile input is refused at the boundary (coordination.boundary), never a 500.

NUL characters (PostgreSQL refuses them in text), JSON nested deeper than anyone means,
`%` signs in filter values, malformed bodies, dates outside the sane window and numbers
beyond what the database stores: each answers 400 with the API's error body (or a plain
400 page in the browser), and nothing is written. Unknown paths under /api/ answer the
API's JSON error body too.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from coordination import boundary
from coordination.input_limits import last_accepted_date, window_message
from coordination.models import Product
from coordination.weeks import current_week, iso_label
from demand.models import SalesActual, SalesImport
from planning.models import PlanningCycle
from production.models import InventoryPosition, WebhookEndpoint
from recalls.models import RecallIncident
from tests.api_errors import refused
from tests.factories import LineFactory, ProductFactory, PromotionFactory

pytestmark = pytest.mark.django_db

NUL_MESSAGE = "Remove the NUL character (\\u0000): Tandem does not accept it in any text."
DEPTH_MESSAGE = "The JSON body is nested more than 32 levels deep."
PAST = iso_label(current_week() - dt.timedelta(weeks=2))


def nul(field: str) -> dict:
    return {
        "error": {
            "code": "invalid",
            "message": "Some fields are not valid; see fields.",
            "fields": {field: [NUL_MESSAGE]},
        }
    }


@pytest.fixture
def api(admin_user) -> APIClient:
    client = APIClient()
    client.force_authenticate(admin_user)
    return client


@pytest.fixture
def browser(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def world():
    line = LineFactory(name="Bottling 1")
    product = ProductFactory(sku="BEV-1001", production_line=line)
    return {"line": line, "product": product}


# ------------------------------------------------------------------ NUL in the API


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/api/v1/sales-actuals/", [{"sku": "BEV-1001\x00", "week": PAST, "units": 3}], "0.sku"),
        (
            "/api/v1/inventory-positions/",
            [{"sku": "BEV\x00", "as_of": "2026-01-05", "on_hand": 1}],
            "0.sku",
        ),
        (
            "/api/v1/webhooks/",
            {"url": "https://erp.example.com/\x00", "lines": ["Bottling 1"]},
            "url",
        ),
        ("/api/v1/webhooks/", {"url": "https://erp.example.com/", "lines": ["B\x00"]}, "lines.0"),
        (
            "/api/v1/quota-recommendations/accept-range/",
            {"line": "\x00", "from": PAST, "to": PAST, "seen_schedule_version": 0},
            "line",
        ),
        ("/api/v1/products/", {"sku": "X\x00", "name": "Nul"}, "sku"),
        ("/api/v1/recalls/", {"title": "a", "\x00": 1}, "\\u0000"),
    ],
)
def test_a_nul_in_a_json_body_is_refused_and_nothing_is_written(api, world, url, body, field):
    before = (
        SalesActual.objects.count(),
        InventoryPosition.objects.count(),
        WebhookEndpoint.objects.count(),
        Product.objects.count(),
        RecallIncident.objects.count(),
    )
    response = api.post(url, body, format="json")
    assert response.status_code == 400
    assert response.json() == nul(field)
    after = (
        SalesActual.objects.count(),
        InventoryPosition.objects.count(),
        WebhookEndpoint.objects.count(),
        Product.objects.count(),
        RecallIncident.objects.count(),
    )
    assert after == before


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/sales-actuals/?product=%00", "product"),
        ("/api/v1/schedules/?line=%00", "line"),
        ("/api/v1/promotions/lift-suggestion/?sku=%00", "sku"),
        ("/api/v1/products/?search=a%00b", "search"),
        ("/api/v1/products/?%00=1", "\\u0000"),
    ],
)
def test_a_nul_in_a_query_string_is_refused(api, world, url, field):
    response = api.get(url)
    assert response.status_code == 400
    assert response.json() == nul(field)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/products/%00/",
        "/api/v1/recalls/%00/",
        "/api/v1/products/BEV-1001/specifications/%00/",
        "/api/v1/recalls/R%00/lots/",
    ],
)
def test_a_nul_in_an_api_path_is_refused(api, world, url):
    response = api.get(url)
    assert response.status_code == 400
    assert response.json() == refused(NUL_MESSAGE)


# ------------------------------------------------------------- NUL in the browser


@pytest.mark.parametrize(
    "url",
    [
        "/products/%00/",
        "/forecasts/%00/",
        "/production/quota/%00/2026-W01/",
        "/production/quota/BEV-1001/%00/",
        "/recalls/%00/",
        "/promotions/lift-suggestion/?sku=%00",
        "/production/?line=%00",
    ],
)
def test_a_nul_in_a_browser_url_answers_a_plain_400_page(browser, world, url):
    response = browser.get(url)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "NUL character" in response.content.decode()


def test_the_anonymous_recall_notice_refuses_a_nul(client):
    response = client.get("/recall-notices/%00/")
    assert response.status_code == 400
    assert "NUL character" in response.content.decode()


def test_a_nul_in_a_posted_form_is_refused_and_nothing_is_written(browser, world):
    response = browser.post("/products/new/", {"sku": "NEW\x00", "name": "x"})
    assert response.status_code == 400
    assert "NUL character" in response.content.decode()
    assert not Product.objects.filter(name="x").exists()


def test_a_nul_in_an_uploaded_csv_is_refused(browser, world):
    upload = SimpleUploadedFile(
        "sales.csv", f"sku,week,units\nBEV\x001001,{PAST},3\n".encode(), "text/csv"
    )
    response = browser.post("/sales/import/", {"file": upload})
    assert response.status_code == 400
    assert "NUL character" in response.content.decode()
    assert SalesImport.objects.count() == 0
    assert SalesActual.objects.count() == 0


def test_import_sales_names_the_row_with_a_nul(world, admin_user, tmp_path, capsys):
    path = tmp_path / "sales.csv"
    path.write_text(f"sku,week,units\nBEV-1001,{PAST},3\nBEV\x001001,{PAST},4\x00\n")
    with pytest.raises(CommandError):
        call_command("import_sales", str(path))
    assert capsys.readouterr().err.splitlines() == [
        f"line 3, sku: {NUL_MESSAGE}",
        f"line 3, units: {NUL_MESSAGE}",
    ]
    assert SalesActual.objects.count() == 0


# -------------------------------------------------------------------- deep JSON


@pytest.mark.parametrize(
    "url", ["/api/v1/sales-actuals/", "/api/v1/products/", "/api/v1/webhooks/"]
)
def test_json_nested_too_deep_is_refused(api, world, url):
    body = "[" * 100_000 + "]" * 100_000
    response = api.post(url, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == refused(DEPTH_MESSAGE)


def test_json_nested_up_to_32_levels_still_parses():
    assert boundary.load_json("[" * 32 + "]" * 32) == json.loads("[" * 32 + "]" * 32)
    with pytest.raises(boundary.Refused):
        boundary.load_json("[" * 33 + "]" * 33)


def test_a_body_within_the_depth_reaches_the_view(api, world):
    body = {"sku": "NEW-1", "name": "Deep", "notes": json.loads("[" * 30 + "]" * 30)}
    response = api.post("/api/v1/products/", body, format="json")
    assert response.status_code == 400
    # The serializer's own answer: the body got through.
    assert set(response.json()["error"]["fields"]) == {"product_line", "unit_price", "unit_cost"}


# ------------------------------------------------------- % in a filter message


def test_a_percent_sign_in_a_filter_value_is_a_clean_400(api, world):
    PromotionFactory()
    response = api.get("/api/v1/promotions/?active_in=%25")
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "invalid",
            "message": "Some fields are not valid; see fields.",
            "fields": {"active_in": ["Enter a week as 2026-W48 or a date as 2026-11-23; got '%'."]},
        }
    }
    for query in ("from=%25s", "to=100%25", "product=%25(value)s", "status=%25"):
        assert api.get(f"/api/v1/promotions/?{query}").status_code == 400


# ------------------------------------------------------- accept-range bodies


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ([], None),
        ("text", None),
        (None, None),
        ({"line": None, "from": None, "to": None, "seen_schedule_version": None}, "all"),
        ({"line": [1], "from": [PAST], "to": {}, "seen_schedule_version": [0]}, "all"),
        ({"line": 10**30, "from": PAST, "to": PAST, "seen_schedule_version": 10**30}, "some"),
        ({"line": True, "from": 5, "to": 5.5, "seen_schedule_version": "x"}, "all"),
        (
            {
                "line": "Bottling 1",
                "from": "1999-W01",
                "to": "2999-W01",
                "seen_schedule_version": 0,
            },
            "dates",
        ),
    ],
)
def test_malformed_accept_range_bodies_are_400_with_field_errors(api, world, body, fields):
    response = api.post(
        "/api/v1/quota-recommendations/accept-range/",
        json.dumps(body),
        content_type="application/json",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] in ("invalid", "parse_error")
    if fields == "all":
        assert set(error["fields"]) == {"line", "from", "to", "seen_schedule_version"}
    elif fields == "some":
        assert {"line", "seen_schedule_version"} <= set(error["fields"])
    elif fields == "dates":
        assert set(error["fields"]) == {"from", "to"}
    else:
        assert error["fields"] == {"non_field_errors": [error["message"]]}


# ------------------------------------------------------------------ date window


def test_the_accepted_window_is_2000_to_ten_years_ahead():
    today = dt.date.today()
    assert last_accepted_date() in (
        today.replace(year=today.year + 10),
        dt.date(today.year + 10, 2, 28),
    )


@pytest.mark.parametrize("week", ["0001-01-01", "1999-12-31", "1999-W52", "2999-W01"])
def test_a_sales_row_outside_the_window_is_refused(api, world, week):
    response = api.post(
        "/api/v1/sales-actuals/", [{"sku": "BEV-1001", "week": week, "units": 1}], format="json"
    )
    assert response.status_code == 400
    message = response.json()["error"]["fields"]["0.week"][0]
    assert message.startswith("Enter a date from 2000-01-01 to ")
    assert SalesActual.objects.count() == 0


def test_a_csv_sales_row_dated_year_one_is_refused(world, admin_user, tmp_path, capsys):
    path = tmp_path / "sales.csv"
    path.write_text("sku,week,units\nBEV-1001,0001-01-01,3\n")
    with pytest.raises(CommandError):
        call_command("import_sales", str(path))
    last = last_accepted_date().isoformat()
    assert capsys.readouterr().err.splitlines() == [
        f"line 2, week: Enter a date from 2000-01-01 to {last}."
    ]
    assert SalesActual.objects.count() == 0


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        (
            "/api/v1/inventory-positions/",
            [{"sku": "BEV-1001", "as_of": "0001-01-01", "on_hand": 1}],
            "0.as_of",
        ),
        (
            "/api/v1/promotions/",
            {
                "name": "Old",
                "channel": "retail",
                "start_week": "1999-W01",
                "end_week": "1999-W02",
                "discount_pct": "10",
                "notes": "",
                "items": [{"product": "BEV-1001", "expected_lift_pct": "10"}],
            },
            "start_week",
        ),
    ],
)
def test_api_dates_outside_the_window_are_field_errors(api, world, url, body, field):
    response = api.post(url, body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"][field][0].startswith("Enter a date from 2000-01-01")


@pytest.mark.parametrize("value", ["1999-W52", "9999-12-31", "0001-01-01"])
def test_week_filters_outside_the_window_are_400(api, world, value):
    response = api.get(f"/api/v1/promotions/?active_in={value}")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["active_in"][0].startswith(
        "Enter a date from 2000-01-01"
    )


# ----------------------------------------------------------------- huge numbers


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/api/v1/sales-actuals/", [{"sku": "BEV-1001", "week": PAST, "units": 10**20}], "0.units"),
        (
            "/api/v1/promotions/",
            {
                "name": "Huge",
                "channel": "retail",
                "start_week": PAST,
                "end_week": PAST,
                "discount_pct": "10",
                "notes": "",
                "items": [{"product": "BEV-1001", "expected_lift_pct": "1e30"}],
            },
            "items.0.expected_lift_pct",
        ),
    ],
)
def test_numbers_beyond_the_database_are_field_errors(api, world, url, body, field):
    response = api.post(url, body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/customer-requests/99999999999999999999999/",
        "/api/v1/lines/99999999999999999999/",
        "/api/v1/promotions/?page=99999999999999999999",
        "/api/v1/recompute-runs/?line=99999999999999999999",
    ],
)
def test_huge_ids_in_urls_are_never_a_server_error(api, world, url):
    assert api.get(url).status_code in (200, 400, 404)


# ------------------------------------------------------ unknown paths under /api/


@pytest.mark.parametrize("url", ["/api/v1/nothing-here/", "/api/v2/", "/api/v1/products/a/b/c/"])
def test_unknown_api_paths_answer_the_json_error_body(api, url):
    response = api.get(url)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "error": {"code": "not_found", "message": "Not found.", "fields": {}}
    }


def test_an_unknown_api_path_is_json_for_anonymous_callers_too(client):
    response = client.get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_wrong_method_under_api_is_json(api, world):
    response = api.delete("/api/v1/products/")
    assert response.status_code == 405
    assert response.json() == {
        "error": {
            "code": "method_not_allowed",
            "message": 'Method "DELETE" not allowed.',
            "fields": {},
        }
    }


def test_unknown_browser_paths_keep_the_html_404_page(browser):
    response = browser.get("/nothing-here/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_too_many_query_fields_under_api_is_json(api, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 3
    response = api.get("/api/v1/products/?a=1&b=2&c=3&d=4")
    assert response.status_code == 400
    assert response.json() == {
        "error": {"code": "invalid", "message": "The request could not be read.", "fields": {}}
    }


@pytest.mark.parametrize("value", ["0048-01-09T07:50:14%2B21:27", "1999-12-31T23:59:59Z"])
def test_a_datetime_filter_outside_the_window_is_400(api, value):
    response = api.get(f"/api/v1/customer-requests/?updated_since={value}")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["updated_since"][0].startswith(
        "Enter a date from 2000-01-01"
    )


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"period_start": "0001-01"}, "period_start"),
        ({"period_start": "2026-12", "period_end": "9999-12-31"}, "period_end"),
    ],
)
def test_browser_forms_refuse_dates_outside_the_window(browser, data, field):
    response = browser.post("/planning/open/", data)
    assert response.status_code == 400
    assert response.context["open_form"].errors == {field: [window_message()]}
    assert PlanningCycle.objects.count() == 0


def test_a_utf16_csv_gets_the_imports_own_message_not_the_nul_one(browser, world):
    upload = SimpleUploadedFile(
        "sales.csv", f"sku,week,units\nBEV-1001,{PAST},3\n".encode("utf-16"), "text/csv"
    )
    response = browser.post("/sales/import/", {"file": upload})
    assert "NUL character" not in response.content.decode()
    assert response.status_code != 500
    assert SalesActual.objects.count() == 0
