"""A cycle's life: open it (taking the snapshot), start the review, refresh the
snapshot, close it."""

from __future__ import annotations

import calendar
import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from coordination.input_limits import check_date
from coordination.permissions import require_permission
from coordination.services.activity import activity_record
from coordination.services.locking import save_new_version
from coordination.weeks import current_week
from planning.models import MEETING_MINUTES, PlanningCycle, PlanningSnapshot
from planning.selectors import cycles as selectors
from planning.selectors.snapshot import build_snapshot
from planning.services._common import (
    MANAGE,
    MAX_PERIOD_DAYS,
    lock_cycle,
    transition,
)


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
    require_permission(actor, MANAGE, "Only an admin opens planning cycles.")
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


@transaction.atomic
def planning_cycle_start_review(*, actor, cycle_id: int, expected_version) -> PlanningCycle:
    require_permission(actor, MANAGE, "Only an admin starts the review of a cycle.")
    cycle = lock_cycle(cycle_id, expected_version)
    if cycle.status != PlanningCycle.Status.PREPARING:
        raise ValidationError(f"{cycle} is {cycle.get_status_display().lower()}, not preparing.")
    cycle.review_started_at = timezone.now()
    transition(
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
    require_permission(actor, MANAGE, "Only an admin refreshes a cycle's numbers.")
    cycle = lock_cycle(cycle_id, expected_version)
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


@transaction.atomic
def planning_cycle_close(*, actor, cycle_id: int, expected_version) -> PlanningCycle:
    require_permission(actor, MANAGE, "Only an admin closes planning cycles.")
    cycle = lock_cycle(cycle_id, expected_version)
    if cycle.status != PlanningCycle.Status.AGREED:
        raise ValidationError(
            f"{cycle} is {cycle.get_status_display().lower()}: only an agreed cycle can be closed."
        )
    cycle.closed_at = timezone.now()
    cycle.closed_by = actor
    transition(
        cycle, actor, PlanningCycle.Status.CLOSED, "Closed the cycle.", ["closed_at", "closed_by"]
    )
    return cycle


@transaction.atomic
def planning_cycle_schedule_meeting(
    *,
    actor,
    cycle_id: int,
    expected_version,
    meeting_at: dt.datetime | None,
    meeting_minutes: int | None = None,
    meeting_place: str = "",
) -> PlanningCycle:
    """Set, move or remove (meeting_at None) the cycle's review meeting; it reaches every
    participant's calendar feed."""
    require_permission(actor, MANAGE, "Only an admin schedules the review meeting.")
    cycle = lock_cycle(cycle_id, expected_version)
    if cycle.status == PlanningCycle.Status.CLOSED:
        raise ValidationError(f"{cycle} is closed: its meeting is over.")
    errors = {}
    minutes = 60 if meeting_minutes is None else meeting_minutes
    if minutes not in MEETING_MINUTES:
        errors["meeting_minutes"] = (
            f"A meeting lasts {MEETING_MINUTES[0]} to {MEETING_MINUTES[-1]} minutes."
        )
    place = " ".join((meeting_place or "").split())
    if len(place) > 200:
        errors["meeting_place"] = f"At most 200 characters ({len(place)})."
    if meeting_at is not None:
        if timezone.is_naive(meeting_at):
            meeting_at = timezone.make_aware(meeting_at)
        try:
            check_date(timezone.localtime(meeting_at).date())
        except ValidationError as exc:
            errors["meeting_at"] = exc.messages[0]
    if errors:
        raise ValidationError(errors)
    cycle.meeting_at = meeting_at
    cycle.meeting_minutes = minutes
    cycle.meeting_place = place if meeting_at is not None else ""
    cycle.meeting_scheduled_at = timezone.now()
    save_new_version(
        cycle, ["meeting_at", "meeting_minutes", "meeting_place", "meeting_scheduled_at"]
    )
    if meeting_at is None:
        message = "Removed the review meeting."
    else:
        when = timezone.localtime(meeting_at).strftime("%d %b %Y %H:%M")
        message = f"Set the review meeting: {when}, {minutes} minutes" + (
            f", {place}." if place else "."
        )
    activity_record(target=cycle, actor=actor, verb="updated", message=message)
    return cycle
