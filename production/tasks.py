"""Celery tasks of the planning pipeline: thin, take ids, idempotent."""

from celery import group, shared_task

from production.services import pipeline


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
