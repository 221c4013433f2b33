"""Decisions and action items recorded in the meeting."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from coordination.models import Department, Line, Product
from coordination.permissions import require_permission
from coordination.services.activity import activity_record
from coordination.services.locking import lock_for_edit, save_new_version
from demand.models import Promotion
from planning.models import CycleDecision, PlanningCycle
from planning.services._common import (
    MAX_TEXT,
    RECORD,
    lock_cycle,
)


def _clean_item(fields: dict) -> dict:
    """Validated values of a decision or action item; raises with a message per field."""
    errors = {}
    kind = fields.get("kind") or CycleDecision.Kind.DECISION
    if kind not in CycleDecision.Kind.values:
        errors["kind"] = "Choose decision or action item."
    text = (fields.get("text") or "").strip()
    if not text:
        errors["text"] = "Write what was decided or what must be done."
    elif len(text) > MAX_TEXT:
        errors["text"] = f"At most {MAX_TEXT} characters ({len(text)})."
    department = fields.get("department") or ""
    if department not in Department.values:
        errors["department"] = "Choose the department it concerns."
    owner = None
    owner_id = fields.get("owner_id")
    if owner_id not in (None, ""):
        owner = get_user_model().objects.filter(pk=owner_id, is_active=True).first()
        if owner is None:
            errors["owner"] = "Choose an active person."
    due_date = fields.get("due_date")
    if kind == CycleDecision.Kind.ACTION:
        if owner is None and "owner" not in errors:
            errors["owner"] = "An action item needs an owner."
        if due_date is None:
            errors["due_date"] = "An action item needs a due date."
    links = {}
    for key, model, label in (
        ("product", Product, "product"),
        ("promotion", Promotion, "promotion"),
        ("line", Line, "production line"),
    ):
        value = fields.get(f"{key}_id")
        links[key] = None
        if value not in (None, ""):
            links[key] = model.objects.filter(pk=value).first()
            if links[key] is None:
                errors[key] = f"No such {label}."
    if errors:
        raise ValidationError(errors)
    return {
        "kind": kind,
        "text": text,
        "department": department,
        "owner": owner,
        "due_date": due_date,
        **links,
    }


@transaction.atomic
def cycle_decision_create(*, actor, cycle_id: int, **fields) -> CycleDecision:
    require_permission(actor, RECORD, "Your role may not record decisions of the planning review.")
    cycle = lock_cycle(cycle_id)
    if cycle.status == PlanningCycle.Status.CLOSED:
        raise ValidationError(f"{cycle} is closed: record new items on the current cycle.")
    item = CycleDecision.objects.create(cycle=cycle, created_by=actor, **_clean_item(fields))
    activity_record(
        target=cycle,
        actor=actor,
        verb="updated",
        message=f"Recorded {item.get_kind_display().lower()}: {item.text[:120]}",
    )
    return item


@transaction.atomic
def cycle_decision_update(*, actor, decision_id: int, expected_version, **fields) -> CycleDecision:
    require_permission(actor, RECORD, "Your role may not edit decisions of the planning review.")
    item = lock_for_edit(
        CycleDecision.objects.select_related("cycle"), decision_id, expected_version
    )
    if item.cycle.status == PlanningCycle.Status.CLOSED:
        raise ValidationError(f"{item.cycle} is closed: its record is final.")
    cleaned = _clean_item({"kind": item.kind, **fields})
    if cleaned["kind"] != item.kind:
        raise ValidationError({"kind": "A decision stays a decision; record a new action item."})
    for key, value in cleaned.items():
        setattr(item, key, value)
    save_new_version(
        item, ["text", "department", "owner", "due_date", "product", "promotion", "line"]
    )
    activity_record(
        target=item.cycle,
        actor=actor,
        verb="updated",
        message=f"Edited {item.get_kind_display().lower()}: {item.text[:120]}",
    )
    return item


@transaction.atomic
def action_item_set_status(
    *, actor, decision_id: int, expected_version, status: str
) -> CycleDecision:
    """Mark an action item done, dropped or open again: its owner or a department member
    at the review may. Works on closed cycles too: actions outlive their meeting."""
    item = lock_for_edit(
        CycleDecision.objects.select_related("cycle", "owner"), decision_id, expected_version
    )
    if item.owner_id != actor.pk and not actor.has_perm(RECORD):
        raise PermissionDenied("Only the owner or a member of the review may update this item.")
    if item.kind != CycleDecision.Kind.ACTION:
        raise ValidationError("Decisions have no progress; only action items are done.")
    if status not in CycleDecision.Status.values:
        raise ValidationError({"status": "Choose open, done or dropped."})
    if status == item.status:
        return item
    before = item.get_status_display().lower()
    item.status = status
    item.completed_at = None if status == CycleDecision.Status.OPEN else timezone.now()
    save_new_version(item, ["status", "completed_at"])
    activity_record(
        target=item.cycle,
        actor=actor,
        verb="updated",
        message=f"Action item {before} → {item.get_status_display().lower()}: {item.text[:120]}",
    )
    return item
