"""The planning review's writes: open a cycle (taking its snapshot), start the review,
refresh the snapshot, adjust a signed part, sign off, close; record decisions and action
items; run what-if scenarios.

Sign-off rules. Each department signs its own part (Marketing the demand, Production the
supply, Sales the firm orders). A sign-off stores the fingerprint of the part as signed;
a refresh or an adjustment that changes the part makes the sign-off stale, and the part
must be signed again. The cycle is agreed the moment every part carries a current
sign-off; from then on its numbers are closed to change.
"""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import Decimal, InvalidOperation

import numpy as np
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from coordination.models import (
    CycleAdjustment,
    CycleDecision,
    CycleSignOff,
    Department,
    PlanningCycle,
    PlanningScenario,
    PlanningSnapshot,
    Product,
    SignedPart,
)
from coordination.selectors import planning as selectors
from coordination.selectors.planning_snapshot import build_snapshot
from coordination.services.activity import activity_record
from coordination.services.locking import lock_for_edit, save_new_version
from coordination.weeks import current_week, iso_label, weeks_between
from demand.models import Promotion
from production.models import Line
from production.selectors.review import replan_with_capacity

MANAGE = "coordination.manage_planning_cycle"
RECORD = "coordination.record_cycle_decision"
SCENARIO = "coordination.run_planning_scenario"
MAX_TEXT = 2000
MAX_ADJUSTMENT = 10_000_000
MAX_EXTRA_HOURS = Decimal("168")
MAX_PERIOD_DAYS = 92


def _require(actor, permission: str, message: str) -> None:
    if not actor.has_perm(permission):
        raise PermissionDenied(message)


def _lock_cycle(cycle_id: int, expected_version: int | None = None) -> PlanningCycle:
    return lock_for_edit(PlanningCycle.objects.all(), cycle_id, expected_version)


def _take_snapshot(cycle: PlanningCycle, actor) -> PlanningSnapshot:
    number = (cycle.snapshots.aggregate(n=Max("number"))["n"] or 0) + 1
    first_week = current_week()
    return PlanningSnapshot.objects.create(
        cycle=cycle,
        number=number,
        taken_by=actor,
        first_week=first_week,
        data=build_snapshot(first_week=first_week, previous=cycle.previous),
    )


def _month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


@transaction.atomic
def planning_cycle_open(
    *, actor, period_start: dt.date | None, period_end: dt.date | None = None, name: str = ""
) -> PlanningCycle:
    """Open the cycle of a period (a month unless the admin sets the end) and take the
    snapshot it will discuss."""
    _require(actor, MANAGE, "Only an admin opens planning cycles.")
    if period_start is None:
        raise ValidationError({"period_start": "Choose the first day of the period."})
    period_end = period_end or _month_end(period_start)
    if period_end < period_start:
        raise ValidationError({"period_end": "The period must end on or after its first day."})
    if (period_end - period_start).days + 1 > MAX_PERIOD_DAYS:
        raise ValidationError({"period_end": f"A cycle covers at most {MAX_PERIOD_DAYS} days."})
    overlapping = PlanningCycle.objects.filter(
        period_start__lte=period_end, period_end__gte=period_start
    ).first()
    if overlapping is not None:
        raise ValidationError(
            {"period_start": f"“{overlapping}” already covers part of this period."}
        )
    name = " ".join((name or "").split()) or period_start.strftime("%B %Y")
    if len(name) > 80:
        raise ValidationError({"name": "A name is at most 80 characters."})
    previous = (
        PlanningCycle.objects.filter(period_start__lt=period_start)
        .order_by("-period_start")
        .first()
    )
    cycle = PlanningCycle.objects.create(
        name=name,
        period_start=period_start,
        period_end=period_end,
        previous=previous,
        opened_by=actor,
    )
    _take_snapshot(cycle, actor)
    activity_record(
        target=cycle, actor=actor, verb="created", message=f"Opened {cycle} and took snapshot 1."
    )
    return cycle


def _transition(cycle: PlanningCycle, actor, to: str, message: str, fields: list[str]) -> None:
    before = cycle.status
    cycle.status = to
    save_new_version(cycle, ["status", *fields])
    activity_record(
        target=cycle,
        actor=actor,
        verb="transitioned",
        message=message,
        data={"from": before, "to": to},
    )


@transaction.atomic
def planning_cycle_start_review(*, actor, cycle_id: int, expected_version) -> PlanningCycle:
    _require(actor, MANAGE, "Only an admin starts the review of a cycle.")
    cycle = _lock_cycle(cycle_id, expected_version)
    if cycle.status != PlanningCycle.Status.PREPARING:
        raise ValidationError(f"{cycle} is {cycle.get_status_display().lower()}, not preparing.")
    cycle.review_started_at = timezone.now()
    _transition(
        cycle,
        actor,
        PlanningCycle.Status.IN_REVIEW,
        "Started the review: departments may sign off.",
        ["review_started_at"],
    )
    return cycle


