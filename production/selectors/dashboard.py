"""Reads for the production dashboard: capacity use, alerts, the quota grid, what
changed since the accepted schedule, and a promotion's production answer."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
from django.conf import settings
from django.db import connection
from django.db.models import Max, Q
from django.urls import reverse

from coordination.models import Line, RecomputeRequest
from coordination.weeks import add_weeks, current_week, iso_label
from demand.models import DemandForecast, Promotion, PromotionItem, Succession
from production.engine.explain import NEGLIGIBLE, whole_units
from production.models import (
    ProductionHold,
    QuotaRecommendation,
    RecomputeRun,
    RunRate,
    ScheduleEntry,
)
from production.selectors.capacity import line_capacity
from production.selectors.channel_split import channel_split
from production.selectors.load import line_week_loads, over_capacity_weeks

FULL = 0.98  # share of capacity at which a week counts as full


def weeks_from_now(count: int | None = None) -> list[dt.date]:
    """The Mondays of the planning horizon (or of `count` weeks) from this week on."""
    count = settings.PLANNING_HORIZON_WEEKS if count is None else count
    start = current_week()
    return [add_weeks(start, k) for k in range(count)]


def line_overview(line: Line, weeks: list[dt.date]) -> dict:
    """Hours planned per week (split into this week's need and pre-build) and hours the
    accepted schedule takes (split into within and over capacity), against capacity."""
    col = {week: k for k, week in enumerate(weeks)}
    rates = {
        pid: float(rate)
        for pid, rate in RunRate.objects.filter(product__production_line=line).values_list(
            "product_id", "hours_per_unit"
        )
    }
    need = np.zeros(len(weeks))
    ahead = np.zeros(len(weeks))
    for pid, week, units, prebuild in QuotaRecommendation.objects.filter(
        line=line, week__gte=weeks[0], week__lte=weeks[-1]
    ).values_list("product_id", "week", "recommended_units", "prebuild_units"):
        hours = rates.get(pid, 0.0)
        ahead[col[week]] += min(prebuild, units) * hours
        need[col[week]] += max(0.0, units - prebuild) * hours
    capacity = line_capacity(line, weeks)
    planned = need + ahead
    loads = line_week_loads(lines=[line], weeks=weeks)
    return {
        "accepted_hours": np.array([load.accepted_hours for load in loads]),
        "over_hours": np.array([load.over_hours for load in loads]),
        "line": line,
        "weeks": weeks,
        "need_hours": need,
        "prebuild_hours": ahead,
        "planned_hours": planned,
        "capacity": capacity,
        "utilisation": np.divide(
            planned, capacity, out=np.where(planned > 0, np.inf, 0.0), where=capacity > 0
        ),
    }


# Products per page of the dashboard's grid: 26 weeks x 50 rows stay quick to render and
# to read; a line of 500 products has 10 pages (and a search by SKU or name).
GRID_ROWS_PER_PAGE = 50


def grid_products(line: Line, weeks: list[dt.date], query: str = "") -> list[int]:
    """The ids of the products the line's grid shows, by SKU: those with a
    recommendation in the weeks, whose SKU or name contains `query`."""
    recommended = QuotaRecommendation.objects.filter(
        line=line, week__gte=weeks[0], week__lte=weeks[-1]
    )
    if query:
        recommended = recommended.filter(
            Q(product__sku__icontains=query) | Q(product__name__icontains=query)
        )
    pairs = recommended.order_by("product__sku").values_list("product_id", "product__sku")
    return [pid for pid, _ in pairs.distinct()]


def quota_grid(
    line: Line, weeks: list[dt.date], product_ids: list[int] | None = None
) -> list[dict]:
    """Products x weeks: the recommendation, the accepted quota and the flags of each cell
    (only `product_ids` when given: a page of the grid). The heat of a cell is its share of
    the line's largest recommendation in the weeks, the same on every page."""
    col = {week: k for k, week in enumerate(weeks)}
    in_weeks = {"line": line, "week__gte": weeks[0], "week__lte": weeks[-1]}
    entries = ScheduleEntry.objects.filter(superseded_at__isnull=True, **in_weeks)
    recommendations = QuotaRecommendation.objects.filter(**in_weeks)
    peak = recommendations.aggregate(peak=Max("recommended_units"))["peak"] or 0.0
    if product_ids is not None:
        entries = entries.filter(product_id__in=product_ids)
        recommendations = recommendations.filter(product_id__in=product_ids)
    accepted = {
        (pid, week): units
        for pid, week, units in entries.values_list("product_id", "week", "units")
    }
    rows: dict[int, dict] = {}
    recommendations = recommendations.select_related("product").order_by("product__sku", "week")
    # Each cell links to its explanation: the URL built once, not reversed per cell.
    explain_url = reverse("quota_explain", args=["SKU", "WEEK"])
    labels = {week: iso_label(week) for week in weeks}
    for rec in recommendations:
        row = rows.setdefault(
            rec.product_id,
            {"product": rec.product, "cells": [None] * len(weeks), "hold": rec.hold_reason},
        )
        accepted_units = accepted.get((rec.product_id, rec.week))
        # The units accepting the cell writes (rounded up), as the explanation shows.
        units = whole_units(rec.recommended_units)
        row["cells"][col[rec.week]] = {
            "rec": rec,
            "week": labels[rec.week],
            "url": explain_url.replace("SKU", rec.product.sku).replace("WEEK", labels[rec.week]),
            "units": units,
            "accepted": accepted_units,
            "differs": accepted_units is not None and accepted_units != units,
            "prebuild": rec.prebuild_units >= NEGLIGIBLE,
            "short": rec.shortage_units >= NEGLIGIBLE,
        }
    for row in rows.values():
        for cell in row["cells"]:
            if cell is not None:
                cell["heat"] = min(5, int(cell["rec"].recommended_units / peak * 5)) if peak else 0
    return list(rows.values())


def quota_grid_rows(
    line: Line, weeks: list[dt.date]
) -> list[tuple[QuotaRecommendation, int | None]]:
    """Every recommendation of the line in the weeks (all products, by SKU then week)
    with the units accepted for it (None: not accepted): the grid as a download."""
    in_weeks = {"line": line, "week__gte": weeks[0], "week__lte": weeks[-1]}
    accepted = {
        (pid, week): units
        for pid, week, units in ScheduleEntry.objects.filter(
            superseded_at__isnull=True, **in_weeks
        ).values_list("product_id", "week", "units")
    }
    recommendations = (
        QuotaRecommendation.objects.filter(**in_weeks)
        .select_related("product")
        .order_by("product__sku", "week")
    )
    return [(rec, accepted.get((rec.product_id, rec.week))) for rec in recommendations]


def _prebuild_alerts(weeks: list[dt.date], overview: dict) -> list[dict]:
    """One alert per run of consecutive full weeks that build ahead, not one per week."""
    stretches: list[list[int]] = []
    for k in range(len(weeks)):
        if overview["prebuild_hours"][k] > 0.05 and overview["utilisation"][k] >= FULL:
            if stretches and stretches[-1][-1] == k - 1:
                stretches[-1].append(k)
            else:
                stretches.append([k])
    found = []
    for stretch in stretches:
        first, last = weeks[stretch[0]], weeks[stretch[-1]]
        hours = sum(overview["prebuild_hours"][k] for k in stretch)
        when = (
            iso_label(first)
            if len(stretch) == 1
            else f"{iso_label(first)} – {iso_label(last)} ({len(stretch)} weeks)"
        )
        found.append(
            {
                "level": "warn",
                "kind": "Pre-build",
                "text": f"{when}: line full; {hours:,.0f} hours build ahead for later weeks "
                "that lack capacity.",
                "product": None,
            }
        )
    return found


def _over_capacity_alerts(line: Line) -> list[dict]:
    """One alert per week whose accepted schedule needs more hours than the line has,
    every such week from this one on, until the load is back under capacity."""
    decided = {
        entry.week: entry
        for entry in ScheduleEntry.objects.filter(
            line=line,
            week__gte=current_week(),
            superseded_at__isnull=True,
            over_capacity_hours__gt=0,
        )
        .select_related("accepted_by")
        .order_by("accepted_at")
    }
    found = []
    for load in over_capacity_weeks(line=line):
        entry = decided.get(load.week)
        why = (
            f" Decided by {entry.accepted_by}: “{entry.over_capacity_reason}”."
            if entry is not None
            else ""
        )
        found.append(
            {
                "level": "err",
                "kind": "Over capacity",
                "text": f"{iso_label(load.week)}: accepted quotas need "
                f"{load.accepted_hours:,.1f} h of {load.capacity_hours:,.1f} h, "
                f"{load.over_hours:,.1f} h over.{why}",
                "product": None,
            }
        )
    return found


def alerts(line: Line, weeks: list[dt.date], overview: dict | None = None) -> list[dict]:
    """What needs production's attention on this line, most serious first."""
    found: list[dict] = _over_capacity_alerts(line)
    shortages = defaultdict(list)
    for rec in QuotaRecommendation.objects.filter(
        line=line, week__gte=weeks[0], week__lte=weeks[-1], shortage_units__gte=NEGLIGIBLE
    ).select_related("product"):
        shortages[rec.product].append(rec)
    capped = set(
        QuotaRecommendation.objects.filter(
            line=line, week__gte=weeks[0], week__lte=weeks[-1], shelf_life_capped=True
        ).values_list("product_id", flat=True)
    )
    for product, recs in sorted(shortages.items(), key=lambda item: item[0].sku):
        worst = max(recs, key=lambda r: r.shortage_units)
        short = (
            f"{product.sku}: demand short by up to {worst.shortage_units:,.0f} units "
            f"(worst in {iso_label(worst.covers_week)})"
        )
        if recs[0].unplannable:
            why = f": the plant cannot make it — {recs[0].unplannable}"
        elif product.pk in capped:
            why = (
                ": building further ahead is capped, stock built that far ahead would expire "
                f"before it sells (shelf life {product.shelf_life_weeks} weeks)."
            )
        else:
            why = ", even with every earlier week used."
        found.append({"level": "err", "kind": "Shortage", "text": short + why, "product": product})
    for hold in ProductionHold.objects.filter(
        product__production_line=line, released_at__isnull=True
    ).select_related("product"):
        found.append(
            {
                "level": "err",
                "kind": "Hold",
                "text": f"{hold.product.sku}: production held — {hold.reason}",
                "product": hold.product,
            }
        )
    overview = overview or line_overview(line, weeks)
    found.extend(_prebuild_alerts(weeks, overview))
    items = (
        PromotionItem.objects.filter(
            product__production_line=line,
            promotion__status__in=Promotion.PLANNING_STATUSES,
            promotion__start_week__gte=weeks[0],
            promotion__start_week__lte=weeks[-1],
        )
        .select_related("promotion")
        .order_by("promotion__start_week")
    )
    seen = set()
    for item in items:
        if item.promotion_id in seen:
            continue
        seen.add(item.promotion_id)
        found.append(
            {
                "level": "info",
                "kind": "Promotion",
                "text": f"“{item.promotion.name}” starts {iso_label(item.promotion.start_week)} "
                f"({item.promotion.get_status_display().lower()}).",
                "promotion": item.promotion,
                "product": None,
            }
        )
    failed = RecomputeRun.objects.filter(line=line, state=RecomputeRun.State.FAILED).first()
    latest = RecomputeRun.objects.filter(line=line).first()
    if failed is not None and latest is not None and failed.pk == latest.pk:
        found.insert(
            0,
            {
                "level": "err",
                "kind": "Recompute failed",
                "text": f"The last recompute failed: {failed.error}",
                "product": None,
            },
        )
    return found


def _acceptance(line: Line, weeks: list[dt.date]):
    """(week, sku, units, accepted or None) of every recommendation of the line in the
    weeks, by week and SKU, read as tuples (a line of 500 products has 13,000 cells in
    26 weeks)."""
    in_weeks = {"line": line, "week__gte": weeks[0], "week__lte": weeks[-1]}
    accepted = {
        (pid, week): units
        for pid, week, units in ScheduleEntry.objects.filter(
            superseded_at__isnull=True, **in_weeks
        ).values_list("product_id", "week", "units")
    }
    for pid, sku, week, recommended in (
        QuotaRecommendation.objects.filter(**in_weeks)
        .order_by("week", "product__sku")
        .values_list("product_id", "product__sku", "week", "recommended_units")
    ):
        yield week, sku, whole_units(recommended), accepted.get((pid, week))


def changes_since_accepted(line: Line, weeks: list[dt.date]) -> dict:
    """Cells whose recommendation now differs from the accepted quota (week, sku, units,
    accepted, delta), and the weeks that have recommendations nobody has accepted yet."""
    changed = []
    unaccepted_weeks: set[dt.date] = set()
    for week, sku, units, current in _acceptance(line, weeks):
        if current is None:
            if units:
                unaccepted_weeks.add(week)
        elif current != units:
            changed.append(
                {"week": week, "sku": sku, "units": units, "accepted": current,
                 "delta": units - current}
            )  # fmt: skip
    return {"changed": changed, "unaccepted_weeks": sorted(unaccepted_weeks)}


# A recommendation whose fraction lies in (0, NEAR_WHOLE] is whole_units' to round (it
# rounds to 6 places first, which may take it down to the whole number below); any other
# is its ceiling (a whole number is itself), which the database computes exactly.
NEAR_WHOLE = 2e-6


def acceptance_by_line(weeks: list[dt.date]) -> dict[int, dict]:
    """Per line id: how many accepted quotas the plan now changes, and the weeks with
    recommendations nobody has accepted yet (what changes_since_accepted counts, for
    every line at once). Counted by the database, a row per line and week, joining each
    recommendation to its cell's current entry: the home page asks for every line, and
    20,000 products are 80,000 cells in ACCEPT_WEEKS. (Recommendations are never
    negative, a check constraint: the ceiling is whole_units' for every other one.)"""
    recommendation, entry = QuotaRecommendation._meta.db_table, ScheduleEntry._meta.db_table
    fraction = "r.recommended_units - FLOOR(r.recommended_units)"
    near = f"({fraction} > 0 AND {fraction} <= %s)"
    cells = (
        f"FROM {recommendation} r LEFT JOIN {entry} e ON e.product_id = r.product_id "
        "AND e.week = r.week AND e.superseded_at IS NULL WHERE r.week BETWEEN %s AND %s"
    )
    summary: dict[int, dict] = {}

    def count(line_id, week, changed: int, unaccepted: int) -> None:
        line = summary.setdefault(line_id, {"changed": 0, "unaccepted_weeks": set()})
        line["changed"] += changed
        if unaccepted:
            line["unaccepted_weeks"].add(week)

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT r.line_id, r.week, "
            "COUNT(*) FILTER (WHERE e.units <> CEILING(r.recommended_units)), "
            "COUNT(*) FILTER (WHERE e.id IS NULL AND r.recommended_units > 0) "
            f"{cells} AND NOT {near} GROUP BY r.line_id, r.week",
            [weeks[0], weeks[-1], NEAR_WHOLE],
        )
        counted = cursor.fetchall()
        cursor.execute(
            f"SELECT r.line_id, r.week, r.recommended_units, e.units {cells} AND {near}",
            [weeks[0], weeks[-1], NEAR_WHOLE],
        )
        near_whole = cursor.fetchall()
    week_of = {str(week): week for week in weeks}  # SQLite answers dates as text
    for line_id, week, changed, unaccepted in counted:
        count(line_id, week_of.get(week, week), changed, unaccepted)
    for line_id, week, recommended, current in near_whole:
        units = whole_units(recommended)
        count(line_id, week_of.get(week, week), int(current is not None and current != units),
              int(current is None and units > 0))  # fmt: skip
    for line in summary.values():
        line["unaccepted_weeks"] = sorted(line["unaccepted_weeks"])
    return summary


