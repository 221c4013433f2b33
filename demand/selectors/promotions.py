"""Reads about promotions shared by the pages and the API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from coordination.weeks import add_weeks, current_week, outside_horizon
from demand.engine.effects import DIP_WEEKS
from demand.models import DemandForecast, Promotion, PromotionItem
from demand.selectors.launches import succession_partners, successions_among
from demand.selectors.lift import learned_dips


def promotion_overlaps(promotion: Promotion) -> list[str]:
    """Warnings naming other live promotions on the same products in overlapping weeks."""
    others = (
        PromotionItem.objects.filter(
            product_id__in=promotion.items.values("product_id"),
            promotion__start_week__lte=promotion.end_week,
            promotion__end_week__gte=promotion.start_week,
        )
        .exclude(promotion=promotion)
        .exclude(promotion__status=Promotion.Status.CANCELLED)
        .select_related("promotion", "product")
        .order_by("promotion__start_week", "promotion__name", "product__sku")
    )
    warnings = []
    for item in others:
        other = item.promotion
        warnings.append(
            f"Overlaps “{other.name}” ({other.get_status_display().lower()}) on "
            f"{item.product.sku} in {other.period_label}."
        )
    return warnings


def promotion_warnings(promotion: Promotion) -> list[str]:
    """What marketing should know about a saved promotion: the live promotions it overlaps,
    and the weeks the plan does not cover yet."""
    warnings = promotion_overlaps(promotion)
    if promotion.status != Promotion.Status.CANCELLED:
        beyond = outside_horizon(promotion.start_week, promotion.end_week)
        if beyond:
            warnings.append(beyond)
    return warnings


def promotions_between(start: dt.date, end: dt.date) -> list[Promotion]:
    """Planned and confirmed promotions running in any week from start to end, with
    their products (and the products' lines) loaded."""
    return list(
        Promotion.objects.filter(
            status__in=Promotion.PLANNING_STATUSES, start_week__lte=end, end_week__gte=start
        )
        .prefetch_related("items__product__production_line")
        .order_by("start_week", "name")
    )


def promotions_a_hold_puts_at_risk(product_ids: Iterable[int]):
    """Drafts and planned or confirmed promotions of these products not yet over: those a
    stop-ship of the products puts at risk."""
    return Promotion.objects.filter(
        items__product_id__in=list(product_ids),
        status__in=[Promotion.Status.DRAFT, *Promotion.PLANNING_STATUSES],
        end_week__gte=current_week(),
    ).distinct()


def promotion_net_effect(promotion: Promotion) -> list[dict]:
    """What the promotion does to the demand of each product line it touches, from the
    current forecast: the uplift of its products during it, their dip in the DIP_WEEKS
    weeks after it, what it takes from the line's other products during it (forecast
    rows whose `cannibalized_by` names one of its products) and what it adds to them (a
    halo: rows whose `halo_from` names one). net = uplift + dip + taken + halo; `kept_pct`
    is the net as a share of the uplift (None without uplift; above 100 with a halo).
    The uplift and dip a successor carries for a promoted product it replaced count on
    the promoted product's line (its own rows are 0 from the switch week).

    A cancelled promotion has no effect: the forecast no longer carries it."""
    if promotion.status == Promotion.Status.CANCELLED:
        return []
    items = list(promotion.items.select_related("product__product_line"))
    promoted = {item.product_id for item in items}
    skus = {item.product.sku for item in items}
    lines = {item.product.product_line_id: item.product.product_line for item in items}
    dip_end = add_weeks(promotion.end_week, DIP_WEEKS)
    effects = {
        pk: {
            "product_line": line,
            "uplift": 0.0,
            "dip": 0.0,
            "taken": 0.0,
            "taken_from": {},
            "halo": 0.0,
            "halo_to": {},
            "dipped": set(),  # the weeks after it the forecast carries a dip in
        }
        for pk, line in lines.items()
    }
    carried = _carried_by_successors(promotion, items, dip_end)
    rows = DemandForecast.objects.filter(
        product__product_line_id__in=list(lines),
        week__gte=promotion.start_week,
        week__lte=dip_end,
    ).values_list(
        "product_id",
        "product__sku",
        "product__product_line_id",
        "week",
        "promotion_uplift",
        "promotion_dip",
        "cannibalization",
        "cannibalized_by",
        "halo",
        "halo_from",
    )
    for product_id, sku, line_id, week, uplift, dip, taken, taken_by, halo, halo_from in rows:
        effect = effects[line_id]
        during = week <= promotion.end_week
        if product_id in promoted:
            if during:
                effect["uplift"] += uplift
            else:
                effect["dip"] += dip
                if dip:
                    effect["dipped"].add(week)
            continue
        if during and taken and skus & {s.strip() for s in taken_by.split(",")}:
            effect["taken"] += taken
            effect["taken_from"][sku] = effect["taken_from"].get(sku, 0.0) + taken
        if during and halo and skus & {s.strip() for s in halo_from.split(",")}:
            effect["halo"] += halo
            effect["halo_to"][sku] = effect["halo_to"].get(sku, 0.0) + halo
    for line_id, (uplift, dip) in carried.items():
        effects[line_id]["uplift"] += uplift
        effects[line_id]["dip"] += dip
    answers = []
    for effect in sorted(effects.values(), key=lambda e: e["product_line"].name):
        effect["net"] = effect["uplift"] + effect["dip"] + effect["taken"] + effect["halo"]
        effect["kept_pct"] = (
            round(100 * effect["net"] / effect["uplift"]) if effect["uplift"] >= 0.5 else None
        )
        effect["taken_from"] = sorted(effect["taken_from"].items(), key=lambda kv: (kv[1], kv[0]))
        effect["halo_to"] = sorted(effect["halo_to"].items(), key=lambda kv: (-kv[1], kv[0]))
        # The weeks the dip lasts, as the forecast carries it (a learned dip is often
        # shorter than the DIP_WEEKS looked at); all of them where only a successor
        # carries it (its rows are summed above without their weeks).
        dipped = effect.pop("dipped")
        effect["dip_weeks"] = (
            (min(dipped), max(dipped)) if dipped else (add_weeks(promotion.end_week, 1), dip_end)
        )
        answers.append(effect)
    return answers


def _carried_by_successors(promotion: Promotion, items, dip_end: dt.date) -> dict:
    """{product line id: (uplift, dip)} the successors of the promotion's replaced
    products carry for it, as the forecast moved them (demand.services.forecasting): on
    the replaced product's moved baseline (its rows' -successor_transfer), promotions do
    not stack, as in the forecast. The successor is the one that holds the moved demand
    in the week: a successor that hands on again (A -> B -> C, both switches passed)
    hands on what it took over, so C carries A's promotion from B's switch week. During
    the promotion the largest of its lift and the lifts of that successor's and the
    product's other promotions counts; in the weeks its dip lasts the deepest of the
    product's learned dip and the dip after that successor's own promotions, and none in
    a week it (or the product) is promoted. (Channel promotions are read at the
    product's whole lift.)"""
    moved = list(
        DemandForecast.objects.filter(
            product_id__in=[item.product_id for item in items],
            week__gte=promotion.start_week,
            week__lte=dip_end,
            successor_transfer__lt=0,
        ).values_list("product_id", "week", "successor_transfer")
    )
    if not moved:
        return {}
    item_of = {item.product_id: item for item in items}
    replaced = {product_id for product_id, _, _ in moved}
    # Every succession of their chains (a loop is refused when one is saved).
    chains = {
        old: (new, switch) for old, new, switch in successions_among(succession_partners(replaced))
    }
    successors = {successor for successor, _ in chains.values()}
    own = _own_promotions(successors | replaced, promotion, dip_end)
    dips = learned_dips(replaced | successors)
    carried: dict[int, list[float]] = {}
    for product_id, week, transfer in moved:
        item = item_of[product_id]
        successor = _holder(chains, product_id, week)
        total = carried.setdefault(item.product.product_line_id, [0.0, 0.0])
        if week <= promotion.end_week:
            lifts = (own.lift(successor, week), own.lift(product_id, week))
            total[0] += -transfer * max(float(item.expected_lift_pct), *lifts) / 100
            continue
        after = (week - promotion.end_week).days // 7
        fractions = dips[product_id].fractions() if product_id in dips else []
        if after > len(fractions) or fractions[after - 1] >= 0:
            continue  # the promotion leaves no dip this week
        if own.promoted(successor, week) or own.promoted(product_id, week):
            continue  # no dip inside a promotion
        total[1] += -transfer * min(fractions[after - 1], own.dip(successor, week, dips))
    return {line_id: (uplift, dip) for line_id, (uplift, dip) in carried.items()}


def _holder(chains: dict[int, tuple[int, dt.date]], product_id: int, week: dt.date) -> int:
    """The product that holds `product_id`'s demand in the week: its successor, that
    successor's once it has handed on too, and so on (demand.engine.launch's
    apply_successions moves them so, in chain_order)."""
    holder = product_id
    for _ in range(len(chains)):
        step = chains.get(holder)
        if step is None or step[1] > week:
            break
        holder = step[0]
    return holder


@dataclass(frozen=True)
class _OwnPromotions:
    """The other planned and confirmed promotions of some products: (start, end, lift
    %) per product, as the forecast reads them (future_terms)."""

    spans: dict[int, list[tuple[dt.date, dt.date, float]]]

    def lift(self, product_id, week: dt.date) -> float:
        """The largest lift % of the product's promotions running in the week (0: none)."""
        return max(
            (pct for start, end, pct in self.spans.get(product_id, ()) if start <= week <= end),
            default=0.0,
        )

    def promoted(self, product_id, week: dt.date) -> bool:
        return any(start <= week <= end for start, end, _ in self.spans.get(product_id, ()))

    def dip(self, product_id, week: dt.date, dips: dict) -> float:
        """The deepest dip fraction the product's own promotions leave in the week (0)."""
        learned = dips.get(product_id)
        if learned is None:
            return 0.0
        fractions = learned.fractions()
        found = [
            fractions[(week - end).days // 7 - 1]
            for _, end, _ in self.spans.get(product_id, ())
            if 1 <= (week - end).days // 7 <= len(fractions)
        ]
        return min(found, default=0.0)


def _own_promotions(product_ids, promotion: Promotion, dip_end: dt.date) -> _OwnPromotions:
    """The planned and confirmed promotions of these products other than `promotion`
    that run, or leave a dip, in its weeks or its dip weeks."""
    spans: dict[int, list[tuple[dt.date, dt.date, float]]] = {}
    for product_id, start, end, pct in (
        PromotionItem.objects.filter(
            product_id__in=list(product_ids),
            promotion__status__in=Promotion.PLANNING_STATUSES,
            promotion__start_week__lte=dip_end,
            promotion__end_week__gte=add_weeks(promotion.start_week, -DIP_WEEKS),
        )
        .exclude(promotion=promotion)
        .values_list(
            "product_id", "promotion__start_week", "promotion__end_week", "expected_lift_pct"
        )
    ):
        spans.setdefault(product_id, []).append((start, end, float(pct)))
    return _OwnPromotions(spans)
