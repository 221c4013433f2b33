"""The database unreachable: every request answers 503 with Retry-After (the API's JSON
error body under /api/, a plain page in the browser), never a 500 trace, and Tandem
answers normally again as soon as the database is back. The outage is real: the
connection is pointed at a port nothing listens on, so psycopg2's own error travels
through Django."""

from __future__ import annotations

import pytest
from django.db import connections
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import ProductFactory
from tests.faults import stack

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

UNAVAILABLE = {
    "error": {
        "code": "database_unavailable",
        "message": "The database is unavailable right now; nothing was saved. Try again shortly.",
        "fields": {},
    }
}


@pytest.fixture
def outage():
    """Call it to take the database away; it comes back when the test ends (or on
    `outage.end()`)."""
    stack.require_real_services()  # an in-memory SQLite database dies with its connection
    connection = connections["default"]
    saved = dict(connection.settings_dict)

    class Outage:
        def start(self):
            connection.close()
            connection.settings_dict.update(HOST="127.0.0.1", PORT=str(stack.free_port()))

        def end(self):
            connection.close()
            connection.settings_dict.clear()
            connection.settings_dict.update(saved)

    outage = Outage()
    yield outage
    outage.end()


def test_the_api_answers_503_while_the_database_is_away_and_200_after(production_user, outage):
    ProductFactory(sku="TEA-LEM-05")
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(production_user)
    outage.start()
    for method, url, body in (
        ("get", "/api/v1/products/", None),
        ("get", "/api/v1/schedules/", None),
        ("post", "/api/v1/promises/", {"product": "TEA-LEM-05", "quantity": 5, "week": "2030-W01"}),
    ):
        response = getattr(client, method)(url, body, format="json")
        assert response.status_code == 503, url
        assert response["Retry-After"] == "5"
        assert response.json() == UNAVAILABLE
    outage.end()
    response = client.get("/api/v1/products/")
    assert response.status_code == 200
    assert [p["sku"] for p in response.json()["results"]] == ["TEA-LEM-05"]


def test_the_browser_gets_a_plain_503_page_that_needs_no_database(production_user, outage):
    client = Client(raise_request_exception=False)
    client.force_login(production_user)
    outage.start()
    response = client.get("/products/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "Tandem cannot reach its database" in response.content.decode()
    outage.end()
    assert client.get("/products/").status_code == 200


def test_any_other_error_under_the_api_is_the_json_error_body(production_user, monkeypatch):
    """A bug (here a view that fails outright) is a 500 with the API's error body, not
    Django's HTML page; the browser keeps the plain 500 page."""
    from coordination.api import products as product_api

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(product_api.ProductViewSet, "list", broken)
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(production_user)
    response = client.get("/api/v1/products/")
    assert response.status_code == 500
    assert response.json() == {
        "error": {
            "code": "server_error",
            "message": "Something went wrong on our side; it has been logged. Nothing was saved.",
            "fields": {},
        }
    }
