"""The activity timeline: comments and recorded changes on any object."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models

from coordination.models import ActivityEvent

MAX_COMMENT_LENGTH = 5000


def activity_record(
    *,
    target: models.Model,
    actor,
    verb: str,
    message: str,
    data: dict | None = None,
) -> ActivityEvent:
    return ActivityEvent.objects.create(
        content_type=ContentType.objects.get_for_model(target),
        object_id=target.pk,
        actor=actor if actor is not None and actor.is_authenticated else None,
        verb=verb,
        message=message,
        data=data or {},
    )


def comment_add(*, target: models.Model, actor, body: str) -> ActivityEvent:
    text = (body or "").strip()
    if not text:
        raise ValidationError({"body": "Write something before posting a comment."})
    if len(text) > MAX_COMMENT_LENGTH:
        raise ValidationError(
            {"body": f"A comment can be at most {MAX_COMMENT_LENGTH} characters ({len(text)})."}
        )
    return activity_record(
        target=target, actor=actor, verb=ActivityEvent.Verb.COMMENTED, message=text
    )


def describe_changes(before: dict, after: dict, labels: dict[str, str] | None = None) -> str:
    """'price 10.00 → 12.00; name Foo → Bar' for the fields that differ."""
    labels = labels or {}
    parts = []
    for key, old in before.items():
        new = after.get(key)
        if old != new:
            parts.append(f"{labels.get(key, key.replace('_', ' '))} {old or '—'} → {new or '—'}")
    return "; ".join(parts)
