"""Idempotent creates: every API operation that creates honours `Idempotency-Key`.

The same key with the same body from the same caller answers the first answer again and
creates nothing; another body with the key is a 422; a refused create keeps nothing.
The list of creates is the OpenAPI schema's (every POST that answers 201), so a new
create without the header's handling fails here. (tests/faults/ runs the same create
twice at once on PostgreSQL.)"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from rest_framework.test import APIClient

from coordination import roles
from coordination.models import IdempotencyKey
from coordination.services import api_clients
from coordination.tasks import expire_idempotency_keys
from coordination.weeks import add_weeks, current_week, iso_label
from recalls.services import incidents
from tests.api_errors import invalid
from tests.factories import LineFactory, ProductFactory, QuotaRecommendationFactory
from tests.production.seen import seen_cell, seen_schedule
from tests.tables import rows  # a replay must change no table

pytestmark = pytest.mark.django_db

HEADER = "Idempotency-Key"

SCHEMA = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(public=True)))
CREATES = sorted(
    operation["operationId"]
    for item in SCHEMA["paths"].values()
    for method, operation in item.items()
    if method == "post" and "201" in operation["responses"]
)


def week(offset: int) -> dt.date:
    return add_weeks(current_week(), offset)


def label(offset: int) -> str:
    return iso_label(week(offset))


@pytest.fixture
def world(admin_user):
    line = LineFactory(name="Bottling 1")
    product = ProductFactory(sku="BEV-1001", production_line=line)
    for offset in (1, 2):
        QuotaRecommendationFactory(product=product, week=week(offset))
    recall = incidents.recall_open(
        actor=admin_user,
        title="Loose caps",
        classification="class_ii",
        hazard="Caps may not seal.",
        source="internal_test",
        product_ids=[product.pk],
    )
    return {"line": line, "product": product, "recall": recall}


def _recall(world, child: str) -> str:
    return f"/api/v1/recalls/{world['recall'].code}/{child}/"


def _new_product(world):
    """A product in concept in BEV-1001's product line: one to launch, or to succeed it."""
    return ProductFactory(
        sku="NEW-1002",
        product_line=world["product"].product_line,
        production_line=world["line"],
        lifecycle="concept",
    )


