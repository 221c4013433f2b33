import ast
import time
from pathlib import Path

import pytest
from celery.result import EagerResult
from celery.signals import task_success
from django.conf import settings

from coordination import celery
from coordination.celery import app as celery_app
from coordination.tasks import ping
from production.services import pipeline, webhooks
from tests.conftest import broker_configured


def test_celery_configuration_is_safe_for_long_jobs():
    conf = celery_app.conf
    assert conf.task_serializer == "json"
    assert conf.result_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_soft_time_limit < conf.task_time_limit


def test_nothing_waits_for_a_result_and_a_web_publish_gives_up_within_a_second():
    conf = celery_app.conf
    # No result store: with one on Redis, each publish waited ~20 s of reconnects while
    # Redis was down. Every task ignores its result.
    assert conf.result_backend is None
    assert conf.task_ignore_result is True
    ours = {name: task for name, task in celery_app.tasks.items() if not name.startswith("celery.")}
    assert sorted(ours) == [
        "coordination.expire_idempotency_keys",
        "coordination.ping",
        "coordination.queue_daily_digests",
        "coordination.send_email_notification",
        "coordination.send_pending_email_notifications",
        "production.deliver_webhook",
        "production.nightly_recompute",
        "production.process_recompute_request",
        "production.reconcile_recompute_requests",
        "production.reconcile_webhook_deliveries",
        "production.refresh_share_prior",
    ]
    assert all(task.ignore_result for task in ours.values())
    # A web publish: an attempt and one immediate retry, three socket timeouts at worst
    # (tests/faults/test_broker_outage.py measures it against a hung Redis).
    policy = celery.PUBLISH_RETRY_POLICY
    assert policy == {"max_retries": 1, "interval_start": 0, "interval_step": 0, "interval_max": 0}
    assert round(3 * celery.PUBLISH_SOCKET_TIMEOUT, 3) <= 0.6
    # Workers keep kombu's patient socket defaults (a timed-out ack stalls a worker),
    # and wait out an outage of any length.
    assert "socket_timeout" not in conf.broker_transport_options
    assert conf.broker_connection_max_retries is None


def test_time_limits_visibility_and_heartbeats_fit_together():
    conf = celery_app.conf
    # A hung task is stopped by the soft, then the hard limit; a run still running after
    # STALE_RUNNING is failed even if it beats.
    assert conf.task_soft_time_limit < conf.task_time_limit
    assert conf.task_time_limit < pipeline.STALE_RUNNING.total_seconds()
    # Redis hands a task held longer than the visibility timeout to a second worker:
    # longer than any task runs and any retry countdown waits.
    visibility = conf.broker_transport_options["visibility_timeout"]
    assert visibility > conf.task_time_limit
    assert visibility > webhooks.BACKOFF_CAP_SECONDS
    # Several beats fit in the timeout; a dead worker's request is queued again, and a
    # request the broker never took handed over, well within the 60 s and 15 s promised.
    assert pipeline.HEARTBEAT_TIMEOUT.total_seconds() >= 5 * pipeline.HEARTBEAT_SECONDS
    reconcile = celery_app.conf.beat_schedule["reconcile-recompute-requests"]
    assert reconcile["schedule"] == settings.RECONCILE_SECONDS
    assert pipeline.HEARTBEAT_TIMEOUT.total_seconds() + settings.RECONCILE_SECONDS <= 30
    assert pipeline.UNSENT_GRACE.total_seconds() + settings.RECONCILE_SECONDS <= 15
    deliveries = celery_app.conf.beat_schedule["reconcile-webhook-deliveries"]
    assert webhooks.RECONCILE_GRACE_SECONDS + deliveries["schedule"] <= 15
    # A reconcile message older than its interval is dropped, not piled up.
    for entry in (reconcile, deliveries):
        assert entry["options"] == {"expires": entry["schedule"]}


