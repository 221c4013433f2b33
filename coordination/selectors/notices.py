"""Active banners for the objects a page shows."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db import models

from coordination.models import Notice


def notices_for(objects: Iterable[models.Model]) -> list[Notice]:
    """Active notices on any of these objects, most serious first, one per reference."""
    by_type: dict[ContentType, list] = {}
    for obj in objects:
        if obj is not None:
            by_type.setdefault(ContentType.objects.get_for_model(obj), []).append(obj.pk)
    # One condition per kind of object (a line's page names its 500 products at once).
    condition = models.Q(pk__in=[])
    for content_type, ids in by_type.items():
        condition |= models.Q(content_type=content_type, object_id__in=ids)
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
