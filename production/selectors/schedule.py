"""Reads of the accepted schedule and of the recommendations it is accepted from.

The schedule version is the id of the latest ScheduleRevision: every accept or override
creates one, so the number only grows and a client that remembers it can ask for what
changed since (`schedule_entries(changed_since=...)`). The REST API, and later the CSV
export and webhooks, read the schedule through this module only."""

from __future__ import annotations

import datetime as dt

from django.db.models import Max, OuterRef, Q, QuerySet, Subquery

from coordination.weeks import current_week, iso_label
from production.engine.explain import NEGLIGIBLE, whole_units
from production.models import QuotaRecommendation, ScheduleEntry, ScheduleRevision
from production.selectors.channel_split import channel_split

UNREAD = object()  # recommendation_explanation: read the channel split itself

# Terms smaller than this (in units) are left out of an explanation: they round to 0.


def schedule_version() -> int:
    """The schedule version: the id of the latest revision (0 before the first)."""
    return ScheduleRevision.objects.aggregate(version=Max("id"))["version"] or 0


def decision_versions(product_id: int, week: dt.date) -> dict:
    """What an accept or override of this cell is made over, as read now: the
    recommendation's run and the current accepted entry (None: none yet). Scripts and
    clients that decide without a page send these (production.services.schedule)."""
    run_id = (
        QuotaRecommendation.objects.filter(product_id=product_id, week=week)
        .values_list("run_id", flat=True)
        .first()
    )
    entry_id = (
        ScheduleEntry.objects.filter(product_id=product_id, week=week, superseded_at__isnull=True)
        .values_list("id", flat=True)
        .first()
    )
    return {"seen_run_id": run_id, "seen_entry_id": entry_id}


def _week_and_scope(
    queryset: QuerySet,
    *,
    line_id: int | None,
    product_id: int | None,
    week_from: dt.date | None,
    week_to: dt.date | None,
) -> QuerySet:
    if line_id is not None:
        queryset = queryset.filter(line_id=line_id)
    if product_id is not None:
        queryset = queryset.filter(product_id=product_id)
    if week_from is not None:
        queryset = queryset.filter(week__gte=week_from)
    if week_to is not None:
        queryset = queryset.filter(week__lte=week_to)
    return queryset


def schedule_entries(
    *,
    line_id: int | None = None,
    product_id: int | None = None,
    week_from: dt.date | None = None,
    week_to: dt.date | None = None,
    changed_since: int | None = None,
) -> QuerySet[ScheduleEntry]:
    """Without `changed_since`: the current schedule (one entry per product and week).

    With `changed_since=N`: every entry created after revision N, and every entry
    superseded after it (by an entry of a later revision), superseded ones included, so
    a client mirror that upserts current entries and drops superseded ones by id ends up
    equal to the current schedule. Ordered by id: entries are append-only, so new ones
    always sort after everything a client has already read."""
    queryset = ScheduleEntry.objects.select_related("product", "line", "accepted_by")
    if changed_since is None:
        queryset = queryset.filter(superseded_at__isnull=True)
    else:
        queryset = queryset.filter(
            Q(revision_id__gt=changed_since) | Q(superseded_in_id__gt=changed_since)
        )
    queryset = _week_and_scope(
        queryset, line_id=line_id, product_id=product_id, week_from=week_from, week_to=week_to
    )
    return queryset.order_by("id")


# The columns of a schedule row as the API reads them (production/api/schedule_rows.py
# unpacks them in this order).
SCHEDULE_ROW_COLUMNS = (
    "id",
    "product__sku",
    "line__name",
    "week",
    "units",
    "kind",
    "reason",
    "recommended_units",
    "revision_id",
    "accepted_by__username",
    "accepted_at",
    "superseded_by_id",
    "superseded_at",
)


def schedule_rows(**filters) -> QuerySet:
    """schedule_entries(**filters) as tuples of SCHEDULE_ROW_COLUMNS, ordered by id: one
    query with the joins, no model instance per row (large pulls)."""
    return schedule_entries(**filters).values_list(*SCHEDULE_ROW_COLUMNS)


def quota_recommendations(
    *,
    line_id: int | None = None,
    product_id: int | None = None,
    week_from: dt.date | None = None,
    week_to: dt.date | None = None,
) -> QuerySet[QuotaRecommendation]:
    """Recommendations with the currently accepted entry of the same cell and its units
    (`accepted_entry`, `accepted_units`, None where nothing is accepted), by line,
    product and week."""
    accepted = ScheduleEntry.objects.filter(
        product_id=OuterRef("product_id"), week=OuterRef("week"), superseded_at__isnull=True
    )
    queryset = QuotaRecommendation.objects.select_related("product", "line").annotate(
        accepted_units=Subquery(accepted.values("units")[:1]),
        accepted_entry=Subquery(accepted.values("id")[:1]),
    )
    queryset = _week_and_scope(
        queryset, line_id=line_id, product_id=product_id, week_from=week_from, week_to=week_to
    )
    return queryset.order_by("line__name", "product__sku", "week")


