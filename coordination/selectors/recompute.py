"""Reads of the recompute outbox: how far a change has travelled towards the plan."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db import models

from coordination import planning_inputs
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


def replan_progress(subject: models.Model) -> dict:
    """For a page showing a change being re-planned (templates/coordination/_replan_card.html):
    the latest recompute the change caused and, once done, what it changed in the plan."""
    recompute = latest_request_about(subject)
    return {"recompute": recompute, "outcome": planning_inputs.plan_outcome(recompute, subject)}
