"""Celery tasks of the planning pipeline: thin, take ids, idempotent. No task stores
a result (CELERY_TASK_IGNORE_RESULT): callers read the database, never a result."""

import os

from celery import group, shared_task

from demand.services.share_prior import share_prior_refresh
from production.services import pipeline, webhooks


@shared_task(bind=True, name="production.process_recompute_request")
def process_recompute_request(self, request_id: int) -> list[int]:
    """Recompute forecasts and quotas for a request (and whatever it coalesces). On a
    worker, its runs name the worker process and beat while it works."""
    if self.request.is_eager:
        try:
            return pipeline.process_request(request_id)
        finally:
            if pipeline.ends_the_night(request_id):
                refresh_share_prior.delay()
    worker = f"{self.request.hostname} pid {os.getpid()}"
    try:
        return pipeline.process_request(request_id, worker=worker, heartbeat=True)
    finally:
        # The night's last line done (or failed): every line's measures exist.
        if pipeline.ends_the_night(request_id):
            refresh_share_prior.delay()


@shared_task(name="production.reconcile_recompute_requests")
def reconcile_recompute_requests() -> list[int]:
    """Every few seconds: re-enqueue requests a broker outage left pending, and those of
    workers that died (their runs stopped beating)."""
    return pipeline.reconcile()


@shared_task(name="production.nightly_recompute")
def nightly_recompute() -> list[int]:
    """Re-plan every line from scratch, one task per line so workers share the work. The
    task that finishes the night's last request publishes refresh_share_prior (not a
    chord: a chord needs a result backend, and none is kept). The night's forecasts read
    the previous night's prior (none on the first night: the per-line rule)."""
    ids = pipeline.request_full_recompute()  # committed: the rows exist for the workers
    group(process_recompute_request.s(pk) for pk in ids).apply_async()
    return ids


@shared_task(name="production.refresh_share_prior")
def refresh_share_prior() -> int:
    """Fit the company's sibling-share prior to every line's measures, which the night's
    re-plan has just cached, and store it for the next day's readers."""
    return share_prior_refresh().pk


@shared_task(bind=True, name="production.deliver_webhook", max_retries=None)
def deliver_webhook(self, delivery_id: int) -> None:
    """POST one webhook delivery; retry with backoff while the endpoint fails."""
    retry_in = webhooks.deliver(delivery_id)
    # In-process (eager) mode a retry would run inline and hold the web request through
    # every backoff; the delivery stays pending and the reconciler sends it again.
    if retry_in is not None and not self.request.is_eager:
        raise self.retry(countdown=retry_in)


@shared_task(name="production.reconcile_webhook_deliveries")
def reconcile_webhook_deliveries() -> list[int]:
    """Every few seconds: re-enqueue pending deliveries whose task was lost."""
    return webhooks.reconcile()
