"""Sign-offs and the meeting's adjustments to a signed part (see the package docstring
for the rules)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from coordination.models import Line
from coordination.permissions import require_permission
from coordination.services.activity import activity_record
from coordination.services.locking import save_new_version
from planning.models import CycleAdjustment, CycleSignOff, PlanningCycle, SignedPart
from planning.selectors import cycles as selectors
from planning.services._common import (
    MAX_ADJUSTMENT,
    lock_cycle,
    transition,
)


def _part(value) -> SignedPart:
    try:
        return SignedPart(value)
    except ValueError:
        raise ValidationError({"part": "Choose demand, supply or firm orders."}) from None


@transaction.atomic
def cycle_adjustment_add(
    *, actor, cycle_id: int, part, line_id, month: dt.date | None, amount, reason: str
) -> CycleAdjustment:
    """Change a number of a signed part in the meeting. Its department's sign-off, if
    given, becomes stale."""
    part = _part(part)
    require_permission(
        actor,
        selectors.PART_PERMISSION[part],
        f"Only {selectors.PART_DEPARTMENT[part].label} adjusts the {selectors.PART_NOUN[part]}.",
    )
    cycle = lock_cycle(cycle_id)
    if not cycle.is_open:
        raise ValidationError(
            f"{cycle} is {cycle.get_status_display().lower()}: its numbers are final."
        )
    errors = {}
    line = None
    if line_id not in (None, ""):
        line = Line.objects.filter(pk=line_id).first()
        if line is None:
            errors["line"] = "Choose one of the production lines."
    snapshot = selectors.latest_snapshot(cycle)
    months = set(snapshot.data["months"]) if snapshot else set()
    if month is None:
        errors["month"] = "Choose the month to adjust."
    elif month.replace(day=1).isoformat() not in months:
        errors["month"] = "Choose a month the snapshot covers."
    try:
        amount = int(amount)
    except (TypeError, ValueError):
        errors["amount"] = "Enter a whole number, negative to lower the figure."
    else:
        if amount == 0:
            errors["amount"] = "An adjustment changes the figure: enter a number other than 0."
        elif abs(amount) > MAX_ADJUSTMENT:
            errors["amount"] = f"An adjustment is at most ±{MAX_ADJUSTMENT:,}."
    reason = " ".join((reason or "").split())
    if not reason:
        errors["reason"] = "Say why the meeting changed this number."
    elif len(reason) > 300:
        errors["reason"] = "A reason is at most 300 characters."
    if errors:
        raise ValidationError(errors)
    adjustment = CycleAdjustment.objects.create(
        cycle=cycle,
        part=part,
        line=line,
        month=month.replace(day=1),
        amount=amount,
        reason=reason,
        created_by=actor,
    )
    _figure, unit = selectors.PART_FIGURE[part]
    save_new_version(cycle, [])
    activity_record(
        target=cycle,
        actor=actor,
        verb="updated",
        message=f"Adjusted the {selectors.PART_NOUN[part]} of {line or 'all lines'} in "
        f"{month:%b %Y} by {amount:+,} {unit}: {reason}",
    )
    return adjustment


@transaction.atomic
def cycle_sign_off(
    *, actor, cycle_id: int, part, seen_hash: str | None = None, note: str = ""
) -> CycleSignOff:
    """Sign the department's part as it stands now. `seen_hash` is the fingerprint of the
    numbers the person looked at: if they changed since, nothing is signed."""
    part = _part(part)
    department = selectors.PART_DEPARTMENT[part]
    require_permission(
        actor,
        selectors.PART_PERMISSION[part],
        f"Only {department.label} signs off the {selectors.PART_NOUN[part]}.",
    )
    cycle = lock_cycle(cycle_id)
    if cycle.status != PlanningCycle.Status.IN_REVIEW:
        raise ValidationError(
            f"{cycle} is {cycle.get_status_display().lower()}: sign-offs are given in review."
        )
    note = " ".join((note or "").split())
    if len(note) > 300:
        raise ValidationError({"note": "A note is at most 300 characters."})
    snapshot = selectors.latest_snapshot(cycle)
    adjustments = selectors.adjustments_of(cycle)
    current = selectors.part_hash(snapshot, part, adjustments)
    if seen_hash is not None and seen_hash != current:
        raise ValidationError(
            f"The {selectors.PART_NOUN[part]} changed since you opened the page. "
            "Review the current numbers, then sign again."
        )
    sign_off, created = CycleSignOff.objects.update_or_create(
        cycle=cycle,
        part=part,
        defaults={
            "department": department,
            "signed_by": actor,
            "signed_at": timezone.now(),
            "snapshot": snapshot,
            "part_hash": current,
            "note": note,
        },
    )
    verb = "Signed off" if created else "Signed off again"
    activity_record(
        target=cycle,
        actor=actor,
        verb="updated",
        message=f"{verb} the {selectors.PART_NOUN[part]} (snapshot {snapshot.number}).",
    )
    state = selectors.sign_off_state(cycle, snapshot, adjustments)
    if all(row["fresh"] for row in state):
        cycle.agreed_at = timezone.now()
        transition(
            cycle,
            actor,
            PlanningCycle.Status.AGREED,
            "Every department signed: the plan is agreed.",
            ["agreed_at"],
        )
    else:
        save_new_version(cycle, [])
    return sign_off
