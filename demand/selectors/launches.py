"""Reads for new products (launch plans and their like products) and successions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Min

from coordination.models import Product
from coordination.selectors.products import with_current_specification
from coordination.weeks import iso_label
from demand.engine.launch import BLEND_WEEKS
from demand.models import ForecastFit, LaunchPlan, LikeProduct, SalesActual, Succession

#: Like products Tandem suggests at most.
SUGGESTIONS = 5


@dataclass(frozen=True)
class LaunchInput:
    """What the forecaster needs of one launch plan."""

    launch_week: dt.date
    launch_volume: int | None
    ramp_weeks: int
    ramp_shape: str
    likes: tuple[tuple[int, float], ...]  # (like product id, weight)


def launch_inputs(product_ids) -> dict[int, LaunchInput]:
    ids = list(product_ids)
    likes: dict[int, list[tuple[int, float]]] = {}
    for product_id, like_id, weight in (
        LikeProduct.objects.filter(product_id__in=ids)
        .order_by("product_id", "like_id")
        .values_list("product_id", "like_id", "weight")
    ):
        likes.setdefault(product_id, []).append((like_id, float(weight)))
    return {
        plan.product_id: LaunchInput(
            plan.launch_week,
            plan.launch_volume,
            plan.ramp_weeks,
            plan.ramp_shape,
            tuple(likes.get(plan.product_id, ())),
        )
        for plan in LaunchPlan.objects.filter(product_id__in=ids)
    }


def own_history_weeks(product_ids, *, end_week: dt.date) -> dict[int, int]:
    """Weeks from each product's first recorded sale to `end_week` (0 without one)."""
    first = dict(
        SalesActual.objects.filter(product_id__in=list(product_ids), week__lt=end_week)
        .values("product_id")
        .annotate(first=Min("week"))
        .values_list("product_id", "first")
    )
    return {pk: (end_week - first[pk]).days // 7 if pk in first else 0 for pk in product_ids}


def successions_among(product_ids) -> list[tuple[int, int, dt.date]]:
    """(old, successor, switch week) where both products are among these."""
    ids = list(product_ids)
    return list(
        Succession.objects.filter(product_id__in=ids, successor_id__in=ids)
        .order_by("product_id")
        .values_list("product_id", "successor_id", "switch_week")
    )


def succession_partners(product_ids) -> set[int]:
    """Every product linked to these through successions, at any distance (A -> B -> C:
    all three), these included: their forecasts move together."""
    found = {int(pk) for pk in product_ids}
    frontier = set(found)
    while frontier:
        pairs = Succession.objects.filter(product_id__in=frontier).values_list(
            "product_id", "successor_id"
        ) | Succession.objects.filter(successor_id__in=frontier).values_list(
            "product_id", "successor_id"
        )
        linked = {pk for pair in pairs for pk in pair}
        frontier = linked - found
        found |= linked
    return found


def products_forecast_with(product_ids) -> set[int]:
    """The products whose forecast reads these: succession partners and the new products
    naming one of these as a like (their forecast is made from it). Two cheap queries
    when there are neither."""
    if not (
        Succession.objects.exists() or LikeProduct.objects.filter(like_id__in=product_ids).exists()
    ):
        return set(product_ids)
    ids = succession_partners(product_ids)
    return ids | set(
        LikeProduct.objects.filter(like_id__in=list(ids)).values_list("product_id", flat=True)
    )


def successor_chain(product: Product) -> list[Product]:
    """The product, then its successor, its successor's successor... (stops at a repeat)."""
    chain = [product]
    seen = {product.pk}
    current = product
    while True:
        succession = Succession.objects.filter(product=current).select_related("successor").first()
        if succession is None or succession.successor_id in seen:
            return chain
        current = succession.successor
        chain.append(current)
        seen.add(current.pk)


@dataclass(frozen=True)
class Suggestion:
    product: Product
    reasons: str


def suggested_likes(product: Product, limit: int = SUGGESTIONS) -> list[Suggestion]:
    """Products like this one: the same product line, not discontinued, with sales; those
    of the same quality tier and sharing a package size of the specification in force
    first (the Product and Specification fields Tandem has)."""
    mine = _package_sizes(with_current_specification(Product.objects.filter(pk=product.pk))[0])
    candidates = with_current_specification(
        Product.objects.filter(product_line_id=product.product_line_id)
        .exclude(pk=product.pk)
        .exclude(lifecycle=Product.Lifecycle.DISCONTINUED)
        .filter(pk__in=SalesActual.objects.values("product_id"))
    )
    ranked = []
    for candidate in candidates:
        shared = sorted(mine & _package_sizes(candidate))
        same_tier = candidate.quality_tier == product.quality_tier
        reasons = ["same product line"]
        if same_tier:
            reasons.append(f"{candidate.get_quality_tier_display().lower()} tier")
        if shared:
            reasons.append("package " + ", ".join(shared))
        ranked.append(((not same_tier, -len(shared), candidate.sku), candidate, reasons))
    ranked.sort(key=lambda item: item[0])
    return [Suggestion(candidate, ", ".join(reasons)) for _, candidate, reasons in ranked[:limit]]


def _package_sizes(product: Product) -> set[str]:
    specs = getattr(product, "in_force_specifications", [])
    return {str(size) for size in specs[0].package_sizes} if specs else set()


def launch_page(product: Product) -> dict:
    """The product's launch plan with its likes, its succession (both ways), and how
    the latest forecast used them."""
    plan = LaunchPlan.objects.filter(product=product).first()
    likes = list(LikeProduct.objects.filter(product=product).select_related("like"))
    succession = Succession.objects.filter(product=product).select_related("successor").first()
    replaces = list(
        Succession.objects.filter(successor=product).select_related("product").order_by("pk")
    )
    fit = ForecastFit.objects.filter(product=product).order_by("-id").first()
    return {
        "plan": plan,
        "likes": likes,
        "succession": succession,
        "replaces": replaces,
        "summary": launch_summary(plan, likes, fit),
    }


def launch_notes(plan: LaunchPlan | None, weeks) -> dict[dt.date, str]:
    """Per forecast week of a launch product: 'Before the launch', 'Ramp-up week 3 of 8'."""
    if plan is None:
        return {}
    notes = {}
    for week in weeks:
        since = (week - plan.launch_week).days // 7
        if since < 0:
            notes[week] = "Before the launch"
        elif since < plan.ramp_weeks:
            notes[week] = f"Ramp-up week {since + 1} of {plan.ramp_weeks}"
    return notes


def launch_summary(plan: LaunchPlan | None, likes: list[LikeProduct], fit, week=None) -> str:
    """'Forecast from likes: A, B x0.5 scaled to 400/week, ramp-up week 3 of 8; own
    model 23 %' — how the forecast of `week` (the run's first) was made."""
    if plan is None or fit is None or fit.likes_weight <= 0:
        return ""
    week = week or fit.run.first_week
    names = ", ".join(
        like.like.sku + ("" if like.weight == 1 else f" x{like.weight.normalize()}")
        for like in likes
    )
    text = f"Forecast from likes: {names}" if names else "Forecast from the launch volume"
    if plan.launch_volume:
        text += f" scaled to {plan.launch_volume}/week" if names else f" {plan.launch_volume}/week"
    since = (week - plan.launch_week).days // 7
    if since < 0:
        text += f", launching {iso_label(plan.launch_week)}"
    elif since < plan.ramp_weeks:
        text += f", ramp-up week {since + 1} of {plan.ramp_weeks}"
    own = 1 - fit.likes_weight
    if own > 0:
        text += (
            f"; blended with its own model at {own:.0%} "
            f"({round(own * BLEND_WEEKS)} of {BLEND_WEEKS} weeks of its own history)"
        )
    return text