def recent_runs(line: Line | None = None, limit: int = 5):
    runs = RecomputeRun.objects.prefetch_related("requests").order_by("-started_at", "-id")
    if line is not None:
        runs = runs.filter(Q(line=line))
    return list(runs[:limit])


def recomputes_in_progress(line: Line) -> list[RecomputeRequest]:
    """Recompute requests that will re-plan `line` and have not finished: waiting for a
    worker or being recomputed, oldest first. The dashboard polls while there are any."""
    unfinished = RecomputeRequest.objects.filter(
        status__in=(RecomputeRequest.Status.PENDING, RecomputeRequest.Status.RUNNING)
    ).order_by("created_at", "id")
    # line_ids is a JSON list (no portable "contains" lookup on SQLite); unfinished
    # requests are few, so they are filtered here.
    return [r for r in unfinished if line.pk in (r.line_ids or [])]


def promotion_impact(promotion: Promotion) -> list[dict]:
    """Production's answer to a promotion, per product: pre-build weeks before it, weeks
    still short during it, and how the promotion weeks are supplied."""
    answers = []
    for item in promotion.items.select_related("product", "product__production_line"):
        product = item.product
        recs = list(
            QuotaRecommendation.objects.filter(
                product=product,
                covers_week__lte=add_weeks(promotion.end_week, 1),
            ).order_by("week")
        )
        during = [r for r in recs if promotion.start_week <= r.covers_week <= promotion.end_week]
        prebuild = [
            r
            for r in recs
            if r.prebuild_units >= NEGLIGIBLE and r.covers_week <= promotion.end_week
        ]
        short = [r for r in during if r.shortage_units >= NEGLIGIBLE]
        answers.append(
            {
                "product": product,
                "line": product.production_line,
                "planned": product.production_line is not None and bool(recs),
                "demand": sum(r.demand for r in during),
                "uplift": sum(r.promotion_uplift for r in during),
                "prebuild": [(r.week, r.prebuild_units) for r in prebuild],
                "prebuild_total": sum(r.prebuild_units for r in prebuild),
                "short": [(r.covers_week, r.shortage_units) for r in short],
                "short_total": max((r.shortage_units for r in short), default=0.0),
                "hold": next((r.hold_reason for r in recs if r.hold_reason), ""),
                # The shelf-life cap held the stock built ahead down, so weeks go short
                # rather than built so early that the stock would expire before it sells.
                "expires": bool(short) and any(r.shelf_life_capped for r in recs),
                # Weeks before the promotion whose stock the shelf-life cap held down (one
                # more batch would take it over the cap): the plan builds no earlier.
                "at_cap": [
                    r.covers_week
                    for r in recs
                    if r.stock_cap is not None
                    and r.stock_cap >= NEGLIGIBLE
                    and r.projected_on_hand + product.batch_size > r.stock_cap + NEGLIGIBLE
                    and r.covers_week < promotion.start_week
                    and (prebuild and r.week >= prebuild[0].week)
                ],
                "unplannable": next((r.unplannable for r in recs if r.unplannable), ""),
                # Replaced before the promotion ends: its demand, and the promotion's
                # lift from the switch on, belong to the successor (demand's forecast).
                "replaced_by": next(
                    (
                        (found.successor, found.switch_week)
                        for found in Succession.objects.filter(
                            product=product, switch_week__lte=promotion.end_week
                        ).select_related("successor")
                    ),
                    None,
                ),
            }
        )
    return answers


