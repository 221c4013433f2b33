"""Webhooks: schedule changes reach registered endpoints, signed, retried, recorded."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from celery.exceptions import Retry
from django.db import transaction
from django.utils import timezone

from coordination.weeks import iso_label
from production.models import ScheduleEntry, ScheduleRevision, WebhookDelivery, WebhookEndpoint
from production.services import schedule as schedule_services
from production.services import webhooks
from production.tasks import deliver_webhook, reconcile_webhook_deliveries
from tests.factories import LineFactory, ProductFactory, QuotaRecommendationFactory
from tests.production.seen import seen_cell, seen_schedule
from tests.production.test_api_quotas import ACCEPT, api, expected_entry, label, seen, week

pytestmark = pytest.mark.django_db

WEBHOOKS = "/api/v1/webhooks/"
SCHEDULES = "/api/v1/schedules/"


class Receiver:
    """A real HTTP server on 127.0.0.1: records every POST, answers the next status
    (with a Location header when `redirect_to` is set)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.statuses: list[int] = []  # consumed in order; then 200
        self.redirect_to: str | None = None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body}
                )
                code = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(code)
                if receiver.redirect_to:
                    self.send_header("Location", receiver.redirect_to)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/tandem"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def on_premise(settings):
    """Webhooks may reach this machine only because the operator allowed it: without
    the allow-list 127.0.0.1 is refused (test_webhook_ssrf.py)."""
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]


