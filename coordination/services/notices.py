"""Banners on objects: raised and cleared by reference (e.g. a recall code)."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone

from coordination.models import Notice


@transaction.atomic
def notices_raise(
    *, targets: Iterable[models.Model], message: str, reference: str, level: str, link: str = ""
) -> int:
    """Raise (or refresh) the notice `reference` on each target. Returns how many."""
    count = 0
    for target in targets:
        Notice.objects.update_or_create(
            content_type=ContentType.objects.get_for_model(target),
            object_id=target.pk,
            reference=reference,
            cleared_at=None,
            defaults={"message": message[:300], "level": level, "link": link},
        )
        count += 1
    return count


@transaction.atomic
def notices_clear(*, reference: str, targets: Iterable[models.Model] | None = None) -> int:
    notices = Notice.objects.filter(reference=reference, cleared_at__isnull=True)
    if targets is not None:
        condition = models.Q(pk__in=[])
        for target in targets:
            condition |= models.Q(
                content_type=ContentType.objects.get_for_model(target), object_id=target.pk
            )
        notices = notices.filter(condition)
    return notices.update(cleared_at=timezone.now())