def test_every_task_is_routed_to_a_declared_queue_webhooks_apart_from_planning():
    """Stated as an enumeration: a new task must be routed by name, so that no delivery
    burst can sit in front of a re-plan."""
    ours = sorted(name for name in celery_app.tasks if not name.startswith("celery."))
    routes = celery_app.conf.task_routes
    declared = {queue.name for queue in celery_app.conf.task_queues}
    assert declared == {"planning", "webhooks"}
    assert sorted(routes) == ours
    assert {name: route["queue"] for name, route in routes.items()} == {
        "coordination.expire_idempotency_keys": "planning",
        "coordination.ping": "planning",
        "coordination.queue_daily_digests": "planning",
        "coordination.send_email_notification": "webhooks",
        "coordination.send_pending_email_notifications": "webhooks",
        "production.deliver_webhook": "webhooks",
        "production.nightly_recompute": "planning",
        "production.process_recompute_request": "planning",
        "production.reconcile_recompute_requests": "planning",
        "production.reconcile_webhook_deliveries": "webhooks",
        "production.refresh_share_prior": "planning",
    }
    router = celery_app.amqp.router
    for name in ours:
        assert router.route({}, name)["queue"].name == routes[name]["queue"]


@pytest.mark.worker
def test_a_task_round_trips_through_a_worker(celery_worker):
    succeeded = []

    def record(sender=None, result=None, **kwargs):
        succeeded.append(result)

    task_success.connect(record, sender=ping, weak=False)
    try:
        sent = ping.delay()
        deadline = time.monotonic() + 20
        while not succeeded and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        task_success.disconnect(record, sender=ping)
    assert succeeded == ["pong"]
    if broker_configured():
        # Went through the broker and a real worker, not inline.
        assert celery_worker is not None
        assert not isinstance(sent, EagerResult)
        replies = celery_app.control.ping(destination=[celery_worker.hostname], timeout=5)
        assert replies == [{celery_worker.hostname: {"ok": "pong"}}]
    else:
        assert isinstance(sent, EagerResult)


PUBLISHES = {"delay", "apply_async", "send_task", "retry"}
APPS = ["coordination", "demand", "production", "recalls", "planning"]


def calls_in_app_code(names: set[str]) -> dict[tuple[str, str], list[ast.Call]]:
    """(file, function) -> calls of a method or function named one of `names`."""
    root = Path(__file__).resolve().parents[2]
    found: dict[tuple[str, str], list[ast.Call]] = {}
    for app in APPS:
        for path in (root / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for function in ast.walk(ast.parse(path.read_text())):
                if not isinstance(function, ast.FunctionDef):
                    continue
                for node in ast.walk(function):
                    callee = getattr(node, "func", None)
                    name = getattr(callee, "attr", None) or getattr(callee, "id", None)
                    if isinstance(node, ast.Call) and name in names:
                        key = (str(path.relative_to(root)), function.name)
                        found.setdefault(key, []).append(node)
    return found


def test_web_code_publishes_only_through_outbox_enqueues_that_never_raise():
    # Only `publish` (short timeouts) and code that runs on workers hand tasks over.
    assert set(calls_in_app_code(PUBLISHES)) == {
        ("coordination/celery.py", "publish"),
        ("production/tasks.py", "nightly_recompute"),
        # The night's last line task publishes the share prior's refresh (a worker).
        ("production/tasks.py", "process_recompute_request"),
        ("production/tasks.py", "deliver_webhook"),
    }
    # `publish` is called only by the outbox's enqueues, each inside a try that catches
    # every error: the change is committed, the row waits for the reconciler.
    callers = calls_in_app_code({"publish"})
    assert set(callers) == {
        ("coordination/services/recompute.py", "enqueue"),
        ("coordination/services/notifications.py", "enqueue"),
        ("production/services/webhooks.py", "enqueue"),
    }
    root = Path(__file__).resolve().parents[2]
    for path, function in callers:
        tree = ast.parse((root / path).read_text())
        [enqueue] = [f for f in ast.walk(tree) if getattr(f, "name", None) == function]
        guarded = [
            call
            for guard in ast.walk(enqueue)
            if isinstance(guard, ast.Try)
            and any(getattr(h.type, "id", None) == "Exception" for h in guard.handlers)
            for statement in guard.body
            for call in ast.walk(statement)
            if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "publish"
        ]
        assert len(guarded) == len(callers[path, function]) == 1, path