# operationId -> (path, body) of a valid create, made from the world. Complete: see
# test_every_create_in_the_schema_is_listed_here.
REQUESTS = {
    "customer_requests_create": lambda w: (
        "/api/v1/customer-requests/",
        {"customer_name": "Metro Foods", "channel": "phone", "kind": "need", "summary": "More"},
    ),
    "inventory_positions_create": lambda w: (
        "/api/v1/inventory-positions/",
        [{"sku": "BEV-1001", "as_of": "2024-03-01", "on_hand": 40}],
    ),
    "launch_plans_create": lambda w: (
        "/api/v1/launch-plans/",
        {
            "product": _new_product(w).sku,
            "launch_week": label(2),
            "likes": [{"product": "BEV-1001"}],
        },
    ),
    "lines_capacity_exceptions_create": lambda w: (
        f"/api/v1/lines/{w['line'].pk}/capacity-exceptions/",
        {"week": label(3), "hours": "40", "note": "Saturday off"},
    ),
    "products_create": lambda w: (
        "/api/v1/products/",
        {
            "sku": "NEW-2001",
            "name": "New tea",
            "product_line": w["product"].product_line.name,
            "unit_price": "2.00",
            "unit_cost": "1.00",
        },
    ),
    "products_specifications_create": lambda w: (
        "/api/v1/products/BEV-1001/specifications/",
        {"colours": ["Green"], "effective_from": label(4), "rationale": "Shops ask for it."},
    ),
    "promotions_create": lambda w: (
        "/api/v1/promotions/",
        {
            "name": "Spring",
            "discount_pct": "10",
            "start_week": label(3),
            "end_week": label(4),
            "items": [{"product": "BEV-1001", "expected_lift_pct": "20"}],
        },
    ),
    "quota_recommendations_accept_create": lambda w: (
        "/api/v1/quota-recommendations/accept/",
        {"product": "BEV-1001", "week": label(1), **seen_cell(w["product"].pk, week(1))},
    ),
    "quota_recommendations_override_create": lambda w: (
        "/api/v1/quota-recommendations/override/",
        {
            "product": "BEV-1001",
            "week": label(2),
            "units": 7,
            "reason": "Trial",
            **seen_cell(w["product"].pk, week(2)),
        },
    ),
    "quota_recommendations_accept_range_create": lambda w: (
        "/api/v1/quota-recommendations/accept-range/",
        {"line": "Bottling 1", "from": label(1), "to": label(2), **seen_schedule()},
    ),
    "recalls_create": lambda w: (
        "/api/v1/recalls/",
        {
            "title": "Glass",
            "classification": "class_i",
            "hazard": "Glass can cut.",
            "source": "customer",
            "products": ["BEV-1001"],
        },
    ),
    "recalls_lots_create": lambda w: (
        _recall(w, "lots"),
        {"product": "BEV-1001", "lot_code": "L-7", "units": 5},
    ),
    "recalls_notifications_create": lambda w: (
        _recall(w, "notifications"),
        {"consignee": "Corner shop", "channel": "email"},
    ),
    "recalls_press_inquiries_create": lambda w: (
        _recall(w, "press-inquiries"),
        {
            "outlet": "Daily Post",
            "contact": "desk@example.com",
            "question": "How many?",
            "response_due": (timezone.now() + dt.timedelta(hours=4)).isoformat(),
        },
    ),
    "recalls_statements_create": lambda w: (
        _recall(w, "statements"),
        {"title": "Our recall", "body": "We recall loose caps."},
    ),
    "recalls_tasks_create": lambda w: (
        _recall(w, "tasks"),
        {
            "title": "Call shops",
            "department": "sales",
            "owner": "ada",
            "due_date": (timezone.localdate() + dt.timedelta(days=2)).isoformat(),
        },
    ),
    "sales_actuals_create": lambda w: (
        "/api/v1/sales-actuals/",
        [{"sku": "BEV-1001", "week": "2024-W01", "units": 12}],
    ),
    "successions_create": lambda w: (
        "/api/v1/successions/",
        {"product": "BEV-1001", "successor": _new_product(w).sku, "switch_week": label(3)},
    ),
    "webhooks_create": lambda w: ("/api/v1/webhooks/", {"url": "https://erp.example.com/hook"}),
}


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def post(client, path, body, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(path, body, format="json", **headers)


# --- every create ----------------------------------------------------------------------


def test_every_create_in_the_schema_is_listed_here():
    assert len(CREATES) == 19
    assert sorted(REQUESTS) == CREATES


@pytest.mark.parametrize("operation_id", CREATES)
def test_every_create_documents_the_header_and_its_422(operation_id):
    operation = next(
        op
        for item in SCHEMA["paths"].values()
        for op in item.values()
        if isinstance(op, dict) and op.get("operationId") == operation_id
    )
    assert {"$ref": "#/components/parameters/IdempotencyKey"} in operation["parameters"]
    assert operation["responses"]["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }


def test_the_header_is_one_reusable_parameter():
    parameter = SCHEMA["components"]["parameters"]["IdempotencyKey"]
    assert (parameter["in"], parameter["name"], parameter["required"]) == (
        "header",
        HEADER,
        False,
    )
    assert parameter["schema"] == {
        "type": "string",
        "minLength": 1,
        "maxLength": 255,
        "pattern": "^[!-~]+$",
    }
    used = json.dumps(SCHEMA["paths"]).count('"#/components/parameters/IdempotencyKey"')
    assert used == len(CREATES)


@pytest.mark.parametrize("operation_id", CREATES)
def test_the_same_create_sent_again_answers_the_same_and_creates_nothing(
    operation_id, admin_user, world
):
    client = client_for(admin_user)
    path, body = REQUESTS[operation_id](world)
    first = post(client, path, body, key="retry-0001")
    assert 200 <= first.status_code < 300, first.content
    assert "Idempotent-Replayed" not in first.headers
    after_first = rows()

    again = post(client, path, body, key="retry-0001")

    assert again.status_code == first.status_code
    assert again.content == first.content
    assert again.headers["Idempotent-Replayed"] == "true"
    assert rows() == after_first

    other = post(client, path, {"other": "body"} if isinstance(body, dict) else [], "retry-0001")

    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert other.json()["error"]["fields"] == {}
    assert other.json()["error"]["message"].startswith(
        "The Idempotency-Key 'retry-0001' was used at "
    )
    assert rows() == after_first
    assert IdempotencyKey.objects.count() == 1


# --- the rules -------------------------------------------------------------------------


WEBHOOK = ("/api/v1/webhooks/", {"url": "https://erp.example.com/hook"})


def endpoints() -> int:
    from production.models import WebhookEndpoint

    return WebhookEndpoint.objects.count()


def test_a_create_without_a_key_is_not_deduplicated(admin_user, world):
    client = client_for(admin_user)
    assert post(client, *WEBHOOK).status_code == 201
    assert post(client, *WEBHOOK).status_code == 201
    assert endpoints() == 2
    assert IdempotencyKey.objects.count() == 0


def test_the_replay_is_the_first_answer_even_after_the_row_changed(admin_user, world):
    client = client_for(admin_user)
    first = post(client, *WEBHOOK, key="hook-1")
    from production.models import WebhookEndpoint

    WebhookEndpoint.objects.update(name="Renamed since")
    again = post(client, *WEBHOOK, key="hook-1")
    assert again.json() == first.json()
    assert again.json()["name"] == ""


def test_the_same_body_in_another_key_order_is_the_same_request(admin_user, world):
    client = client_for(admin_user)
    body = {"url": "https://erp.example.com/hook", "name": "ERP"}
    first = post(client, WEBHOOK[0], body, key="k-order")
    again = client.post(
        WEBHOOK[0],
        '{"name": "ERP", "url": "https://erp.example.com/hook"}',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k-order",
    )
    assert again.content == first.content
    assert endpoints() == 1


def test_keys_are_per_caller(admin_user, make_user, world):
    other = make_user(roles.ADMIN, username="otto")
    assert post(client_for(admin_user), *WEBHOOK, key="shared").status_code == 201
    second = post(client_for(other), *WEBHOOK, key="shared")
    assert second.status_code == 201
    assert "Idempotent-Replayed" not in second.headers
    assert endpoints() == 2


def test_the_same_key_on_another_path_is_422(admin_user, world):
    client = client_for(admin_user)
    post(client, *WEBHOOK, key="one-key")
    before = rows()
    response = post(client, "/api/v1/customer-requests/", WEBHOOK[1], key="one-key")
    assert response.status_code == 422
    assert rows() == before


def test_a_refused_create_keeps_nothing_and_may_be_sent_again(admin_user, world):
    client = client_for(admin_user)
    refused = post(client, WEBHOOK[0], {"url": "ftp://nowhere"}, key="fix-me")
    assert refused.status_code == 400
    assert IdempotencyKey.objects.count() == 0
    corrected = post(client, *WEBHOOK, key="fix-me")
    assert corrected.status_code == 201
    assert endpoints() == 1


def test_a_key_is_kept_a_day(admin_user, world):
    client = client_for(admin_user)
    post(client, *WEBHOOK, key="daily")
    kept = IdempotencyKey.objects.get()
    assert kept.expires_at - kept.created_at == dt.timedelta(hours=24)
    assert (kept.method, kept.path, kept.status_code) == ("POST", WEBHOOK[0], 201)
    IdempotencyKey.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    later = post(client, *WEBHOOK, key="daily")

    assert later.status_code == 201
    assert "Idempotent-Replayed" not in later.headers
    assert endpoints() == 2
    assert IdempotencyKey.objects.get().expires_at > timezone.now()


@pytest.mark.parametrize("key", ["", "with space", "x" * 256, "naïve"])
def test_a_malformed_key_is_400_at_the_header(admin_user, world, key):
    before = rows()
    response = APIClient(HTTP_IDEMPOTENCY_KEY=key.encode().decode("latin-1"))
    response.force_authenticate(admin_user)
    answer = response.post(*WEBHOOK, format="json")
    assert answer.status_code == 400
    assert answer.json() == invalid(
        {HEADER: ["Send 1 to 255 printable ASCII characters without spaces, e.g. a UUID."]}
    )
    assert rows() == before


def test_expired_keys_are_deleted_hourly(admin_user, world):
    client = client_for(admin_user)
    post(client, *WEBHOOK, key="old")
    post(client, *WEBHOOK, key="new")
    IdempotencyKey.objects.filter(key="old").update(
        expires_at=timezone.now() - dt.timedelta(minutes=1)
    )

    assert expire_idempotency_keys.delay().get() == 1

    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]
    assert settings.CELERY_BEAT_SCHEDULE["expire-idempotency-keys"]["task"] == (
        "coordination.expire_idempotency_keys"
    )


# --- the client in docs/webhooks.md ------------------------------------------------------


def docs_client() -> dict:
    """The Python block of docs/webhooks.md that registers with an Idempotency-Key."""
    text = (Path(settings.BASE_DIR) / "docs" / "webhooks.md").read_text()
    code = next(block for block in text.split("```python\n")[1:] if "def register(" in block)
    namespace: dict = {}
    exec(code.split("```")[0], namespace)  # noqa: S102 - our own documentation
    return namespace


@pytest.mark.django_db(transaction=True)
def test_the_documented_client_registers_once_when_it_sends_twice(live_server, monkeypatch):
    from production.models import WebhookEndpoint

    client, api_key = api_clients.client_create(name="ERP", scopes=["webhooks:write"])
    namespace = docs_client()
    monkeypatch.setattr(namespace["uuid"], "uuid4", lambda: "7d4f3a0e-erp-registration")

    first = namespace["register"](live_server.url, api_key, "https://erp.example.com/t", [])
    again = namespace["register"](live_server.url, api_key, "https://erp.example.com/t", [])

    assert again == first
    assert first["secret"].startswith("whsec_")
    assert WebhookEndpoint.objects.count() == 1
    assert IdempotencyKey.objects.get().user == client.user
