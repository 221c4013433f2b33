"""Reads of the recompute outbox: how far a change has travelled towards the plan."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db import models

from coordination.models import RecomputeRequest


def latest_requests_about(subjects: Iterable[models.Model]) -> dict[int, RecomputeRequest]:
    """{subject id: the latest recompute request it caused}, in one query, for objects of
    one model (a list shows each row's progress; objects that never reached the plan have
    none)."""
    subjects = list(subjects)
    if not subjects:
        return {}
    latest: dict[int, RecomputeRequest] = {}
    for request in RecomputeRequest.objects.filter(
        subject_type=ContentType.objects.get_for_model(subjects[0]),
        subject_id__in=[subject.pk for subject in subjects],
    ).order_by("-created_at", "-id"):
        latest.setdefault(request.subject_id, request)
    return latest


def latest_request_about(subject: models.Model) -> RecomputeRequest | None:
    return latest_requests_about([subject]).get(subject.pk)
