"""Reads of the activity timeline."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import models

from coordination.models import ActivityEvent


def timeline_for(target: models.Model, limit: int = 100) -> list[ActivityEvent]:
    return list(
        ActivityEvent.objects.filter(
            content_type=ContentType.objects.get_for_model(target), object_id=target.pk
        )
        .select_related("actor")
        .order_by("-created_at", "-id")[:limit]
    )
