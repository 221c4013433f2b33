"""Active banners for the objects a page shows."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db import models

from coordination.models import Notice


def notices_for(objects: Iterable[models.Model]) -> list[Notice]:
    """Active notices on any of these objects, most serious first, one per reference."""
    condition = models.Q(pk__in=[])
    for obj in objects:
        if obj is not None:
            condition |= models.Q(
                content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk
            )
    seen: set[tuple[str, str]] = set()
    result = []
    order = {Notice.Level.DANGER: 0, Notice.Level.WARNING: 1, Notice.Level.INFO: 2}
    for notice in sorted(
        Notice.objects.filter(condition, cleared_at__isnull=True),
        key=lambda n: (order[n.level], -n.raised_at.timestamp()),
    ):
        key = (notice.reference, notice.message)
        if key not in seen:
            seen.add(key)
            result.append(notice)
    return result
