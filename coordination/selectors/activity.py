"""Reads of the activity timeline."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import QuerySet

from coordination.models import ActivityEvent


def events_for(target: models.Model) -> QuerySet[ActivityEvent]:
    """Every event of `target`, newest first, with who made it."""
    return (
        ActivityEvent.objects.filter(
            content_type=ContentType.objects.get_for_model(target), object_id=target.pk
        )
        .select_related("actor")
        .order_by("-created_at", "-id")
    )


def timeline_for(target: models.Model, limit: int = 100) -> list[ActivityEvent]:
    return list(events_for(target)[:limit])
