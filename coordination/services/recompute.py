"""Asking the planning pipeline to recompute forecasts and quotas.

`recompute_request` writes an outbox row in the caller's transaction and enqueues the
worker task only after commit. If the broker is unreachable the row stays pending and
the reconciler (a periodic task) enqueues it later: nothing is lost, it only waits."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import partial

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone

from coordination.celery import publish
from coordination.models import Product, RecomputeRequest

logger = logging.getLogger(__name__)

# The worker task, registered by the production app; looked up by name so this app
# (which every other one builds on) never imports the planner. RELATED: ids -> the
# products whose forecast reads theirs (a launch's likes, a succession; demand's).
PROCESS_TASK = "production.process_recompute_request"
RELATED: list = []


def recompute_request(
    *,
    product_ids: Iterable[int],
    source: str,
    reason: str,
    actor=None,
    subject: models.Model | None = None,
    enqueue_after_commit: bool = True,
    also_line_ids: Iterable[int] = (),
) -> RecomputeRequest | None:
    """`also_line_ids`: lines to re-plan besides those the products are made on now
    (the line a product just left)."""
    ids = {int(pk) for pk in product_ids}
    ids = sorted(ids.union(*(find(ids) for find in RELATED)) if ids else ids)
    if not ids:
        return None
    made_on = Product.objects.filter(pk__in=ids, production_line__isnull=False)
    line_ids = set(made_on.values_list("production_line_id", flat=True))
    line_ids = sorted(line_ids | {int(pk) for pk in also_line_ids})
    request = RecomputeRequest.objects.create(
        source=source,
        reason=reason[:300],
        product_ids=ids,
        line_ids=line_ids,
        requested_by=actor if actor is not None and actor.is_authenticated else None,
        subject_type=ContentType.objects.get_for_model(subject) if subject is not None else None,
        subject_id=subject.pk if subject is not None else None,
    )
    if enqueue_after_commit:
        transaction.on_commit(partial(enqueue, request.pk))
    return request


def enqueue(request_id: int) -> bool:
    """Hand the request to a worker. False (and the row stays pending) if the broker is
    unreachable; never raises, because the change that asked for it is committed."""
    RecomputeRequest.objects.filter(pk=request_id).update(
        enqueue_attempts=F("enqueue_attempts") + 1
    )
    try:
        publish(PROCESS_TASK, request_id)
    except Exception:
        # Broker unreachable (or, with in-process tasks, the run itself failed and
        # recorded why on the request). The reconciler retries pending requests.
        logger.exception("Recompute request %s was not handed to a worker", request_id)
        return False
    # The last hand-over: the reconciler hands a request over again only if it waited
    # this long since (production/services/pipeline.py, HANDED_OVER_GRACE).
    RecomputeRequest.objects.filter(pk=request_id).update(enqueued_at=timezone.now())
    return True