@pytest.fixture
def receiver(on_premise):
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def dead_url(on_premise):
    """A URL on which nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks"


@pytest.fixture
def lines():
    bottling, canning = LineFactory(name="Bottling 1"), LineFactory(name="Canning")
    for sku, line in (("BEV-1001", bottling), ("BEV-1002", bottling), ("CAN-2001", canning)):
        product = ProductFactory(sku=sku, production_line=line)
        for offset in (1, 2, 3):
            QuotaRecommendationFactory(product=product, week=week(offset), baseline=10 * offset)
    return bottling, canning


def endpoint_for(user, url, *lines_followed, name=""):
    return webhooks.webhook_endpoint_create(actor=user, url=url, lines=lines_followed, name=name)


def accept(user, sku, offset):
    from coordination.models import Product

    product_id = Product.objects.get(sku=sku).pk
    return schedule_services.quota_accept(
        actor=user, product_id=product_id, week=week(offset), **seen_cell(product_id, week(offset))
    )


# --- delivery and signature ------------------------------------------------------------


def test_an_accept_posts_one_signed_event_to_the_endpoint(
    production_user, lines, receiver, django_capture_on_commit_callbacks
):
    bottling, _ = lines
    endpoint = endpoint_for(production_user, receiver.url, bottling)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        entry = accept(production_user, "BEV-1001", 2)
    assert len(callbacks) == 1
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    delivery = WebhookDelivery.objects.get()
    assert request["path"] == "/hooks/tandem"
    headers = request["headers"]
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Tandem-Event"] == "schedule.changed"
    assert headers["X-Tandem-Delivery"] == str(delivery.event_id)
    body = json.loads(request["body"])
    assert body == {
        "event": "schedule.changed",
        "id": str(delivery.event_id),
        "line": {"id": bottling.pk, "name": "Bottling 1"},
        "schedule_version": entry.revision_id,
        "weeks": [label(2)],
        "changed_at": entry.revision.created_at.isoformat(),
    }
    assert body == delivery.payload

    # The client side: the signature proves the body and the time it was sent.
    timestamp, signature = headers["X-Tandem-Timestamp"], headers["X-Tandem-Signature"]
    assert signature.startswith("sha256=")
    assert webhooks.verify_signature(endpoint.secret, timestamp, request["body"], signature)
    tampered = request["body"].replace(b'"weeks"', b'"Weeks"')
    assert not webhooks.verify_signature(endpoint.secret, timestamp, tampered, signature)
    assert not webhooks.verify_signature("whsec_other", timestamp, request["body"], signature)
    assert not webhooks.verify_signature(
        endpoint.secret, timestamp, request["body"], signature, now=int(timestamp) + 301
    )
    assert webhooks.verify_signature(
        endpoint.secret, timestamp, request["body"], signature, now=int(timestamp) + 299
    )
    assert not webhooks.verify_signature(endpoint.secret, "soon", request["body"], signature)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
    assert delivery.delivered_at is not None
    assert delivery.next_attempt_at is None

    # A second task for the same delivery (a duplicate message) sends nothing again.
    deliver_webhook.apply(args=[delivery.pk])
    assert len(receiver.requests) == 1
    delivery.refresh_from_db()
    assert delivery.attempts == 1


def test_only_endpoints_following_the_line_hear_of_it(
    production_user, lines, receiver, django_capture_on_commit_callbacks
):
    bottling, canning = lines
    canning_only = endpoint_for(production_user, receiver.url + "/canning", canning)
    every_line = endpoint_for(production_user, receiver.url + "/all")
    both = endpoint_for(production_user, receiver.url + "/both", bottling, canning)
    paused = endpoint_for(production_user, receiver.url + "/paused", bottling)
    WebhookEndpoint.objects.filter(pk=paused.pk).update(is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        accept(production_user, "BEV-1001", 1)
    paths = sorted(r["path"] for r in receiver.requests)
    assert paths == ["/hooks/tandem/all", "/hooks/tandem/both"]
    assert sorted(WebhookDelivery.objects.values_list("endpoint_id", flat=True)) == [
        every_line.pk,
        both.pk,
    ]
    assert not WebhookDelivery.objects.filter(endpoint__in=[canning_only, paused]).exists()


def test_a_range_accept_is_one_event_per_endpoint_with_every_changed_week(
    production_user, lines, receiver, django_capture_on_commit_callbacks
):
    bottling, _ = lines
    endpoint_for(production_user, receiver.url, bottling)
    endpoint_for(production_user, receiver.url + "/all")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        revision = schedule_services.quotas_accept_range(
            actor=production_user,
            line_id=bottling.pk,
            week_from=week(1),
            week_to=week(3),
            **seen_schedule(),
        )
    assert revision.entries.count() == 6  # two products, three weeks
    assert len(callbacks) == 2
    assert len(receiver.requests) == 2
    for request in receiver.requests:
        body = json.loads(request["body"])
        assert body["weeks"] == [label(1), label(2), label(3)]
        assert body["schedule_version"] == revision.pk
    assert WebhookDelivery.objects.filter(status="delivered").count() == 2


def test_a_hold_tells_each_line_once(
    production_user, lines, receiver, django_capture_on_commit_callbacks
):
    bottling, canning = lines
    endpoint = endpoint_for(production_user, receiver.url)
    accept(production_user, "BEV-1001", 1)
    accept(production_user, "BEV-1001", 2)
    accept(production_user, "CAN-2001", 3)
    WebhookDelivery.objects.all().delete()  # those were not committed: never sent
    from coordination.models import Product

    held = Product.objects.filter(sku__in=["BEV-1001", "CAN-2001"]).values_list("pk", flat=True)
    with django_capture_on_commit_callbacks(execute=True):
        revision = schedule_services.schedule_zero_held(
            actor=production_user, product_ids=held, reason="Hold R-1: glass shards"
        )
    events = sorted(
        (json.loads(r["body"]) for r in receiver.requests), key=lambda e: e["line"]["id"]
    )
    assert [(e["line"]["id"], e["weeks"], e["schedule_version"]) for e in events] == [
        (bottling.pk, [label(1), label(2)], revision.pk),
        (canning.pk, [label(3)], revision.pk),
    ]
    assert WebhookDelivery.objects.filter(endpoint=endpoint, status="delivered").count() == 2


def test_a_rolled_back_accept_writes_and_sends_nothing(
    production_user, lines, receiver, django_capture_on_commit_callbacks
):
    endpoint_for(production_user, receiver.url)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        accept(production_user, "BEV-1001", 1)
        assert WebhookDelivery.objects.count() == 1  # the outbox row, in the transaction
        raise RuntimeError("something later in the request failed")
    assert callbacks == []
    assert WebhookDelivery.objects.count() == 0
    assert ScheduleRevision.objects.count() == 0
    assert receiver.requests == []


# --- failures, retries, backoff --------------------------------------------------------


def test_a_failing_endpoint_is_retried_with_backoff_then_failed(
    production_user, lines, receiver, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(production_user, receiver.url)
    receiver.statuses = [500] * webhooks.MAX_ATTEMPTS
    with django_capture_on_commit_callbacks(execute=True):
        accept(production_user, "BEV-1001", 1)
    delivery = WebhookDelivery.objects.get()
    waits = []
    for attempt in range(1, webhooks.MAX_ATTEMPTS + 1):
        delivery.refresh_from_db()
        assert delivery.attempts == attempt
        assert delivery.last_status_code == 500
        assert delivery.last_error == "HTTP 500 Internal Server Error"
        if attempt == webhooks.MAX_ATTEMPTS:
            break
        assert delivery.status == "pending"
        waits.append(round((delivery.next_attempt_at - timezone.now()).total_seconds()))
        # Not due yet: a duplicate task does nothing.
        deliver_webhook.apply(args=[delivery.pk])
        assert len(receiver.requests) == attempt
        # Time passes; the retry comes.
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        deliver_webhook.apply(args=[delivery.pk])
    assert waits == [10, 20, 40, 80, 160, 320, 640]
    assert len(receiver.requests) == webhooks.MAX_ATTEMPTS
    assert delivery.status == "failed"
    assert delivery.next_attempt_at is None
    endpoint.refresh_from_db()
    assert (endpoint.failure_count, endpoint.disabled_at) == (1, None)


def test_backoff_is_capped_at_an_hour():
    assert [webhooks.backoff_seconds(n) for n in (1, 2, 3, 9, 30)] == [10, 20, 40, 2560, 3600]


def test_with_a_worker_the_task_asks_celery_to_retry_after_the_backoff(
    production_user, lines, dead_url, django_capture_on_commit_callbacks
):
    endpoint_for(production_user, dead_url)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        accept(production_user, "BEV-1001", 1)
    assert len(callbacks) == 1
    delivery = WebhookDelivery.objects.get()
    # Called outside eager mode, the task raises Celery's Retry (with the countdown).
    with pytest.raises(Retry):
        deliver_webhook(delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, None)
    assert delivery.last_error == "connection refused"


def test_planning_succeeds_while_the_endpoint_is_down(
    production_user, lines, dead_url, django_capture_on_commit_callbacks
):
    endpoint_for(production_user, dead_url)
    with django_capture_on_commit_callbacks(execute=True):
        response = api(production_user).post(
            ACCEPT,
            {"product": "BEV-1001", "week": label(1), **seen()},
            format="json",
        )
    assert response.status_code == 201, response.json()
    assert ScheduleEntry.objects.filter(pk=response.json()["id"]).exists()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert delivery.last_error == "connection refused"
    assert delivery.next_attempt_at > timezone.now() + dt.timedelta(seconds=8)


def test_the_reconciler_resends_overdue_pending_deliveries_only(
    production_user, lines, receiver, dead_url, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(production_user, receiver.url)
    with django_capture_on_commit_callbacks(execute=False):  # the broker lost the tasks
        accept(production_user, "BEV-1001", 1)
        accept(production_user, "BEV-1001", 2)
        accept(production_user, "BEV-1001", 3)
    overdue, soon, done = WebhookDelivery.objects.order_by("id")
    long_ago = timezone.now() - dt.timedelta(minutes=5)
    WebhookDelivery.objects.filter(pk=overdue.pk).update(next_attempt_at=long_ago)
    WebhookDelivery.objects.filter(pk=soon.pk).update(
        next_attempt_at=timezone.now() + dt.timedelta(seconds=20)
    )
    WebhookDelivery.objects.filter(pk=done.pk).update(status="delivered", next_attempt_at=long_ago)
    assert reconcile_webhook_deliveries.apply().get() == [overdue.pk]
    assert [json.loads(r["body"])["id"] for r in receiver.requests] == [str(overdue.event_id)]
    assert list(WebhookDelivery.objects.order_by("id").values_list("status", "attempts")) == [
        ("delivered", 1),
        ("pending", 0),
        ("delivered", 0),
    ]
    endpoint.refresh_from_db()
    assert endpoint.failure_count == 0


def test_consecutive_failed_deliveries_disable_the_endpoint_and_a_success_resets(
    production_user, lines, receiver, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(production_user, receiver.url)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failure_count=3)
    with django_capture_on_commit_callbacks(execute=True):
        accept(production_user, "BEV-1001", 1)  # delivered
    endpoint.refresh_from_db()
    assert endpoint.failure_count == 0

    def fail_for_good():
        with django_capture_on_commit_callbacks(execute=False):
            accept(production_user, "BEV-1002", 1)
        delivery = WebhookDelivery.objects.latest("id")
        WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=webhooks.MAX_ATTEMPTS - 1)
        receiver.statuses = [503]
        deliver_webhook.apply(args=[delivery.pk])
        delivery.refresh_from_db()
        assert delivery.status == "failed"

    for count in range(1, webhooks.DISABLE_AFTER_FAILURES + 1):
        fail_for_good()
        endpoint.refresh_from_db()
        assert endpoint.failure_count == count
    assert endpoint.disabled_at is not None
    before = WebhookDelivery.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        accept(production_user, "CAN-2001", 1)
    assert WebhookDelivery.objects.count() == before  # a disabled endpoint hears nothing


# --- incremental sync driven by webhooks ------------------------------------------------


def test_a_mirror_pulling_changed_since_on_each_event_converges(
    production_user, marketing_user, lines, receiver, django_capture_on_commit_callbacks
):
    """Accepts, overrides, range accepts and a hold's supersessions: after each event
    the client pulls `changed_since` its version; the mirror equals the current schedule."""
    from coordination.models import Product

    bottling, _ = lines
    endpoint_for(production_user, receiver.url)
    client = api(marketing_user)
    mirror: dict[int, dict] = {}
    version = 0
    sku_ids = dict(Product.objects.values_list("sku", "pk"))
    changes = [
        lambda: accept(production_user, "BEV-1001", 1),
        lambda: accept(production_user, "CAN-2001", 2),
        lambda: accept(production_user, "BEV-1001", 1),  # supersedes
        lambda: schedule_services.quota_override(
            actor=production_user,
            product_id=sku_ids["BEV-1002"],
            week=week(2),
            units=7,
            reason="Line trial",
            **seen_cell(sku_ids["BEV-1002"], week(2)),
        ),
        lambda: schedule_services.quotas_accept_range(
            actor=production_user,
            line_id=bottling.pk,
            week_from=week(1),
            week_to=week(3),
            **seen_schedule(),
        ),
        lambda: schedule_services.schedule_zero_held(
            actor=production_user, product_ids=[sku_ids["BEV-1001"]], reason="Hold R-2"
        ),
    ]
    for change in changes:
        seen = len(receiver.requests)
        with django_capture_on_commit_callbacks(execute=True):
            change()
        assert len(receiver.requests) == seen + 1
        event = json.loads(receiver.requests[-1]["body"])
        url = f"{SCHEDULES}?changed_since={version}&page_size=2"
        while url:
            page = client.get(url).json()
            for item in page["results"]:
                if item["superseded"]:
                    mirror.pop(item["id"], None)
                else:
                    mirror[item["id"]] = item
            url = page["next"]
        version = page["schedule_version"]
        assert version == event["schedule_version"]
        current = ScheduleEntry.objects.filter(superseded_at__isnull=True).order_by("id")
        expected = [expected_entry(e) for e in current]
        assert sorted(mirror.values(), key=lambda r: r["id"]) == expected
    assert len(mirror) == 7  # BEV-1001 w1-3 (held: 0), BEV-1002 w1-3, CAN-2001 w2
    assert {r["units"] for r in mirror.values() if r["product"] == "BEV-1001"} == {0}


# --- REST ------------------------------------------------------------------------------


def test_register_shows_the_secret_once(production_user, lines):
    bottling, _ = lines
    client = api(production_user)
    response = client.post(
        WEBHOOKS,
        {"url": "https://erp.example.com/tandem", "lines": ["Bottling 1"], "name": "ERP"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    endpoint = WebhookEndpoint.objects.get()
    assert body["secret"] == endpoint.secret
    assert body["secret"].startswith("whsec_")
    assert len(body["secret"]) > 40
    expected = {
        "id": endpoint.pk,
        "name": "ERP",
        "url": "https://erp.example.com/tandem",
        "lines": [{"id": bottling.pk, "name": "Bottling 1"}],
        "owner": None,
        "is_active": True,
        "created_at": body["created_at"],
        "failure_count": 0,
        "disabled_at": None,
    }
    assert body == {**expected, "secret": endpoint.secret}
    assert endpoint.created_by == production_user
    listed = client.get(WEBHOOKS).json()
    assert listed["results"] == [expected]
    assert client.get(f"{WEBHOOKS}{endpoint.pk}/").json() == expected


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://example.com/x"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({}, "url"),
        ({"url": "https://example.com", "lines": ["No such line"]}, "lines.0"),
        ({"url": "https://example.com", "lines": "Bottling 1"}, "lines"),
        ({"url": ["https://example.com"]}, "url"),
    ],
)
def test_bad_registrations_are_400(production_user, lines, body, field):
    response = api(production_user).post(WEBHOOKS, body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert field in response.json()["error"]["fields"]
    assert WebhookEndpoint.objects.count() == 0


def test_who_may_manage_webhooks(make_user, production_user, admin_user, marketing_user):
    assert api().get(WEBHOOKS).status_code == 401
    refused = api(marketing_user).post(WEBHOOKS, {"url": "https://x.example"}, format="json")
    assert refused.status_code == 403
    assert api(marketing_user).get(WEBHOOKS).status_code == 403
    assert WebhookEndpoint.objects.count() == 0

    mine = endpoint_for(production_user, "https://a.example/hook")
    other_production = make_user("Production", username="pablo")
    theirs = endpoint_for(other_production, "https://b.example/hook")
    client = api(production_user)
    assert [e["id"] for e in client.get(WEBHOOKS).json()["results"]] == [mine.pk]
    assert client.get(f"{WEBHOOKS}{theirs.pk}/").status_code == 404
    assert client.delete(f"{WEBHOOKS}{theirs.pk}/").status_code == 404
    assert client.get(f"{WEBHOOKS}{theirs.pk}/deliveries/").status_code == 404
    assert WebhookEndpoint.objects.filter(pk=theirs.pk).exists()
    everyone = api(admin_user).get(WEBHOOKS).json()["results"]
    assert [e["id"] for e in everyone] == [mine.pk, theirs.pk]

    assert client.delete(f"{WEBHOOKS}{mine.pk}/").status_code == 204
    assert list(WebhookEndpoint.objects.values_list("pk", flat=True)) == [theirs.pk]
    assert client.put(f"{WEBHOOKS}{theirs.pk}/", {}, format="json").status_code == 405


def test_deliveries_are_listed_newest_first(
    production_user, lines, receiver, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(production_user, receiver.url)
    receiver.statuses = [502]
    with django_capture_on_commit_callbacks(execute=True):
        accept(production_user, "BEV-1001", 1)
        accept(production_user, "BEV-1001", 2)
    body = api(production_user).get(f"{WEBHOOKS}{endpoint.pk}/deliveries/").json()
    rows = [(r["status"], r["attempts"], r["last_status_code"]) for r in body["results"]]
    first, second = WebhookDelivery.objects.order_by("id")
    assert [r["id"] for r in body["results"]] == [second.pk, first.pk]
    assert rows == [("delivered", 1, 200), ("pending", 1, 502)]
    assert body["results"][0]["payload"]["weeks"] == [iso_label(week(2))]
    assert uuid.UUID(body["results"][0]["event_id"]) == second.event_id
    assert "secret" not in json.dumps(body)
