"""The accepted production schedule: accept, bulk accept, override.

Every change is a ScheduleRevision; its id is the schedule version REST clients see.
An entry for the same product and week supersedes the previous one (kept, so clients
syncing incrementally learn about the change)."""

from __future__ import annotations

import datetime as dt
import math

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import Truncator

from coordination.errors import StaleEditError
from coordination.services.activity import activity_record
from coordination.weeks import current_week, iso_label
from production.models import Line, QuotaRecommendation, ScheduleEntry, ScheduleRevision
from production.services import webhooks

PLAN_PERMISSION = "production.plan_line"
SCHEDULE_LOCK_KEY = 0x7A4D_5C4E  # any constant shared by every schedule write
MAX_UNITS = 100_000_000


def _require(actor) -> None:
    if not actor.has_perm(PLAN_PERMISSION):
        raise PermissionDenied("Only Production may accept or override quotas.")


def _new_revision(actor, summary: str) -> ScheduleRevision:
    """Revisions must commit in the order of their numbers, or a client syncing with
    `changed_since` could skip one that committed late: serialize schedule writes."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SCHEDULE_LOCK_KEY])
    # SQLite runs one writing transaction at a time already.
    return ScheduleRevision.objects.create(created_by=actor, summary=Truncator(summary).chars(300))


def whole_units(value: float) -> int:
    """Recommendations may be fractional; the schedule is in whole units, rounded up so
    accepting a plan never makes less than it needs."""
    return max(0, math.ceil(round(value, 6)))


def _write(
    *,
    actor,
    revision: ScheduleRevision,
    recommendation: QuotaRecommendation,
    units: int,
    kind,
    reason="",
) -> ScheduleEntry:
    current = (
        ScheduleEntry.objects.select_for_update()
        .filter(
            product_id=recommendation.product_id,
            week=recommendation.week,
            superseded_at__isnull=True,
        )
        .first()
    )
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
    )
    if current is not None:
        ScheduleEntry.objects.filter(pk=current.pk).update(superseded_by=entry)
    return entry


def _recommendation(product_id: int, week: dt.date, seen_run_id: int | None):
    rec = (
        QuotaRecommendation.objects.select_for_update()
        .select_related("product", "line")
        .filter(product_id=product_id, week=week)
        .first()
    )
    if rec is None:
        raise ValidationError(f"There is no recommendation for that product in {iso_label(week)}.")
    if seen_run_id is not None and rec.run_id != int(seen_run_id):
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
    *, actor, product_id: int, week: dt.date, seen_run_id: int | None = None
) -> ScheduleEntry:
    _require(actor)
    rec = _recommendation(product_id, week, seen_run_id)
    units = whole_units(rec.recommended_units)
    revision = _new_revision(actor, f"Accepted {rec.product.sku} {iso_label(week)}: {units} units")
    entry = _write(
        actor=actor,
        revision=revision,
        recommendation=rec,
        units=units,
        kind=ScheduleEntry.Kind.ACCEPTED,
    )
    activity_record(target=rec.product, actor=actor, verb="updated", message=revision.summary)
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
    seen_run_id: int | None = None,
) -> ScheduleEntry:
    _require(actor)
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
    rec = _recommendation(product_id, week, seen_run_id)
    if rec.hold_reason and units > 0:
        raise ValidationError(
            {"units": f"{rec.product.sku} is on hold ({rec.hold_reason}): its quota stays 0."}
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
        units=units,
        kind=ScheduleEntry.Kind.OVERRIDDEN,
        reason=reason,
    )
    activity_record(target=rec.product, actor=actor, verb="updated", message=revision.summary)
    webhooks.schedule_changed(revision)
    return entry


@transaction.atomic
def quotas_accept_range(
    *, actor, line_id: int, week_from: dt.date, week_to: dt.date
) -> ScheduleRevision | None:
    """Accept every recommendation of a line in a range of weeks, as one revision.
    Cells whose accepted quota already equals the recommendation are left alone."""
    _require(actor)
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
    week_from = max(week_from, current_week())
    recommendations = list(
        QuotaRecommendation.objects.select_for_update()
        .filter(line=line, week__gte=week_from, week__lte=week_to)
        .order_by("product_id", "week")
    )
    current = {
        (e.product_id, e.week): e.units
        for e in ScheduleEntry.objects.filter(
            line=line, week__gte=week_from, week__lte=week_to, superseded_at__isnull=True
        )
    }
    todo = [
        rec
        for rec in recommendations
        if current.get((rec.product_id, rec.week)) != whole_units(rec.recommended_units)
    ]
    if not todo:
        return None
    revision = _new_revision(
        actor,
        f"Accepted {len(todo)} quotas on {line} for {iso_label(week_from)}–{iso_label(week_to)}",
    )
    for rec in todo:
        _write(
            actor=actor,
            revision=revision,
            recommendation=rec,
            units=whole_units(rec.recommended_units),
            kind=ScheduleEntry.Kind.ACCEPTED,
        )
    activity_record(target=line, actor=actor, verb="updated", message=revision.summary)
    webhooks.schedule_changed(revision)
    return revision


@transaction.atomic
def schedule_zero_held(*, actor, product_ids, reason: str) -> ScheduleRevision | None:
    """A hold stops production now: accepted quotas of held products from this week on
    become 0 (an override with the hold's reason), so clients pulling the schedule
    stop making them at once instead of after the next acceptance."""
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
