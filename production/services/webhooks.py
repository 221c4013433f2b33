"""Webhooks: tell registered REST clients that a line's accepted schedule changed.

A schedule change writes one WebhookDelivery per subscribed endpoint and changed line in
its own transaction (the outbox); after commit a Celery task POSTs it. The payload only
says what changed (line, weeks, schedule version): clients then pull with
`changed_since`. Deliveries are signed with the endpoint's secret:

    X-Tandem-Signature: sha256=<hex HMAC-SHA256(secret, f"{timestamp}.{body}")>

retried with exponential backoff, and recorded. A failing endpoint never blocks planning:
delivery runs in its own task after the planning transaction has committed, and the
task never raises into it. Deliveries reach only public addresses (or the operator's
WEBHOOK_ALLOWED_NETWORKS), never follow redirects and record generic failure reasons:
see webhook_transport. See docs/webhooks.md for the client side.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import time
import uuid
from functools import partial

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.text import Truncator

from coordination import roles
from coordination.celery import publish
from coordination.models import Line
from coordination.permissions import require_permission
from coordination.weeks import iso_label
from production.models import ScheduleRevision, WebhookDelivery, WebhookEndpoint
from production.services import webhook_transport

logger = logging.getLogger(__name__)

DELIVER_TASK = "production.deliver_webhook"
EVENT_SCHEDULE_CHANGED = "schedule.changed"
TIMEOUT_SECONDS = 5
MAX_ATTEMPTS = 8
BACKOFF_BASE_SECONDS = 10
BACKOFF_CAP_SECONDS = 3600
# An attempt holds the delivery this long, so a duplicate task (a retry and the
# reconciler's re-enqueue) does not POST it twice at the same time.
CLAIM_SECONDS = 60
# Consecutive failed deliveries (each after all its retries) that disable an endpoint.
DISABLE_AFTER_FAILURES = 5
# The reconciler (every few seconds) leaves a delivery to its own task for this long
# after it is due: a task on time runs within milliseconds and claims it. One the broker
# never took (an outage) or lost is sent again within seconds of the broker's return.
RECONCILE_GRACE_SECONDS = 10
SIGNATURE_TOLERANCE_SECONDS = 300
MAX_ENDPOINTS_PER_USER = 20

Status = WebhookDelivery.Status


# --- the client side -------------------------------------------------------------------

WEBHOOKS_REFUSED = "Only Production or an administrator may manage webhooks."


def sign(secret: str, timestamp: int | str, body: bytes | str) -> str:
    """The X-Tandem-Signature header value for a body sent at `timestamp`."""
    if isinstance(body, str):
        body = body.encode()
    message = f"{timestamp}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_signature(
    secret: str,
    timestamp: int | str,
    body: bytes | str,
    header: str,
    tolerance: int = SIGNATURE_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """What a client does with a delivery: the signature matches the body and the
    timestamp, and the timestamp is recent (a replayed old delivery is refused)."""
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((time.time() if now is None else now) - sent_at) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, sent_at, body), str(header or ""))


# --- endpoints -------------------------------------------------------------------------


def endpoints_of(actor):
    """Endpoints the actor manages: their own; administrators see every one."""
    endpoints = WebhookEndpoint.objects.prefetch_related("lines").order_by("id")
    if roles.has_role(actor, roles.ADMIN):
        return endpoints
    return endpoints.filter(created_by=actor)


_validate_url = URLValidator(schemes=["http", "https"])
NOT_PUBLIC = (
    "This host does not resolve to a public internet address: webhooks are not sent to "
    "private, loopback, link-local or reserved networks."
)


def webhook_url_check(url: str) -> str:
    """The URL, stripped, if webhooks may be sent to it; a ValidationError at `url` if not.
    Its host must resolve, and only to addresses a delivery may reach (one message for
    both: registering must not tell which internal names exist). Each delivery checks
    again, against the addresses the name has then."""
    url = (url or "").strip()
    try:
        _validate_url(url)
    except ValidationError:
        raise ValidationError({"url": "Enter an http:// or https:// URL."}) from None
    if len(url) > 500:
        raise ValidationError({"url": "A URL is at most 500 characters."})
    try:
        webhook_transport.destination(url)
    except webhook_transport.DestinationRefused:
        raise ValidationError({"url": NOT_PUBLIC}) from None
    return url


@transaction.atomic
def webhook_endpoint_create(
    *, actor, url: str, lines=(), name: str = "", owner=None
) -> WebhookEndpoint:
    require_permission(actor, "production.add_webhookendpoint", WEBHOOKS_REFUSED)
    url = webhook_url_check(url)
    if WebhookEndpoint.objects.filter(created_by=actor).count() >= MAX_ENDPOINTS_PER_USER:
        raise ValidationError(f"You may register at most {MAX_ENDPOINTS_PER_USER} webhooks.")
    endpoint = WebhookEndpoint.objects.create(
        created_by=actor, owner=owner, url=url, name=Truncator((name or "").strip()).chars(100)
    )
    endpoint.lines.set(list(lines))
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, actor, endpoint_id: int) -> None:
    require_permission(actor, "production.delete_webhookendpoint", WEBHOOKS_REFUSED)
    endpoints_of(actor).get(pk=endpoint_id).delete()


# --- the outbox ------------------------------------------------------------------------


def _endpoints_for(line_id: int) -> list[WebhookEndpoint]:
    return list(
        WebhookEndpoint.objects.filter(is_active=True, disabled_at__isnull=True)
        .exclude(owner__revoked_at__isnull=False)  # a revoked client hears nothing more
        .filter(Q(lines__isnull=True) | Q(lines=line_id))
        .distinct()
        .order_by("id")
    )


def schedule_changed(revision: ScheduleRevision) -> list[int]:
    """Called inside the transaction that wrote `revision`: one delivery per endpoint and
    changed line (a range accept is one event, not one per cell), each handed to a
    worker only once the change has committed. A rollback takes the rows with it."""
    changed: dict[int, set] = {}
    for line_id, week in revision.entries.values_list("line_id", "week"):
        changed.setdefault(line_id, set()).add(week)
    if not changed:
        return []
    now = timezone.now()
    lines = Line.objects.in_bulk(list(changed))
    deliveries = []
    for line_id, weeks in sorted(changed.items()):
        for endpoint in _endpoints_for(line_id):
            event_id = uuid.uuid4()
            payload = {
                "event": EVENT_SCHEDULE_CHANGED,
                "id": str(event_id),
                "line": {"id": line_id, "name": lines[line_id].name},
                "schedule_version": revision.pk,
                "weeks": [iso_label(week) for week in sorted(weeks)],
                "changed_at": revision.created_at.isoformat(),
            }
            deliveries.append(
                WebhookDelivery(
                    endpoint=endpoint,
                    event_id=event_id,
                    event_type=EVENT_SCHEDULE_CHANGED,
                    payload=payload,
                    next_attempt_at=now,
                )
            )
    # bulk_create sets the ids on both databases we run (PostgreSQL, SQLite >= 3.35).
    ids = sorted(delivery.pk for delivery in WebhookDelivery.objects.bulk_create(deliveries))
    for pk in ids:
        transaction.on_commit(partial(enqueue, pk))
    return ids


def enqueue(delivery_id: int) -> bool:
    """Hand a delivery to a worker. Never raises: the change is committed, and a pending
    delivery the broker did not take is re-enqueued by the reconciler."""
    try:
        publish(DELIVER_TASK, delivery_id)
    except Exception:
        logger.exception("Webhook delivery %s was not handed to a worker", delivery_id)
        return False
    return True


def reconcile() -> list[int]:
    """Re-enqueue pending deliveries whose attempt is overdue (a lost task or broker)."""
    overdue = timezone.now() - dt.timedelta(seconds=RECONCILE_GRACE_SECONDS)
    ids = list(
        WebhookDelivery.objects.filter(status=Status.PENDING, next_attempt_at__lte=overdue)
        .order_by("id")
        .values_list("pk", flat=True)[:1000]
    )
    for pk in ids:
        enqueue(pk)
    return ids


# --- delivery --------------------------------------------------------------------------


def backoff_seconds(attempts: int) -> int:
    """Wait after the `attempts`-th failed attempt: 10 s, 20 s, 40 s, ... at most an hour."""
    return min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_CAP_SECONDS)


def deliver(delivery_id: int) -> int | None:
    """One attempt at a delivery. Returns the seconds to wait before retrying, or None
    when there is nothing more to do (delivered, failed for good, or not ours to send:
    already delivered, not due, or another task holds it). Never raises."""
    now = timezone.now()
    # Claim: a second task for the same delivery (retry + reconciler) finds it held.
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id,
        status=Status.PENDING,
        next_attempt_at__lte=now + dt.timedelta(seconds=2),
    ).update(
        attempts=F("attempts") + 1,
        next_attempt_at=now + dt.timedelta(seconds=CLAIM_SECONDS),
    )
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if not endpoint.is_active or endpoint.disabled_at is not None:
        WebhookDelivery.objects.filter(pk=delivery_id).update(
            status=Status.FAILED, next_attempt_at=None, last_error="The endpoint is disabled."
        )
        return None
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Tandem-Webhooks/1",
        "X-Tandem-Event": delivery.event_type,
        "X-Tandem-Delivery": str(delivery.event_id),
        "X-Tandem-Timestamp": str(timestamp),
        "X-Tandem-Signature": sign(endpoint.secret, timestamp, body),
    }
    # Refused addresses, redirects, refusals, timeouts, DNS and TLS failures: all just a
    # failed attempt, recorded with a generic reason (webhook_transport).
    outcome = webhook_transport.post(endpoint.url, body, headers, timeout=TIMEOUT_SECONDS)
    status_code, error = outcome.status_code, outcome.error
    finished = timezone.now()
    if status_code is not None and 200 <= status_code < 300 and not error:
        WebhookDelivery.objects.filter(pk=delivery_id).update(
            status=Status.DELIVERED,
            last_status_code=status_code,
            last_error="",
            delivered_at=finished,
            next_attempt_at=None,
        )
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failure_count=0)
        return None
    error = Truncator(error or f"HTTP {status_code}").chars(500)
    if delivery.attempts >= MAX_ATTEMPTS:
        WebhookDelivery.objects.filter(pk=delivery_id).update(
            status=Status.FAILED,
            last_status_code=status_code,
            last_error=error,
            next_attempt_at=None,
        )
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failure_count=F("failure_count") + 1)
        WebhookEndpoint.objects.filter(
            pk=endpoint.pk, failure_count__gte=DISABLE_AFTER_FAILURES, disabled_at__isnull=True
        ).update(disabled_at=finished)
        logger.warning("Webhook delivery %s failed for good: %s", delivery_id, error)
        return None
    wait = backoff_seconds(delivery.attempts)
    WebhookDelivery.objects.filter(pk=delivery_id).update(
        last_status_code=status_code,
        last_error=error,
        next_attempt_at=finished + dt.timedelta(seconds=wait),
    )
    return wait
