"""The money terms of a promotion, from plain numbers (Decimal, no ORM).

With discount d, for each promoted product with list price p, unit cost c, baseline units
B over the promotion's weeks, expected lift L and U of its extra units the plan cannot
supply (the line is full):

    extra units sold        S = B x L - U
    incremental revenue       = S x p x (1 - d)
    margin on extra units     = S x (p x (1 - d) - c)
    discount given away       = - B x p x d          (the baseline would have sold anyway)
    incremental margin        = the two above
    holding cost of pre-build = - sum over products of added unit-weeks held x c x rate / 52
    margin lost, displaced    = - sum over other products of added units short x margin lost,
                                never a gain: on a full line the planner may change which
                                product waits (one more short, another less); the net of
                                that reshuffle is counted, a net gain is not
    post-promotion dip        = - units not bought after it x (p - c), where a dip is learned
                                (its depth x the baseline units of the weeks it lasts)
    net result                = incremental margin + the three costs

The break-even lift is the one lift, the same for every promoted product, at which the net
result is 0 with production's costs as they are at the expected lift; it is solved exactly
(fractions) and is "never" when an extra unit earns nothing at this discount. A product
without a price cannot be valued: its terms are None ("no price"), and so are the totals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

CENT = Decimal("0.01")
WEEKS_A_YEAR = 52
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class PromotedProduct:
    sku: str
    unit_price: Decimal | None  # None: no price
    unit_cost: Decimal | None
    baseline_units: Decimal  # forecast baseline over the promotion's weeks
    lift_pct: Decimal
    unsupplied_units: Decimal = Decimal(0)  # extra units the plan cannot supply
    dip_pct: Decimal | None = None  # the learned dip after a promotion; None: none
    dip_baseline_units: Decimal = Decimal(0)  # baseline units over the weeks it lasts
    dip_evidence: str = ""

    @property
    def dip_units(self) -> Decimal:
        """Units not bought after it (>= 0): the baseline units x the dip's depth."""
        if self.dip_pct is None or self.dip_pct >= 0:
            return Decimal(0)
        return self.dip_baseline_units * -self.dip_pct / HUNDRED


@dataclass(frozen=True)
class HeldStock:
    """The change the promotion makes to a product's pre-build: units built ahead and
    unit-weeks held (negative: less than without it)."""

    sku: str
    unit_cost: Decimal | None
    holding_rate_pct: Decimal
    units: Decimal
    unit_weeks: Decimal


@dataclass(frozen=True)
class DisplacedProduct:
    """Another product the plan leaves shorter because the promotion took its hours
    (negative: less short, when the planner changes which product waits)."""

    sku: str
    extra_short_units: Decimal
    margin_per_unit: Decimal | None  # None: no price


@dataclass(frozen=True)
class Term:
    key: str
    label: str
    amount: Decimal | None  # None: cannot be valued (no price)
    explanation: str
    css: str = "s1"


@dataclass(frozen=True)
class Economics:
    currency: str
    discount_pct: Decimal
    incremental_units: Decimal
    incremental_revenue: Decimal | None
    incremental_margin: Decimal | None
    terms: list[Term]
    net: Decimal | None
    break_even_lift_pct: Decimal | None  # None: never pays at this discount (or no price)
    break_even: str
    no_price: list[str] = field(default_factory=list)

    @property
    def pays(self) -> bool | None:
        return None if self.net is None else self.net > 0


def present_money(amount: Decimal | None, currency: str) -> str:
    """A figure as people read it: to the cent, half-even, with its currency."""
    if amount is None:
        return "no price"
    rounded = amount.quantize(CENT, rounding=ROUND_HALF_EVEN)
    if rounded == 0:
        rounded = abs(rounded)
    sign = "−" if rounded < 0 else ""
    return f"{sign}{abs(rounded):,.2f} {currency}"


def present_pct(value: Decimal) -> str:
    rounded = value.quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)
    return f"{'+' if rounded >= 0 else '−'}{abs(rounded)} %"


def _units(value: Decimal) -> str:
    return f"{value.quantize(Decimal(1), rounding=ROUND_HALF_EVEN):,}"


