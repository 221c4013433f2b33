"""API clients: keys shown once and stored hashed, rotation, revocation, scopes on every
endpoint, last use recorded at most once a minute, and per-client throttling."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient, APIRequestFactory

from coordination import config
from coordination.api import throttling
from coordination.api.auth import BearerKeyAuthentication
from coordination.api.scopes import SCOPES
from coordination.models import ApiClient
from coordination.services import api_clients as services
from demand.models import SalesActual, SalesImport
from production.models import ScheduleEntry
from tests.factories import ProductFactory, ScheduleEntryFactory
from tests.faults.stack import free_port

pytestmark = pytest.mark.django_db

SCHEDULES = "/api/v1/schedules/"
PRODUCTS = "/api/v1/products/"
SALES = "/api/v1/sales-actuals/"
ACCEPT = "/api/v1/quota-recommendations/accept/"
ADJUSTMENTS = "/api/v1/forecasts/adjustments/"

BAD_KEY = {
    "error": {
        "code": "authentication_failed",
        "message": "Invalid or revoked API key.",
        "fields": {},
    }
}


def missing_scope(message: str) -> dict:
    return {"error": {"code": "missing_scope", "message": message, "fields": {}}}


def bearer(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def make_client(name="erp", scopes=("schedules:read",), created_by=None):
    return services.client_create(name=name, scopes=list(scopes), created_by=created_by)


# --- services ------------------------------------------------------------------------


def test_create_returns_the_key_once_and_stores_only_its_hash(make_user):
    admin = make_user(username="ada")
    client, key = make_client(
        scopes=["schedules:read", "quotas:read", "schedules:read"], created_by=admin
    )
    assert len(key) >= 43  # 32 random bytes, url-safe base64
    stored = ApiClient.objects.get()
    assert stored == client
    assert stored.name == "erp"
    assert stored.scopes == ["quotas:read", "schedules:read"]  # sorted, no repeats
    assert stored.key_prefix == key[:8]
    assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in json.dumps([str(v) for v in stored.__dict__.values()])
    assert stored.created_by == admin
    assert (stored.revoked_at, stored.last_used_at, stored.rotated_at) == (None, None, None)
    # Its own principal: a service user with no password and no roles.
    assert stored.user.username == "api-client:erp"
    assert not stored.user.has_usable_password()
    assert stored.user.groups.count() == 0
    assert services.client_for_key(key) == client


@pytest.mark.parametrize(
    ("name", "scopes", "fields"),
    [
        ("", ["schedules:read"], {"name": ["Give the client a name."]}),
        ("erp2", [], {"scopes": ["Give the client at least one scope."]}),
        (
            "erp2",
            ["schedules:read", "schedules:write", "root"],
            {
                "scopes": [
                    "Unknown scope(s): root, schedules:write. Known scopes: "
                    + ", ".join(SCOPES)
                    + "."
                ]
            },
        ),
        ("erp", ["schedules:read"], {"name": ["An API client named “erp” already exists."]}),
    ],
)
def test_create_refuses_bad_input_and_creates_nothing(name, scopes, fields):
    make_client()
    users = get_user_model().objects.count()
    with pytest.raises(ValidationError) as caught:
        services.client_create(name=name, scopes=scopes)
    assert caught.value.message_dict == fields
    assert ApiClient.objects.count() == 1
    assert get_user_model().objects.count() == users


def test_rotate_replaces_the_key_and_the_old_one_stops_working():
    ScheduleEntryFactory()
    client, old = make_client()
    new = services.client_rotate(client=client)
    assert new != old
    client.refresh_from_db()
    assert client.key_hash == hashlib.sha256(new.encode()).hexdigest()
    assert client.rotated_at is not None
    assert bearer(old).get(SCHEDULES).json() == BAD_KEY
    assert bearer(new).get(SCHEDULES).status_code == 200


def test_revoke_is_final_and_idempotent():
    ScheduleEntryFactory()
    client, key = make_client()
    assert bearer(key).get(SCHEDULES).status_code == 200
    services.client_revoke(client=client)
    first = client.revoked_at
    assert first is not None
    response = bearer(key).get(SCHEDULES)
    assert response.status_code == 401
    assert response.json() == BAD_KEY
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    services.client_revoke(client=client)
    assert client.revoked_at == first
    hash_before = client.key_hash
    with pytest.raises(ValidationError, match=r"A revoked client cannot get a new key\."):
        services.client_rotate(client=client)
    client.refresh_from_db()
    assert client.key_hash == hash_before


def test_record_use_writes_at_most_once_a_minute():
    client, _ = make_client()
    start = timezone.now()
    assert services.client_record_use(client=client, now=start) is True
    assert services.client_record_use(client=client, now=start + dt.timedelta(seconds=59)) is False
    client.refresh_from_db()
    assert client.last_used_at == start
    later = start + dt.timedelta(seconds=60)
    assert services.client_record_use(client=client, now=later) is True
    client.refresh_from_db()
    assert client.last_used_at == later
    # A stale copy (another process already wrote) does not write again.
    stale = ApiClient.objects.get(pk=client.pk)
    stale.last_used_at = start
    assert services.client_record_use(client=stale, now=later + dt.timedelta(seconds=1)) is False
    client.refresh_from_db()
    assert client.last_used_at == later


def test_requests_record_last_use_without_a_write_each(django_assert_num_queries):
    client, key = make_client()
    api = bearer(key)
    assert api.get(SCHEDULES).status_code == 200
    client.refresh_from_db()
    first = client.last_used_at
    assert first is not None
    assert api.get(SCHEDULES).status_code == 200
    client.refresh_from_db()
    assert client.last_used_at == first
    ApiClient.objects.filter(pk=client.pk).update(last_used_at=first - dt.timedelta(minutes=2))
    assert api.get(SCHEDULES).status_code == 200
    client.refresh_from_db()
    assert client.last_used_at > first


# --- authentication and scopes -----------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Bearer not-a-key-at-all", "Invalid or revoked API key."),
        ("Bearer", "Invalid Authorization header: send `Bearer <key>`."),
        ("Bearer two parts", "Invalid Authorization header: send `Bearer <key>`."),
    ],
)
def test_unknown_or_malformed_keys_are_401(header, message):
    make_client()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=header)
    response = api.get(SCHEDULES)
    assert response.status_code == 401
    assert response.json() == {
        "error": {"code": "authentication_failed", "message": message, "fields": {}}
    }


def test_the_right_scope_reads_and_the_body_is_the_schedule():
    entry = ScheduleEntryFactory()
    _, key = make_client()
    response = bearer(key).get(SCHEDULES)
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [entry.pk]


def test_a_missing_scope_is_403_with_the_error_body():
    ProductFactory()
    _, key = make_client(scopes=["schedules:read"])
    response = bearer(key).get(PRODUCTS)
    assert response.status_code == 403
    assert response.json() == missing_scope("This API key lacks the scope products:read.")
    _, other = make_client(name="catalogue", scopes=["products:read"])
    assert bearer(other).get(PRODUCTS).status_code == 200
    assert bearer(other).get(SCHEDULES).json() == missing_scope(
        "This API key lacks the scope schedules:read."
    )


def test_a_read_scope_never_writes_and_nothing_changes():
    product = ProductFactory()
    _, key = make_client(scopes=["quotas:read", "schedules:read"])
    body = {"product": product.sku, "week": "2030-W01", "seen_run_id": 1, "seen_entry_id": None}
    response = bearer(key).post(ACCEPT, body, format="json")
    assert response.status_code == 403
    assert response.json() == missing_scope("This API key lacks the scope quotas:write.")
    assert ScheduleEntry.objects.count() == 0


def test_an_action_without_a_declared_scope_is_closed_to_api_clients():
    # Marketing adjustments are a person's judgement: no scope grants them.
    _, key = make_client(scopes=list(SCOPES))
    response = bearer(key).put(ADJUSTMENTS, {}, format="json")
    assert response.status_code == 403
    assert response.json() == missing_scope("API clients may not write here.")


def test_a_write_scope_writes_through_the_services_permission_checks():
    ProductFactory(sku="BEV-1001")
    client, key = make_client(name="shop", scopes=["sales:write"])
    body = [{"sku": "BEV-1001", "week": "2024-W01", "units": 12}]
    response = bearer(key).post(SALES, body, format="json")
    assert response.status_code == 201, response.json()
    record = SalesImport.objects.get()
    assert record.uploaded_by == client.user
    assert SalesActual.objects.get().units == 12
    # ...but it may not read the history back: that is sales:read.
    assert bearer(key).get(SALES).json() == missing_scope(
        "This API key lacks the scope sales:read."
    )


def test_a_client_registers_a_webhook_with_webhooks_write_and_owns_it():
    from production.models import WebhookEndpoint

    client, key = make_client(name="mirror", scopes=["webhooks:write"])
    url = "https://erp.example.com/tandem"
    response = bearer(key).post("/api/v1/webhooks/", {"url": url}, format="json")
    assert response.status_code == 201, response.json()
    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.owner, endpoint.created_by, endpoint.url) == (client, client.user, url)
    assert response.json()["secret"] == endpoint.secret
    # Listing is a read: webhooks:write alone does not list.
    assert bearer(key).get("/api/v1/webhooks/").json() == missing_scope(
        "This API key lacks the scope webhooks:read."
    )
    _, reader = make_client(name="reader", scopes=["schedules:read"])
    refused = bearer(reader).post("/api/v1/webhooks/", {"url": url}, format="json")
    assert refused.json() == missing_scope("This API key lacks the scope webhooks:write.")
    assert WebhookEndpoint.objects.count() == 1


def test_a_scope_grants_only_its_permissions():
    client, key = make_client(scopes=["schedules:read"])
    assert bearer(key).get(SCHEDULES).status_code == 200
    # The service user as the request sees it has exactly the scope's permissions...
    request = APIRequestFactory().get(SCHEDULES, HTTP_AUTHORIZATION=f"Bearer {key}")
    user, auth = BearerKeyAuthentication().authenticate(request)
    assert auth == client
    assert user.get_all_permissions() == {"production.view_scheduleentry"}
    assert user.has_perm("production.view_scheduleentry")
    assert not user.has_perm("production.plan_line")
    # ...and the same user loaded without the key (e.g. a session) has none.
    assert get_user_model().objects.get(pk=client.user.pk).get_all_permissions() == set()


def test_people_keep_token_and_session_auth(marketing_user):
    ScheduleEntryFactory()
    token = Token.objects.create(user=marketing_user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get(SCHEDULES).status_code == 200
    session = APIClient()
    session.force_login(marketing_user)
    assert session.get(SCHEDULES).status_code == 200


# --- throttling --------------------------------------------------------------------------


def test_each_client_is_throttled_with_the_error_body_and_retry_after(settings):
    settings.API_THROTTLE_RATES = {"client": "2/min", "user": "1000/min"}
    _, key = make_client()
    _, other = make_client(name="mes", scopes=["schedules:read"])
    api = bearer(key)
    assert [api.get(SCHEDULES).status_code for _ in range(2)] == [200, 200]
    response = api.get(SCHEDULES)
    assert response.status_code == 429
    assert response.json() == {
        "error": {
            "code": "throttled",
            "message": "Request was throttled. Expected available in 60 seconds.",
            "fields": {},
        }
    }
    assert response["Retry-After"] == "60"
    # Another client has its own budget.
    assert bearer(other).get(SCHEDULES).status_code == 200


def test_people_are_throttled_by_user(settings, marketing_user, sales_user):
    settings.API_THROTTLE_RATES = {"client": "1000/min", "user": "1/min"}
    api = APIClient()
    api.force_authenticate(marketing_user)
    assert api.get(SCHEDULES).status_code == 200
    assert api.get(SCHEDULES).status_code == 429
    other = APIClient()
    other.force_authenticate(sales_user)
    assert other.get(SCHEDULES).status_code == 200


@pytest.fixture
def unreachable_cache(settings):
    """The rate-limit cache on a Redis port nothing listens on (refused at once)."""
    url = f"redis://127.0.0.1:{free_port()}/2"
    settings.CACHES = {**settings.CACHES, "default": config.cache_config({"CACHE_URL": url})}
    throttling.shared_cache_health.reset()
    throttling.FALLBACK_CACHE.clear()
    yield
    settings.CACHES = {**settings.CACHES, "default": config.cache_config({})}
    throttling.shared_cache_health.reset()
    throttling.FALLBACK_CACHE.clear()


def test_without_its_cache_the_limit_is_kept_per_process_and_logged_once(
    settings, unreachable_cache, caplog
):
    settings.API_THROTTLE_RATES = {"client": "2/min", "user": "1000/min"}
    _, key = make_client()
    with caplog.at_level(logging.ERROR, logger="coordination.api.throttling"):
        statuses = [bearer(key).get(SCHEDULES).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    [record] = caplog.records
    assert record.getMessage().startswith(
        "The rate-limit cache is unreachable (ConnectionError: Error 111 connecting to"
    )
    assert record.getMessage().endswith("counting API requests per process until it is back.")


def test_the_fall_back_is_logged_at_most_once_a_minute_and_redis_retried_after_a_pause(
    monkeypatch, caplog
):
    clock = [1000.0]
    monkeypatch.setattr(throttling.time, "monotonic", lambda: clock[0])
    health = throttling._SharedCacheHealth()
    usable, logged = [], []
    with caplog.at_level(logging.ERROR, logger="coordination.api.throttling"):
        for at in (0, 1, 30, 59, 61, 100, 122):
            clock[0] = 1000.0 + at
            usable.append(health.usable())
            health.failed(ConnectionError("refused"))
            logged.append(len(caplog.records))
    # Redis is tried again SHARED_RETRY_SECONDS (5) after a failure, not sooner.
    assert usable == [True, False, True, True, False, True, True]
    assert logged == [1, 1, 1, 1, 2, 2, 3]
    clock[0] += throttling.SHARED_RETRY_SECONDS
    assert health.usable() is True


# --- management command -------------------------------------------------------------------


def test_command_prints_a_working_key(capsys):
    ScheduleEntryFactory()
    call_command("create_api_client", "erp", "--scopes", "schedules:read, quotas:read")
    out, err = capsys.readouterr()
    key = out.strip()
    client = ApiClient.objects.get()
    assert client.scopes == ["quotas:read", "schedules:read"]
    assert client.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert "Created API client erp with scopes quotas:read, schedules:read." in err
    assert bearer(key).get(SCHEDULES).status_code == 200


def test_command_takes_scopes_separated_by_spaces(capsys):
    call_command("create_api_client", "mirror", "--scopes", "schedules:read", "webhooks:write")
    assert ApiClient.objects.get().scopes == ["schedules:read", "webhooks:write"]


def test_command_refuses_unknown_scopes_and_creates_nothing():
    with pytest.raises(CommandError, match=r"Unknown scope\(s\): everything\."):
        call_command("create_api_client", "erp", "--scopes", "everything")
    assert ApiClient.objects.count() == 0


# --- admin ----------------------------------------------------------------------------------

KEY_IN_PAGE = re.compile(r'<code class="api-key">([^<]+)</code>')


@pytest.fixture
def admin_client(client, make_user):
    admin = make_user(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    client.admin = admin
    return client


def test_admin_creates_a_client_and_shows_the_key_once(admin_client):
    ScheduleEntryFactory()
    response = admin_client.post(
        "/admin/coordination/apiclient/add/",
        {"name": "erp", "scopes": ["schedules:read", "quotas:read"]},
    )
    assert response.status_code == 200
    keys = KEY_IN_PAGE.findall(response.content.decode())
    assert len(keys) == 1
    client = ApiClient.objects.get()
    assert (client.name, client.scopes, client.created_by) == (
        "erp",
        ["quotas:read", "schedules:read"],
        admin_client.admin,
    )
    assert client.key_hash == hashlib.sha256(keys[0].encode()).hexdigest()
    assert bearer(keys[0]).get(SCHEDULES).status_code == 200
    # The change page never shows it again.
    page = admin_client.get(f"/admin/coordination/apiclient/{client.pk}/change/")
    assert page.status_code == 200
    assert keys[0] not in page.content.decode()
    assert KEY_IN_PAGE.findall(page.content.decode()) == []


def test_admin_refuses_an_unknown_scope_and_creates_nothing(admin_client):
    response = admin_client.post(
        "/admin/coordination/apiclient/add/", {"name": "erp", "scopes": ["root"]}
    )
    assert response.status_code == 200
    assert "Select a valid choice. root is not one of the available choices." in (
        response.content.decode()
    )
    assert ApiClient.objects.count() == 0


def test_admin_changes_scopes(admin_client):
    client, _ = make_client()
    response = admin_client.post(
        f"/admin/coordination/apiclient/{client.pk}/change/", {"scopes": ["products:read"]}
    )
    assert response.status_code == 302
    client.refresh_from_db()
    assert client.scopes == ["products:read"]
    assert client.name == "erp"


def test_admin_rotates_and_revokes(admin_client):
    ScheduleEntryFactory()
    client, old = make_client()
    revoked, revoked_key = make_client(name="old-mes")
    services.client_revoke(client=revoked)
    changelist = "/admin/coordination/apiclient/"
    response = admin_client.post(
        changelist, {"action": "rotate_keys", "_selected_action": [client.pk, revoked.pk]}
    )
    assert response.status_code == 200
    keys = KEY_IN_PAGE.findall(response.content.decode())
    assert len(keys) == 1
    assert bearer(old).get(SCHEDULES).status_code == 401
    assert bearer(keys[0]).get(SCHEDULES).status_code == 200
    assert bearer(revoked_key).get(SCHEDULES).status_code == 401
    response = admin_client.post(
        changelist, {"action": "revoke_keys", "_selected_action": [client.pk]}, follow=True
    )
    assert "Revoked 1 API client(s)." in response.content.decode()
    client.refresh_from_db()
    assert client.revoked_at is not None
    assert bearer(keys[0]).get(SCHEDULES).status_code == 401


def test_admin_cannot_delete_clients(admin_client):
    client, _ = make_client()
    response = admin_client.post(
        f"/admin/coordination/apiclient/{client.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 403
    assert ApiClient.objects.filter(pk=client.pk).exists()