@transaction.atomic
def planning_cycle_refresh(*, actor, cycle_id: int, expected_version) -> PlanningSnapshot:
    """Take a new snapshot. Sign-offs of parts whose numbers changed become stale."""
    _require(actor, MANAGE, "Only an admin refreshes a cycle's numbers.")
    cycle = _lock_cycle(cycle_id, expected_version)
    if not cycle.is_open:
        raise ValidationError(
            f"{cycle} is {cycle.get_status_display().lower()}: its numbers are final."
        )
    snapshot = _take_snapshot(cycle, actor)
    stale = [row["department_label"] for row in selectors.sign_off_state(cycle) if row["stale"]]
    message = f"Took snapshot {snapshot.number}."
    if stale:
        message += f" Numbers changed: {', '.join(stale)} must sign again."
    save_new_version(cycle, [])
    activity_record(target=cycle, actor=actor, verb="updated", message=message)
    return snapshot


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
    _require(
        actor,
        selectors.PART_PERMISSION[part],
        f"Only {selectors.PART_DEPARTMENT[part].label} adjusts the {selectors.PART_NOUN[part]}.",
    )
    cycle = _lock_cycle(cycle_id)
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
    _require(
        actor,
        selectors.PART_PERMISSION[part],
        f"Only {department.label} signs off the {selectors.PART_NOUN[part]}.",
    )
    cycle = _lock_cycle(cycle_id)
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
        _transition(
            cycle,
            actor,
            PlanningCycle.Status.AGREED,
            "Every department signed: the plan is agreed.",
            ["agreed_at"],
        )
    else:
        save_new_version(cycle, [])
    return sign_off


@transaction.atomic
def planning_cycle_close(*, actor, cycle_id: int, expected_version) -> PlanningCycle:
    _require(actor, MANAGE, "Only an admin closes planning cycles.")
    cycle = _lock_cycle(cycle_id, expected_version)
    if cycle.status != PlanningCycle.Status.AGREED:
        raise ValidationError(
            f"{cycle} is {cycle.get_status_display().lower()}: only an agreed cycle can be closed."
        )
    cycle.closed_at = timezone.now()
    cycle.closed_by = actor
    _transition(
        cycle, actor, PlanningCycle.Status.CLOSED, "Closed the cycle.", ["closed_at", "closed_by"]
    )
    return cycle


# ---------------------------------------------------------- decisions, action items


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
    _require(actor, RECORD, "Your role may not record decisions of the planning review.")
    cycle = _lock_cycle(cycle_id)
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
    _require(actor, RECORD, "Your role may not edit decisions of the planning review.")
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


# --------------------------------------------------------------------- scenarios


@transaction.atomic
def planning_scenario_run(
    *,
    actor,
    cycle_id: int,
    line_id,
    first_week: dt.date | None,
    last_week: dt.date | None,
    extra_hours,
    name: str = "",
) -> PlanningScenario:
    """Re-plan a line with changed capacity beside the live plan, and keep the result.
    Writes only the scenario: live recommendations and the schedule stay as they are."""
    _require(actor, SCENARIO, "Only production managers try capacity scenarios.")
    cycle = PlanningCycle.objects.get(pk=cycle_id)
    if cycle.status == PlanningCycle.Status.CLOSED:
        raise ValidationError(f"{cycle} is closed: try scenarios on the current cycle.")
    errors = {}
    line = Line.objects.filter(pk=line_id).first() if line_id not in (None, "") else None
    if line is None:
        errors["line"] = "Choose the production line."
    this_week = current_week()
    horizon = selectors.HORIZON_WEEKS
    for key, week in (("first_week", first_week), ("last_week", last_week)):
        if week is None:
            errors[key] = "Choose a week."
        elif week < this_week:
            errors[key] = f"{iso_label(week)} is over: choose this week or a later one."
        elif weeks_between(this_week, week) >= horizon:
            errors[key] = f"The plan covers {horizon} weeks: choose a week before that."
    if not errors and last_week < first_week:
        errors["last_week"] = "The last week cannot be before the first."
    try:
        hours = Decimal(str(extra_hours)).quantize(Decimal("0.1"))
    except (InvalidOperation, TypeError, ValueError):
        errors["extra_hours"] = "Enter hours as a number, e.g. 16 or -8."
    else:
        if hours == 0:
            errors["extra_hours"] = "A scenario changes capacity: enter hours other than 0."
        elif abs(hours) > MAX_EXTRA_HOURS:
            errors["extra_hours"] = f"At most ±{MAX_EXTRA_HOURS} hours a week."
    name = " ".join((name or "").split())
    if len(name) > 120:
        errors["name"] = "A name is at most 120 characters."
    if errors:
        raise ValidationError(errors)
    delta = np.zeros(horizon)
    start, end = weeks_between(this_week, first_week), weeks_between(this_week, last_week)
    delta[start : end + 1] = float(hours)
    result = replan_with_capacity(line, delta)
    name = name or (
        f"{line}: {hours:+} h/week, {iso_label(first_week)}"
        + (f" – {iso_label(last_week)}" if last_week != first_week else "")
    )
    scenario = PlanningScenario.objects.create(
        cycle=cycle,
        line=line,
        name=name,
        first_week=first_week,
        last_week=last_week,
        extra_hours_per_week=hours,
        result=result,
        created_by=actor,
    )
    activity_record(
        target=cycle, actor=actor, verb="updated", message=f"Tried scenario “{scenario.name}”."
    )
    return scenario