def _sum(values) -> Decimal | None:
    total = Decimal(0)
    for value in values:
        if value is None:
            return None
        total += value
    return total


def _priced(product) -> bool:
    return product.unit_price is not None and product.unit_cost is not None


def promotion_economics(
    *,
    discount_pct: Decimal,
    products: list[PromotedProduct],
    held: list[HeldStock],
    displaced: list[DisplacedProduct],
    currency: str,
) -> Economics:
    d = Decimal(discount_pct) / HUNDRED
    money = lambda amount: present_money(amount, currency)  # noqa: E731
    no_price = sorted(
        {p.sku for p in products if not _priced(p)}
        | {h.sku for h in held if h.unit_cost is None and h.unit_weeks != 0}
        | {x.sku for x in displaced if x.margin_per_unit is None and x.extra_short_units != 0}
    )
    extra_units = {
        p.sku: p.baseline_units * p.lift_pct / HUNDRED - p.unsupplied_units for p in products
    }
    incremental_units = sum(extra_units.values(), Decimal(0))

    def per_product(value):
        return {p.sku: value(p) if _priced(p) else None for p in products}

    promo_margin = per_product(lambda p: p.unit_price * (1 - d) - p.unit_cost)
    revenue = _sum(
        extra_units[p.sku] * p.unit_price * (1 - d) if _priced(p) else None for p in products
    )
    on_extra = per_product(lambda p: extra_units[p.sku] * promo_margin[p.sku])
    given_away = per_product(lambda p: -p.baseline_units * p.unit_price * d)
    holding = {
        h.sku: None
        if h.unit_cost is None
        else -h.unit_weeks * h.unit_cost * h.holding_rate_pct / HUNDRED / WEEKS_A_YEAR
        for h in held
        if h.unit_weeks != 0
    }
    lost = {
        x.sku: None if x.margin_per_unit is None else -x.extra_short_units * x.margin_per_unit
        for x in displaced
        if x.extra_short_units != 0
    }
    displaced_total = _sum(lost.values())
    reshuffled = displaced_total is not None and displaced_total > 0
    if reshuffled:
        displaced_total = Decimal(0)
    dip_units = {p.sku: p.dip_units for p in products if p.dip_pct is not None and p.dip_pct < 0}
    dip = {
        p.sku: None if not _priced(p) else -dip_units[p.sku] * (p.unit_price - p.unit_cost)
        for p in products
        if p.sku in dip_units
    }

    def each(amounts: dict, describe) -> str:
        return "; ".join(
            f"{sku}: {describe(sku)} = {money(amount)}" for sku, amount in amounts.items()
        )

    by_sku = {p.sku: p for p in products}
    terms = [
        Term(
            "extra_units_margin",
            "Margin on the extra units",
            _sum(on_extra.values()),
            "Each extra unit sells at the promotion price less its unit cost. "
            + each(
                on_extra,
                lambda sku: (
                    f"{_units(extra_units[sku])} extra units"
                    + (
                        f" ({_units(by_sku[sku].unsupplied_units)} of the expected lift the plan "
                        "cannot supply)"
                        if by_sku[sku].unsupplied_units > 0
                        else ""
                    )
                    + f" × {_price_less_cost(by_sku[sku], d, money)}"
                ),
            ),
            "s1",
        ),
        Term(
            "discount_given_away",
            "Discount given away on baseline units",
            _sum(given_away.values()),
            f"The {present_pct(Decimal(discount_pct)).lstrip('+')} discount also goes to the "
            "units that would have sold anyway. "
            + each(
                given_away,
                lambda sku: (
                    f"{_units(by_sku[sku].baseline_units)} baseline units × "
                    f"{_price_label(by_sku[sku].unit_price, money)} × {discount_pct} %"
                ),
            ),
            "s7",
        ),
        Term(
            "holding_cost",
            "Holding cost of the pre-build",
            _sum(holding.values()),
            "Stock built ahead because the line lacks hours later waits in the warehouse: "
            "units × weeks held × unit cost × yearly rate / 52. "
            + (
                each(holding, lambda sku: _held_label(next(h for h in held if h.sku == sku), money))
                if holding
                else "The promotion needs no extra pre-build."
            ),
            "s6",
        ),
        Term(
            "displaced_margin",
            "Margin lost on displaced products",
            displaced_total,
            "Other products on the line go short because the promotion takes their hours. "
            + (
                each(
                    lost,
                    lambda sku: _displaced_label(next(x for x in displaced if x.sku == sku), money),
                )
                if lost
                else "No other product goes shorter."
            )
            + (
                ". The plan only changes which products wait: no margin is lost overall."
                if reshuffled
                else ""
            ),
            "s4",
        ),
        Term(
            "post_promotion_dip",
            "Post-promotion dip",
            _sum(dip.values()),
            _dip_explanation(products, dip, dip_units, money),
            "s5",
        ),
    ]
    incremental_margin = _sum(t.amount for t in terms[:2])
    net = _sum(t.amount for t in terms)
    lift, break_even = _break_even(products, terms, d, promo_margin, net)
    return Economics(
        currency=currency,
        discount_pct=Decimal(discount_pct),
        incremental_units=incremental_units,
        incremental_revenue=revenue,
        incremental_margin=incremental_margin,
        terms=terms,
        net=net,
        break_even_lift_pct=lift,
        break_even=break_even,
        no_price=no_price,
    )


