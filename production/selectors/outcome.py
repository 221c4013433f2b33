"""What a finished recompute changed in the plan, in words, for the page of the change
that caused it (a firm order, a product, a line...). Registered with coordination's
planning inputs (production/apps.py), so pages below production can show it."""

from __future__ import annotations

from django.db import models

from coordination.models import CustomerRequest, RecomputeRequest
from coordination.weeks import iso_label, outside_horizon
from production.models import QuotaRecommendation, RecomputeRun


def recompute_outcome(recompute: RecomputeRequest, subject: models.Model | None) -> list[str]:
    said = []
    if isinstance(subject, CustomerRequest) and subject.product_id and subject.wanted_week:
        said += _firm_order(subject)
    runs = (
        RecomputeRun.objects.filter(requests=recompute, state=RecomputeRun.State.DONE)
        .exclude(line=None)
        .select_related("line")
        .order_by("line__name")
    )
    for run in runs:
        said.append(
            f"{run.line}: {run.changed_cells:,} quota{'' if run.changed_cells == 1 else 's'} "
            f"changed, {run.prebuild_units:,.0f} units built ahead, "
            f"{run.shortage_units:,.0f} units short."
        )
    return said


def _firm_order(request: CustomerRequest) -> list[str]:
    """The plan's row whose units arrive in the order's week: the firm orders it serves."""
    row = (
        QuotaRecommendation.objects.filter(
            product_id=request.product_id, covers_week=request.wanted_week
        )
        .only("week", "firm_orders", "demand", "recommended_units", "shortage_units")
        .first()
    )
    week = iso_label(request.wanted_week)
    if row is None:
        beyond = outside_horizon(request.wanted_week, request.wanted_week, "The order")
        if beyond:
            return [beyond]
        return [f"No quota covers {week} yet."]
    said = [
        f"Firm orders in {week}: {row.firm_orders:,.0f} units of {row.demand:,.0f} demand; "
        f"{row.recommended_units:,.0f} units planned in {iso_label(row.week)} to arrive then."
    ]
    if row.shortage_units >= 0.5:
        said.append(f"{row.shortage_units:,.0f} units of that week's demand are short.")
    return said