def _units(value: float) -> str:
    return f"{round(value):,}"


def recommendation_explanation(rec: QuotaRecommendation, split=UNREAD) -> str:
    """One sentence that adds the terms up, e.g. "demand 420 = baseline 300 + promotion
    120; 80 built ahead for later weeks; short 40; recommended 460". A product forecast
    per channel names its channels: "demand 120 = baseline 100 (retail 60 + online 40) +
    promotion (Retail) 20", and "- dip after promotion (Retail) 12" after it. `split`:
    its ChannelSplit when read for many at once (None: not forecast per channel); read
    here when not given."""
    if rec.hold_reason:
        return f"on hold: {rec.hold_reason}; recommended {whole_units(rec.recommended_units)}"
    if split is UNREAD:
        split = channel_split(rec)
    demand = f"demand {_units(rec.demand)} = baseline {_units(rec.baseline)}"
    promotion, dip = "promotion", "dip after promotion"
    if split is not None:
        demand += f" ({split.baseline_text(round(rec.baseline))})"
        if split.promoted:
            promotion += f" ({split.uplift_text()})"
        if split.dipped:
            dip += f" ({split.dip_text()})"
    for label, value in (
        (promotion, rec.promotion_uplift),
        (dip, rec.promotion_dip),
        (f"taken by promotion of {rec.cannibalized_by}", rec.cannibalization),
        (f"lifted by promotion of {rec.halo_from}", rec.halo),
        ("firm orders", rec.firm_orders),
        ("adjustment", rec.adjustment),
    ):
        if abs(value) >= NEGLIGIBLE:
            demand += f" {'-' if value < 0 else '+'} {label} {_units(abs(value))}"
    parts = [demand]
    if rec.covers_week != rec.week:
        parts[0] = f"for {iso_label(rec.covers_week)}: {demand}"
    if rec.safety_stock >= NEGLIGIBLE:
        parts.append(f"safety stock {_units(rec.safety_stock)}")
    if rec.stock_before_arrival >= NEGLIGIBLE:
        parts.append(f"{_units(rec.stock_before_arrival)} in stock")
    elif rec.stock_before_arrival <= -NEGLIGIBLE:
        parts.append(f"backlog {_units(-rec.stock_before_arrival)}")
    if rec.prebuild_units >= NEGLIGIBLE:
        parts.append(f"{_units(rec.prebuild_units)} built ahead for later weeks")
    if rec.capacity_cut_units >= NEGLIGIBLE:
        parts.append(f"{_units(rec.capacity_cut_units)} could not be made this week")
    if rec.shortage_units >= NEGLIGIBLE:
        parts.append(f"short {_units(rec.shortage_units)}")
    if rec.shelf_life_capped and rec.stock_cap is not None:
        parts.append(
            f"stock held at its shelf-life limit of {_units(rec.stock_cap)}: "
            "more built ahead would expire before it sells"
        )
    if rec.unplannable:
        parts.append(f"cannot be planned: {rec.unplannable}")
    if rec.frozen:
        parts.append("frozen: accepted quota kept")
    parts.append(f"recommended {whole_units(rec.recommended_units)}")
    return "; ".join(parts)


def kept_overrides(*, line_id: int, week_from, week_to) -> list[ScheduleEntry]:
    """The overrides a range accept of these weeks leaves as they are: current entries a
    person overrode whose units differ from the recommendation."""
    entries = (
        ScheduleEntry.objects.filter(
            line_id=line_id,
            week__gte=max(week_from, current_week()),
            week__lte=week_to,
            superseded_at__isnull=True,
            kind=ScheduleEntry.Kind.OVERRIDDEN,
        )
        .select_related("product")
        .order_by("week", "product__sku")
    )
    recommended = {
        (pid, week): units
        for pid, week, units in QuotaRecommendation.objects.filter(
            line_id=line_id, week__gte=week_from, week__lte=week_to
        ).values_list("product_id", "week", "recommended_units")
    }
    return [
        e
        for e in entries
        if (e.product_id, e.week) in recommended
        and whole_units(recommended[(e.product_id, e.week)]) != e.units
    ]


def kept_overrides_sentence(kept: list[ScheduleEntry]) -> str:
    """ "Kept 2 overrides: TEA-LEM-05 in 2026-W50 (900), …" or ""."""
    if not kept:
        return ""
    shown = ", ".join(f"{e.product.sku} in {iso_label(e.week)} ({e.units:,})" for e in kept[:5])
    more = f" and {len(kept) - 5} more" if len(kept) > 5 else ""
    return (
        f"Kept {len(kept)} override{'s' if len(kept) != 1 else ''}: {shown}{more}. "
        "To replace an override with the recommendation, accept that week on its own."
    )