def _price_label(price, money) -> str:
    return "no price" if price is None else money(price)


def _price_less_cost(product: PromotedProduct, d: Decimal, money) -> str:
    if not _priced(product):
        return "no price"
    return f"({money(product.unit_price * (1 - d))} − {money(product.unit_cost)})"


def _held_label(h: HeldStock, money) -> str:
    cost = "no price" if h.unit_cost is None else money(h.unit_cost)
    more = "more" if h.unit_weeks > 0 else "fewer"
    return (
        f"{_units(abs(h.units))} {'more' if h.units >= 0 else 'fewer'} units built ahead, "
        f"{_units(abs(h.unit_weeks))} {more} unit-weeks × {cost} × "
        f"{h.holding_rate_pct.normalize():f} % / 52"
    )


def _displaced_label(x: DisplacedProduct, money) -> str:
    margin = "no price" if x.margin_per_unit is None else money(x.margin_per_unit)
    more = "more" if x.extra_short_units > 0 else "fewer"
    return f"{_units(abs(x.extra_short_units))} {more} units short × {margin} margin"


def _dip_explanation(products, dip, dip_units, money) -> str:
    parts = []
    for p in products:
        if p.sku in dip:
            parts.append(
                f"{p.sku}: the forecast's learned dip of {present_pct(p.dip_pct)} "
                f"({p.dip_evidence}); {_units(dip_units[p.sku])} units not bought then × "
                f"{_price_less_cost(p, Decimal(0), money)} = {money(dip[p.sku])}"
            )
        elif p.dip_pct is not None:
            parts.append(f"{p.sku}: no dip ({present_pct(p.dip_pct)}), 0")
        else:
            parts.append(f"{p.sku}: no dip after its promotions is learned; counted as 0")
    return "Customers who bought ahead buy less afterwards. " + "; ".join(parts) + "."


def _break_even(products, terms, d, promo_margin, net) -> tuple[Decimal | None, str]:
    if net is None:
        return None, "no price: the break-even lift needs every price"
    # net(lift) = lift x sum(B x m) - sum(U x m) + the other terms, m the promotion margin.
    slope = sum(
        (Fraction(p.baseline_units) * Fraction(promo_margin[p.sku]) for p in products), Fraction(0)
    )
    if slope <= 0:
        reason = (
            "never pays at this discount: an extra unit sells at or below its cost"
            if any(p.baseline_units > 0 for p in products)
            else "never pays: there is no baseline to lift"
        )
        return None, reason
    fixed = sum(
        (Fraction(t.amount) for t in terms if t.key != "extra_units_margin"), Fraction(0)
    ) - sum(
        (Fraction(p.unsupplied_units) * Fraction(promo_margin[p.sku]) for p in products),
        Fraction(0),
    )
    lift = -fixed / slope * 100
    exact = Decimal(lift.numerator) / Decimal(lift.denominator)
    return exact, (
        f"pays from {present_pct(exact)} lift (the same lift on every product, with "
        "production's costs as at the expected lift)"
    )
