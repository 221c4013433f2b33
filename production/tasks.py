"""Celery tasks of the planning pipeline: thin, take ids, idempotent."""

from celery import group, shared_task

from production.services import pipeline, webhooks


@shared_task(name="production.process_recompute_request")
def process_recompute_request(request_id: int) -> list[int]:
    """Recompute forecasts and quotas for a request (and whatever it coalesces)."""
    return pipeline.process_request(request_id)


@shared_task(name="production.reconcile_recompute_requests")
def reconcile_recompute_requests() -> list[int]:
    """Every minute: re-enqueue requests left pending by a broker outage or lost worker."""
    return pipeline.reconcile()


@shared_task(name="production.nightly_recompute")
def nightly_recompute() -> list[int]:
    """Re-plan every line from scratch, one task per line so workers share the work."""
    ids = pipeline.request_full_recompute()  # committed: the rows exist for the workers
    group(process_recompute_request.s(pk) for pk in ids).apply_async()
    return ids


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
    """Every minute: re-enqueue pending deliveries whose task was lost."""
    return webhooks.reconcile()
