"""The accepted production schedule: accept, bulk accept, override.

Every change is a ScheduleRevision; its id is the schedule version REST clients see.
An entry for the same product and week supersedes the previous one (kept, so clients
syncing incrementally learn about the change).

No decision is lost to another made meanwhile (optimistic locking, checked under the
schedule lock): accepting or overriding one cell names the accepted entry it replaces
(`seen_entry_id`, None when the person saw none), and a range accept names the schedule
version it was decided on (`seen_schedule_version`): a cell it would change that was
accepted or overridden after that version refuses the whole range. A stale decision
raises StaleEditError saying who changed what, to what and when.

No week goes over capacity without a decision: each of them checks the line's accepted
load first (production.services.over_capacity) and refuses a change that leaves a week
over capacity unless the person confirmed it (`allow_over_capacity`) with a reason,
which the entries of those weeks and the line's timeline then record."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import Truncator

from coordination.errors import StaleEditError
from coordination.models import Line
from coordination.permissions import require_permission
from coordination.services.activity import activity_record
from coordination.services.locking import version_number
from coordination.weeks import current_week, iso_label
from production.engine.explain import whole_units
from production.models import QuotaRecommendation, ScheduleEntry, ScheduleRevision
from production.selectors.schedule import schedule_version
from production.services import webhooks
from production.services.over_capacity import (
    Change,
    capacity_check,
    over_capacity_fields,
    over_capacity_record,
)

PLAN_PERMISSION = "production.plan_line"
PLAN_REFUSED = "Only Production may accept or override quotas."
SCHEDULE_LOCK_KEY = 0x7A4D_5C4E  # any constant shared by every schedule write
MAX_UNITS = 100_000_000
# The names of the versions a decision carries, as the API and the errors call them.
SEEN_ENTRY = "seen_entry_id"
SEEN_SCHEDULE_VERSION = "seen_schedule_version"


def _lock_schedule() -> None:
    """Serialize schedule writes, taken first by every writer: revisions must commit in
    the order of their numbers (or a client syncing with `changed_since` could skip one
    that committed late), and what a writer reads after it (the current entries it
    checks the person's decision against) is what it replaces."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SCHEDULE_LOCK_KEY])
    # SQLite runs one writing transaction at a time already.


def _new_revision(actor, summary: str) -> ScheduleRevision:
    return ScheduleRevision.objects.create(created_by=actor, summary=Truncator(summary).chars(300))


def _changed(entry: ScheduleEntry) -> str:
    """Who decided a cell, what and when, e.g. "Petra overrode BEV-1001 in 2026-W49 to
    222 units at 10:41"."""
    verb = "overrode" if entry.kind == ScheduleEntry.Kind.OVERRIDDEN else "accepted"
    when = timezone.localtime(entry.accepted_at)
    at = f"at {when:%H:%M}"
    if when.date() != timezone.localdate():
        at = f"on {when.day} {when:%b} {at}"
    return (
        f"{entry.accepted_by} {verb} {entry.product.sku} in {iso_label(entry.week)} "
        f"to {entry.units:,} units {at}"
    )


def _current_entry(product_id: int, week: dt.date) -> ScheduleEntry | None:
    return (
        ScheduleEntry.objects.select_for_update(of=("self",))
        .select_related("product", "accepted_by")
        .filter(product_id=product_id, week=week, superseded_at__isnull=True)
        .first()
    )


def _check_seen_entry(
    rec: QuotaRecommendation, current: ScheduleEntry | None, seen_entry_id: int | None
) -> None:
    """The person decided over `seen_entry_id` (None: nothing accepted yet); refuse if
    someone accepted or overrode the cell since."""
    seen = None if seen_entry_id is None else version_number(seen_entry_id, field=SEEN_ENTRY)
    if (current.pk if current else None) == seen:
        return
    if current is None:
        raise ValidationError(
            {
                SEEN_ENTRY: f"Nothing is accepted for {rec.product.sku} in "
                f"{iso_label(rec.week)} yet, so there is no entry {seen} to replace."
            }
        )
    raise StaleEditError(
        current,
        f"{_changed(current)} since you loaded it. Review that quota, then decide again.",
    )


def _write(
    *,
    actor,
    revision: ScheduleRevision,
    recommendation: QuotaRecommendation,
    current: ScheduleEntry | None,
    units: int,
    kind,
    reason="",
    over_capacity=None,
) -> ScheduleEntry:
    """Supersede `current` (the cell's entry, locked) with a new entry."""
    if current is not None:
        current.superseded_at = timezone.now()
        current.superseded_in = revision
        current.save(update_fields=["superseded_at", "superseded_in"])
    entry = ScheduleEntry.objects.create(
        revision=revision,
        product_id=recommendation.product_id,
        line_id=recommendation.line_id,
        week=recommendation.week,
        units=units,
        kind=kind,
        recommended_units=recommendation.recommended_units,
        reason=reason,
        accepted_by=actor,
        **(over_capacity or {}),
    )
    if current is not None:
        ScheduleEntry.objects.filter(pk=current.pk).update(superseded_by=entry)
    return entry


def _change(rec: QuotaRecommendation, current: ScheduleEntry | None, units: int) -> Change:
    return Change(
        product_id=rec.product_id,
        sku=rec.product.sku,
        line_id=rec.line_id,
        week=rec.week,
        units=units,
        old_line_id=current.line_id if current else None,
        old_units=current.units if current else 0,
    )


def _recommendation(product_id: int, week: dt.date, seen_run_id: int):
    seen_run_id = version_number(seen_run_id, field="seen_run_id")
    rec = (
        QuotaRecommendation.objects.select_for_update(of=("self",))
        .select_related("product", "line")
        .filter(product_id=product_id, week=week)
        .first()
    )
    if rec is None:
        raise ValidationError(f"There is no recommendation for that product in {iso_label(week)}.")
    if rec.run_id != seen_run_id:
        raise StaleEditError(
            rec,
            "A recompute changed this recommendation since you loaded the page. "
            "Review the new number, then accept again.",
        )
    if week < current_week():
        raise ValidationError(f"{iso_label(week)} is over: its quota can no longer change.")
    return rec


@transaction.atomic
def quota_accept(
    *,
    actor,
    product_id: int,
    week: dt.date,
    seen_run_id: int,
    seen_entry_id: int | None,
    allow_over_capacity: bool = False,
    over_capacity_reason: str = "",
) -> ScheduleEntry:
    """Accept the recommendation the person saw (run `seen_run_id`) over the accepted
    entry they saw (`seen_entry_id`, None: none yet)."""
    require_permission(actor, PLAN_PERMISSION, PLAN_REFUSED)
    _lock_schedule()
    rec = _recommendation(product_id, week, seen_run_id)
    current = _current_entry(rec.product_id, rec.week)
    _check_seen_entry(rec, current, seen_entry_id)
    units = whole_units(rec.recommended_units)
    over = capacity_check(
        line=rec.line,
        changes=[_change(rec, current, units)],
        allow_over_capacity=allow_over_capacity,
        reason=over_capacity_reason,
    )
    revision = _new_revision(actor, f"Accepted {rec.product.sku} {iso_label(week)}: {units} units")
    entry = _write(
        actor=actor,
        revision=revision,
        recommendation=rec,
        current=current,
        units=units,
        kind=ScheduleEntry.Kind.ACCEPTED,
        over_capacity=over_capacity_fields(over, rec.week, over_capacity_reason),
    )
    activity_record(target=rec.product, actor=actor, verb="updated", message=revision.summary)
    over_capacity_record(
        actor=actor, line=rec.line, over=over, reason=over_capacity_reason, what=revision.summary
    )
    webhooks.schedule_changed(revision)
    return entry


@transaction.atomic
def quota_override(
    *,
    actor,
    product_id: int,
    week: dt.date,
    units,
    reason: str,
    seen_run_id: int,
    seen_entry_id: int | None,
    allow_over_capacity: bool = False,
    over_capacity_reason: str = "",
) -> ScheduleEntry:
    """Set the cell to `units` with a reason, over what the person saw (as quota_accept)."""
    require_permission(actor, PLAN_PERMISSION, PLAN_REFUSED)
    errors = {}
    try:
        units = int(units)
    except (TypeError, ValueError):
        errors["units"] = "Enter a whole number of units."
    else:
        if units < 0:
            errors["units"] = "A quota cannot be negative."
        elif units > MAX_UNITS:
            errors["units"] = f"A quota is at most {MAX_UNITS:,} units."
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = "Say why you override Tandem's recommendation."
    if errors:
        raise ValidationError(errors)
    _lock_schedule()
    rec = _recommendation(product_id, week, seen_run_id)
    if rec.hold_reason and units > 0:
        raise ValidationError(
            {"units": f"{rec.product.sku} is on hold ({rec.hold_reason}): its quota stays 0."}
        )
    current = _current_entry(rec.product_id, rec.week)
    _check_seen_entry(rec, current, seen_entry_id)
    over = capacity_check(
        line=rec.line,
        changes=[_change(rec, current, units)],
        allow_over_capacity=allow_over_capacity,
        reason=over_capacity_reason,
    )
    revision = _new_revision(
        actor,
        f"Overrode {rec.product.sku} {iso_label(week)}: {units} units "
        f"(recommended {whole_units(rec.recommended_units)}) — {reason}",
    )
    entry = _write(
        actor=actor,
        revision=revision,
        recommendation=rec,
        current=current,
        units=units,
        kind=ScheduleEntry.Kind.OVERRIDDEN,
        reason=reason,
        over_capacity=over_capacity_fields(over, rec.week, over_capacity_reason),
    )
    activity_record(target=rec.product, actor=actor, verb="updated", message=revision.summary)
    over_capacity_record(
        actor=actor, line=rec.line, over=over, reason=over_capacity_reason, what=revision.summary
    )
    webhooks.schedule_changed(revision)
    return entry


@transaction.atomic
def quotas_accept_range(
    *,
    actor,
    line_id: int,
    week_from: dt.date,
    week_to: dt.date,
    seen_schedule_version: int,
    allow_over_capacity: bool = False,
    over_capacity_reason: str = "",
) -> ScheduleRevision | None:
    """Accept every recommendation of a line in a range of weeks, as one revision.
    Cells whose accepted quota already equals the recommendation are left alone, and so
    are cells a person overrode (kept_overrides lists them): a range accept is not a
    decision about them. Accepting such a cell on its own replaces its override.

    `seen_schedule_version` is the schedule version the person decided on: if a cell
    this would change was accepted or overridden after it, nothing is accepted."""
    require_permission(actor, PLAN_PERMISSION, PLAN_REFUSED)
    line = Line.objects.get(pk=line_id)
    if week_to < week_from:
        raise ValidationError({"week_to": "The last week must not be before the first."})
    if week_to < current_week():
        # Not "nothing to accept": the weeks are over, whatever the schedule says.
        if week_to == week_from:
            raise ValidationError(f"{iso_label(week_to)} is over: its quota can no longer change.")
        raise ValidationError(
            f"{iso_label(week_from)}–{iso_label(week_to)} are over: their quotas can no longer "
            "change."
        )
    seen = version_number(seen_schedule_version, field=SEEN_SCHEDULE_VERSION, minimum=0)
    week_from = max(week_from, current_week())
    _lock_schedule()
    latest = schedule_version()
    if seen > latest:
        raise ValidationError(
            {SEEN_SCHEDULE_VERSION: f"There is no schedule version {seen}: the latest is {latest}."}
        )
    recommendations = list(
        QuotaRecommendation.objects.select_for_update(of=("self",))
        .select_related("product")
        .filter(line=line, week__gte=week_from, week__lte=week_to)
        .order_by("product_id", "week")
    )
    current = {
        (e.product_id, e.week): e
        for e in ScheduleEntry.objects.select_for_update(of=("self",))
        .select_related("product", "accepted_by")
        .filter(
            product_id__in={rec.product_id for rec in recommendations},
            week__gte=week_from,
            week__lte=week_to,
            superseded_at__isnull=True,
        )
    }
    todo, kept = [], []
    for rec in recommendations:
        entry = current.get((rec.product_id, rec.week))
        if entry is None or entry.units != whole_units(rec.recommended_units):
            overridden = entry is not None and entry.kind == ScheduleEntry.Kind.OVERRIDDEN
            (kept if overridden else todo).append((rec, entry))
    # A cell decided after the version the person saw makes the grid they decided on
    # stale, even an override this accept would keep.
    changed = sorted(
        (entry for _, entry in todo + kept if entry is not None and entry.revision_id > seen),
        key=lambda entry: -entry.revision_id,
    )
    if changed:
        more = f" (and {len(changed) - 1} more)" if len(changed) > 1 else ""
        raise StaleEditError(
            line,
            f"Since schedule version {seen}, {_changed(changed[0])}{more}. "
            "Review the grid, then accept again.",
        )
    if not todo:
        return None
    over = capacity_check(
        line=line,
        changes=[_change(rec, entry, whole_units(rec.recommended_units)) for rec, entry in todo],
        allow_over_capacity=allow_over_capacity,
        reason=over_capacity_reason,
    )
    revision = _new_revision(
        actor,
        f"Accepted {len(todo)} quotas on {line} for {iso_label(week_from)}–{iso_label(week_to)}",
    )
    for rec, entry in todo:
        _write(
            actor=actor,
            revision=revision,
            recommendation=rec,
            current=entry,
            units=whole_units(rec.recommended_units),
            kind=ScheduleEntry.Kind.ACCEPTED,
            over_capacity=over_capacity_fields(over, rec.week, over_capacity_reason),
        )
    activity_record(target=line, actor=actor, verb="updated", message=revision.summary)
    over_capacity_record(
        actor=actor, line=line, over=over, reason=over_capacity_reason, what=revision.summary
    )
    webhooks.schedule_changed(revision)
    return revision


@transaction.atomic
def schedule_zero_held(*, actor, product_ids, reason: str) -> ScheduleRevision | None:
    """A hold stops production now: accepted quotas of held products from this week on
    become 0 (an override with the hold's reason), so clients pulling the schedule
    stop making them at once instead of after the next acceptance."""
    _lock_schedule()
    current = list(
        ScheduleEntry.objects.select_for_update()
        .filter(
            product_id__in=list(product_ids),
            week__gte=current_week(),
            superseded_at__isnull=True,
            units__gt=0,
        )
        .select_related("product")
        .order_by("product_id", "week")
    )
    if not current:
        return None
    revision = _new_revision(actor, f"Held: {len(current)} accepted quotas set to 0 — {reason}")
    now = timezone.now()
    for entry in current:
        # Supersede first: one current entry per product and week, even mid-transaction.
        ScheduleEntry.objects.filter(pk=entry.pk).update(superseded_at=now, superseded_in=revision)
        replacement = ScheduleEntry.objects.create(
            revision=revision,
            product_id=entry.product_id,
            line_id=entry.line_id,
            week=entry.week,
            units=0,
            kind=ScheduleEntry.Kind.OVERRIDDEN,
            recommended_units=0,
            reason=Truncator(reason).chars(300),
            accepted_by=actor,
        )
        ScheduleEntry.objects.filter(pk=entry.pk).update(superseded_by=replacement)
    webhooks.schedule_changed(revision)
    return revision