def _as_shown(value: float) -> int:
    """A term in whole units as the page's table shows it (floatformat: half away from
    zero), so each step reads the same number as its row in the table."""
    return int(Decimal(repr(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _in_whole_units(rows: list[dict], recommended: float) -> None:
    """Show every step in whole units adding up to the quota that the grid, the header and
    the schedule state (whole_units: rounded up, never less than needed). What rounding
    the terms one by one leaves over is a step of its own, never hidden in another."""
    for row in rows:
        row["value"] = _as_shown(row["value"])
    rest = whole_units(recommended) - sum(row["value"] for row in rows)
    if rest:
        rows.append({"label": "Rounding to whole units", "value": rest, "css": "s7"})
    start = 0
    for row in rows:
        row.update(start=start, end=start + row["value"])
        start = row["end"]


def _cut_label(rec: QuotaRecommendation) -> str:
    if rec.hold_reason:
        return "Cut: on hold"
    if rec.frozen:
        return "Cut: the frozen plan is kept"
    if rec.unplannable:
        return "Cut: the plant cannot make it"
    return "Cut: no capacity this week"


def runs_rule(product) -> str:
    """The product's batch and minimum-run rule in words, or "" when it runs in any whole
    number of units."""
    batch, minimum = product.batch_size or 1, product.minimum_batch or 1
    rule = f"whole batches of {batch:,}" if batch > 1 else ""
    if minimum > batch:
        rule += f"{', ' if rule else ''}at least {minimum:,} a run"
    return rule


def _rest_label(rec: QuotaRecommendation, value: float) -> str:
    """What the plan adds to (or takes from) the terms above: the frozen quota, whole
    batches and minimum runs, or units the plan makes in another week than the need."""
    if rec.frozen:
        return "Kept from the frozen plan"
    rule = runs_rule(rec.product)
    if rule:
        if abs(value) < (rec.product.batch_size or 1):
            return f"Rounded {'up' if value > 0 else 'down'} to {rule}"
        if value > 0:
            return f"Made in one run for later weeks ({rule})"
        return f"Left to another run ({rule})"
    return "Made now for later weeks' demand" if value > 0 else "Left to other weeks"


def baseline_parts(recs) -> dict[tuple[int, dt.date], dict]:
    """{(product id, covers week): {"from_likes", "successor_transfer",
    "transferred_with"}}: what each recommendation's baseline owes to a launch plan or a
    succession, as its covers week's forecast keeps them (one query; absent: no forecast)."""
    recs = list(recs)
    if not recs:
        return {}
    wanted = {(rec.product_id, rec.covers_week) for rec in recs}
    rows = DemandForecast.objects.filter(
        product_id__in={pid for pid, _ in wanted}, week__in={week for _, week in wanted}
    ).values_list("product_id", "week", "from_likes", "successor_transfer", "transferred_with")
    return {
        (pid, week): {
            "from_likes": likes,
            "successor_transfer": transfer,
            "transferred_with": others,
        }
        for pid, week, likes, transfer, others in rows
        if (pid, week) in wanted
    }


def baseline_note(rec: QuotaRecommendation) -> str:
    """What the week's baseline owes to a launch plan or a succession (demand's forecast
    keeps them as parts of the baseline), in words; "" when nothing."""
    row = baseline_parts([rec]).get((rec.product_id, rec.covers_week))
    if row is None:
        return ""
    from_likes, transfer, others = (
        row["from_likes"],
        row["successor_transfer"],
        row["transferred_with"],
    )
    parts = []
    if from_likes >= NEGLIGIBLE:
        parts.append(
            f"{_as_shown(from_likes):,} units of the baseline are forecast from its like "
            "products (its launch plan), until its own sales history takes over"
        )
    if transfer >= NEGLIGIBLE:
        parts.append(
            f"{_as_shown(transfer):,} units are taken over from {others}, which it replaces"
        )
    elif transfer <= -NEGLIGIBLE:
        parts.append(
            f"its demand of {_as_shown(-transfer):,} units has moved to {others}, its successor"
        )
    if not parts:
        return ""
    text = ". ".join(parts) + "."
    return text[0].upper() + text[1:]


def shelf_life_note(rec: QuotaRecommendation) -> str:
    """Which shelf-life cap applied to the week, in words ("" when the product keeps)."""
    product = rec.product
    if rec.stock_cap is None or product.shelf_life_weeks is None:
        return ""
    usable = product.usable_weeks
    note = (
        f"Shelf life {product.shelf_life_weeks} weeks, {product.min_remaining_life_weeks} "
        f"required at shipment, {product.lead_time_weeks} from making to availability: "
        f"stock may wait {usable} week{'s' if usable != 1 else ''}, so the end of "
        f"{iso_label(rec.covers_week)} may hold at most {_as_shown(rec.stock_cap):,} units "
        f"(the demand of the next {usable} week{'s' if usable != 1 else ''})."
    )
    if rec.shelf_life_capped:
        note += (
            " The plan holds stock at that limit while a later week is short: more built "
            "ahead would expire before it sells."
        )
    return note


def explanation_steps(rec: QuotaRecommendation) -> list[dict]:
    """The terms of a recommendation as waterfall steps that add up to its quota in
    whole units (the last step's end)."""
    split = channel_split(rec)
    baseline_label, uplift_label = "Baseline demand", "Promotion uplift"
    dip_label = "Dip after promotion"
    if split is not None:
        # A product forecast per channel: its baseline is the sum of its channels'.
        baseline_label += f" = {split.baseline_text(_as_shown(rec.baseline))}"
        if split.promoted:
            uplift_label += f" ({split.uplift_text()})"
        if split.dipped:
            dip_label += f" ({split.dip_text()})"
    steps = [
        (baseline_label, rec.baseline, "s1"),
        (uplift_label, rec.promotion_uplift, "s2"),
        (dip_label, rec.promotion_dip, "s2"),
        (f"Taken by promotion of {rec.cannibalized_by}", rec.cannibalization, "s2"),
        (f"Lifted by promotion of {rec.halo_from}", rec.halo, "s2"),
        ("Firm orders", rec.firm_orders, "s3"),
        ("Marketing adjustment", rec.adjustment, "s4"),
        ("Safety stock target", rec.safety_stock, "s5"),
        ("Stock before arrival", -rec.stock_before_arrival, "s7"),
    ]
    rows = []
    running = 0.0
    for label, value, css in steps:
        if abs(value) < NEGLIGIBLE and label != baseline_label:
            continue
        rows.append({"label": label, "value": value, "start": running, "css": css})
        running += value
    net = rec.net_requirement
    if abs(running - net) >= NEGLIGIBLE:
        # Stock already covers more than the need: nothing to make for it.
        rows.append(
            {
                "label": "Nothing needed below zero",
                "value": net - running,
                "start": running,
                "css": "s7",
            }
        )
    running = net
    if rec.prebuild_units >= NEGLIGIBLE:
        rows.append(
            {
                "label": "Built ahead for later weeks",
                "value": rec.prebuild_units,
                "start": running,
                "css": "s6",
            }
        )
        running += rec.prebuild_units
    if rec.capacity_cut_units >= NEGLIGIBLE:
        rows.append(
            {
                "label": _cut_label(rec),
                "value": -rec.capacity_cut_units,
                "start": running,
                "css": "s7",
            }
        )
        running -= rec.capacity_cut_units
    if abs(rec.recommended_units - running) >= NEGLIGIBLE:
        rows.append(
            {
                "label": _rest_label(rec, rec.recommended_units - running),
                "value": rec.recommended_units - running,
                "start": running,
                "css": "s7",
            }
        )
    _in_whole_units(rows, rec.recommended_units)
    scale = max([abs(r["start"]) + abs(r["value"]) for r in rows] + [rows[-1]["end"], 1.0])
    for row in rows:
        low = min(row["start"], row["start"] + row["value"])
        row["left"] = max(0.0, low / scale * 100)
        row["width"] = max(0.5, abs(row["value"]) / scale * 100)
    return rows
