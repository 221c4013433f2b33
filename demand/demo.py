"""Demo data for the demand app: three years of weekly sales with seasons, trend, noise
and past promotions with a real lift; the promotions coming up; and the forecasts as
they were made over the last 13 weeks, so the accuracy page has something to measure.
Re-runnable: nothing is created twice."""

from __future__ import annotations

import datetime as dt
import math
import random
from decimal import Decimal

from django.db import transaction

from coordination import demo_registry, roles
from coordination.demo import demo_user, seed_price_history
from coordination.models import Product
from coordination.selectors.products import current_specification
from coordination.services.products import product_create
from coordination.services.specifications import specification_record_initial
from coordination.weeks import add_weeks, current_week
from demand.models import (
    ChannelForecast,
    DemandForecast,
    ForecastRun,
    LaunchPlan,
    MarketingAdjustment,
    Promotion,
    PromotionItem,
    SalesActual,
    Succession,
)
from demand.selectors.sales import weekly_sales
from demand.services.forecasting import forecast_history, load_history
from demand.services.launches import launch_plan_set, succession_set
from demand.services.share_prior import share_prior_refresh

HISTORY_WEEKS = 156
BACKTEST_WEEKS = 13

# Weekly units of a 500 ml / 1 l item, and where the year peaks (ISO week) per family.
FAMILY_PROFILE = {
    "Iced Tea": (1800, 28, 0.55),  # base, peak week, seasonal amplitude
    "Sparkling Water": (2600, 30, 0.35),
    "Fruit Juice": (1400, 2, 0.20),
    "Sports Drinks": (1200, 26, 0.40),
}


def _seasonal(week: dt.date, peak: int, amplitude: float) -> float:
    iso_week = week.isocalendar()[1]
    return 1 + amplitude * math.cos(2 * math.pi * (iso_week - peak) / 52)


def _past_promotions(rng: random.Random, products: list[Product], first_week: dt.date):
    """Two to four past promotions per product family, 1-3 weeks long."""
    marketing = demo_user(roles.MARKETING)
    plans = []
    by_family: dict[str, list[Product]] = {}
    for product in products:
        by_family.setdefault(product.product_line.name, []).append(product)
    for family, members in sorted(by_family.items()):
        for n in range(rng.randint(3, 5)):
            start = add_weeks(first_week, rng.randint(10, HISTORY_WEEKS - 12))
            weeks = rng.randint(1, 3)
            discount = Decimal(rng.choice([10, 15, 20, 25, 30]))
            chosen = rng.sample(members, k=min(len(members), rng.randint(2, 4)))
            plans.append((family, n, start, weeks, discount, chosen))
    created = []
    for family, n, start, weeks, discount, chosen in plans:
        promotion, was_created = Promotion.objects.get_or_create(
            name=f"{family} deal #{n + 1} ({start:%b %Y})",
            defaults={
                "channel": rng.choice(["retail", "online", "all"]),
                "discount_pct": discount,
                "start_week": start,
                "end_week": add_weeks(start, weeks - 1),
                "status": Promotion.Status.CONFIRMED,
                "created_by": marketing,
                "updated_by": marketing,
            },
        )
        if was_created:
            for product in chosen:
                PromotionItem.objects.create(
                    promotion=promotion,
                    product=product,
                    expected_lift_pct=Decimal(int(float(discount) * 1.8)),
                )
        created.append(promotion)
    return created


# Products whose sales are recorded per channel (the rest as "all"): their share of each
# week's units per channel, so the forecast and accuracy pages show a breakdown.
CHANNEL_SHARES = {
    "SPW-NAT-33": {"retail": 0.65, "online": 0.35},
    "SPW-BER-33": {"retail": 0.45, "online": 0.40, "distributor": 0.15},
}


def _channel_rows(product: Product, week: dt.date, units: int, rng: random.Random):
    """The week's sales rows of a product: one "all" row, or one per channel of its
    CHANNEL_SHARES (each share varied a little, the units adding up to `units`)."""
    shares = CHANNEL_SHARES.get(product.sku)
    if not shares:
        return [SalesActual(product=product, week=week, units=units)]
    rows, left = [], units
    for n, (channel, share) in enumerate(shares.items()):
        last = n == len(shares) - 1
        part = left if last else min(left, int(units * share * rng.uniform(0.9, 1.1)))
        rows.append(SalesActual(product=product, channel=channel, week=week, units=part))
        left -= part
    return rows


@transaction.atomic
def seed_sales() -> dict[str, int]:
    """Three years of weekly sales per product, with the effect of past promotions; a
    few products' sales are recorded per channel (CHANNEL_SHARES)."""
    if SalesActual.objects.exists():
        return {"rows": SalesActual.objects.count(), "created": 0}
    rng = random.Random(2024)  # noqa: S311 - demo data
    # Its own generator, so the channel split leaves every other product's sales as
    # they were before channels.
    split_rng = random.Random(19)  # noqa: S311 - demo data
    this_week = current_week()
    first_week = add_weeks(this_week, -HISTORY_WEEKS)
    products = list(
        Product.objects.select_related("product_line")
        .exclude(lifecycle=Product.Lifecycle.CONCEPT)
        .order_by("sku")
    )
    promotions = _past_promotions(rng, products, first_week)
    lift_of: dict[tuple[int, dt.date], float] = {}
    dip_of: dict[tuple[int, dt.date], float] = {}
    for promotion in promotions:
        # The real lift grows with the discount (about 1.8x its points), with noise.
        real = float(promotion.discount_pct) * rng.uniform(1.4, 2.2) / 100
        for item in promotion.items.all():
            for k in range(promotion.weeks):
                lift_of[(item.product_id, add_weeks(promotion.start_week, k))] = real
            for k in range(1, 3):
                dip_of[(item.product_id, add_weeks(promotion.end_week, k))] = -0.12 / k
    rows = []
    for product in products:
        base, peak, amplitude = FAMILY_PROFILE.get(product.product_line.name, (1000, 26, 0.3))
        size = product.sku.split("-")[2]
        level = base * (0.6 if size in ("15", "20") else 1.0) * rng.uniform(0.5, 1.5)
        trend = rng.uniform(-0.002, 0.004)  # per week
        discontinued = product.lifecycle == Product.Lifecycle.DISCONTINUED
        for k in range(HISTORY_WEEKS):
            week = add_weeks(first_week, k)
            if discontinued and k > HISTORY_WEEKS - 20:
                break
            expected = level * (1 + trend * k) * _seasonal(week, peak, amplitude)
            expected *= 1 + lift_of.get((product.pk, week), 0) + dip_of.get((product.pk, week), 0)
            units = max(0, int(rng.gauss(expected, expected * 0.08)))
            rows.extend(_channel_rows(product, week, units, split_rng))
    SalesActual.objects.bulk_create(rows, batch_size=5000)
    return {"rows": len(rows), "created": len(rows)}


@transaction.atomic
def seed_backtest() -> int:
    """The forecasts as they were made each of the last 13 weeks (one week ahead), with a
    few marketing adjustments, so accuracy and forecast value added can be shown."""
    this_week = current_week()
    first = add_weeks(this_week, -BACKTEST_WEEKS)
    if DemandForecast.objects.filter(week__lt=this_week).exists():
        return 0
    products = list(
        Product.objects.exclude(lifecycle=Product.Lifecycle.DISCONTINUED)
        .exclude(lifecycle=Product.Lifecycle.CONCEPT)
        .order_by("pk")
    )
    rng = random.Random(99)  # noqa: S311 - demo data
    marketing = demo_user(roles.MARKETING)
    written = 0
    for k in range(BACKTEST_WEEKS):
        week = add_weeks(first, k)
        run = ForecastRun.objects.create(
            trigger=f"Weekly forecast made before {week:%d %b %Y}",
            horizon_weeks=1,
            first_week=week,
            products_count=len(products),
            parameters={"backtest": True},
        )
        history = load_history(products, end_week=week, weeks=HISTORY_WEEKS)
        # As the forecaster does: a product sold per channel is forecast per channel, its
        # baseline the sum of its channels'.
        result, baselines, _, by_channel = forecast_history(
            history, 1, products=len(history.product_ids)
        )
        channel_rows = []
        if by_channel is not None:
            channel_rows = [
                ChannelForecast(
                    product_id=history.product_ids[i],
                    channel=channel,
                    week=week,
                    run=run,
                    baseline=round(float(mean), 3),
                    final=round(float(mean), 3),
                )
                for i, channel, mean in zip(
                    by_channel.rows.tolist(),
                    by_channel.channels,
                    by_channel.baseline[:, 0],
                    strict=True,
                )
            ]
        actual = {pk: units for pk, _, units in weekly_sales(week=week, product__in=products)}
        rows = []
        for i, pk in enumerate(history.product_ids):
            baseline = float(baselines[i, 0])
            adjustment = 0.0
            if rng.random() < 0.12 and pk in actual:
                # Marketing knew something: mostly right, sometimes wrong.
                gap = actual[pk] - baseline
                adjustment = round(
                    gap * rng.uniform(0.3, 0.9) if rng.random() < 0.7 else -gap * 0.5
                )
                MarketingAdjustment.objects.get_or_create(
                    product_id=pk,
                    week=week,
                    defaults={
                        "units": int(adjustment) or 1,
                        "reason": rng.choice(
                            [
                                "Retailer confirmed extra shelf space",
                                "Competitor out of stock",
                                "Heat wave forecast",
                                "Store reset delayed",
                            ]
                        ),
                        "created_by": marketing,
                    },
                )
            rows.append(
                DemandForecast(
                    product_id=pk,
                    week=week,
                    run=run,
                    baseline=round(baseline, 3),
                    adjustment=adjustment,
                    final=round(max(0.0, baseline + adjustment), 3),
                    method=str(result.method[i]),
                )
            )
        DemandForecast.objects.bulk_create(rows)
        ChannelForecast.objects.bulk_create(channel_rows)
        run.status = ForecastRun.Status.DONE
        run.rows_written = len(rows)
        run.finished_at = run.started_at
        run.save(update_fields=["status", "rows_written", "finished_at"])
        written += len(rows)
    return written


BLITZ = "Juice shelf blitz: litre cartons"
LIME_ONLINE = "Sparkling lime online week"
HIBISCUS = "Hibiscus cooler spring deal"
NATURAL_ONLINE = "Natural water online week"


def seed_upcoming_promotions() -> list[Promotion]:
    """The promotions that drive the demo's story: a big iced-tea push that the bottling
    line can only supply by building ahead, a sports-drinks deal right after a canning
    shutdown that stays short, a hibiscus-cooler spring deal whose pre-build the cooler's
    short shelf life holds down, a draft marketing is still thinking about, and two drafts
    for the money view: a juice deal that looks good in units but loses money once the
    juices it displaces on Carton 3 are counted, and a sparkling-water week that pays."""
    from demand.services.promotions import promotion_create

    marketing = demo_user(roles.MARKETING)
    this_week = current_week()
    plans = [
        (
            "Winter warm-up: iced tea 2 for 1",
            Promotion.Status.CONFIRMED,
            Decimal("30"),
            7,
            3,
            {"TEA-LEM-05": 150, "TEA-PEA-05": 140, "TEA-GREMIN-05": 130, "TEA-MAN-05": 140},
        ),
        (
            "New year fitness: sports drinks",
            Promotion.Status.PLANNED,
            Decimal("25"),
            11,
            2,
            {"SPT-CIT-50": 120, "SPT-BLUICE-50": 110, "SPT-TRO-50": 110},
        ),
        (
            "Spring juice festival",
            Promotion.Status.DRAFT,
            Decimal("15"),
            16,
            2,
            {"JCE-ORA-10": 30, "JCE-APP-10": 25},
        ),
        # The money view's pair. Litre cartons fly off the shelf at 10 % off, but Carton 3
        # is still catching up on the rush order: the extra hours come out of the 2-litre
        # cartons, whose lost margin is more than the promotion earns.
        (
            BLITZ,
            Promotion.Status.DRAFT,
            Decimal("10"),
            5,
            3,
            {"JCE-ORA-10": 90, "JCE-APP-10": 90, "JCE-MUL-10": 80},
        ),
        # The hibiscus cooler keeps six weeks: what Bottling 1 builds ahead for it may be
        # at most two weeks' demand, so the plan builds it late and the other teas early.
        # Production's answer says which weeks sit at the shelf-life limit.
        (
            HIBISCUS,
            Promotion.Status.PLANNED,
            Decimal("25"),
            19,
            3,
            {"TEA-HIB-15": 150, "TEA-HIB-05": 120},
        ),
        # Canning 2 has hours to spare in late spring: the lift is margin. A light
        # discount: the dip the line's waters learned after their deals (-10 % for two
        # weeks) costs too, and at 10 % off the week would no longer pay.
        (
            LIME_ONLINE,
            Promotion.Status.DRAFT,
            Decimal("6"),
            18,
            2,
            {"SPW-LIM-33": 60, "SPW-GRA-33": 50},
        ),
    ]
    # The natural can sells per channel (CHANNEL_SHARES): a promotion in its online shop
    # lifts the online part of its demand only, as its forecast and quota explanation say.
    plans.append(
        (NATURAL_ONLINE, Promotion.Status.PLANNED, Decimal("15"), 9, 1, {"SPW-NAT-33": 40})
    )
    created = []
    for name, status, discount, starts_in, weeks, lifts in plans:
        if Promotion.objects.filter(name=name).exists():
            continue
        items = [
            {"product": Product.objects.get(sku=sku), "expected_lift_pct": Decimal(lift)}
            for sku, lift in lifts.items()
            if Product.objects.filter(sku=sku).exists()
        ]
        created.append(
            promotion_create(
                actor=marketing,
                name=name,
                channel=Promotion.Channel.ONLINE
                if name in (LIME_ONLINE, NATURAL_ONLINE)
                else Promotion.Channel.RETAIL,
                discount_pct=discount,
                start_week=add_weeks(this_week, starts_in),
                end_week=add_weeks(this_week, starts_in + weeks - 1),
                status=status,
                items=items,
                notes="Demo promotion.",
            )
        )
    return created


def seed_history_part(say) -> None:
    sales = seed_sales()
    say(f"Weekly sales rows: {sales['rows']} ({sales['created']} new).")
    say(f"Past forecasts for accuracy: {seed_backtest()} new rows.")


def seed_promotions_part(say) -> None:
    say(f"Upcoming promotions: {len(seed_upcoming_promotions())} new.")


# A new flavour forecast from two like products, and the new peach recipe taking over the
# old one's demand.
LAUNCH_SKU = "TEA-WAT-05"
LAUNCH_LIKES = [("TEA-MAN-05", "0.6"), ("TEA-HIB-05", "0.4")]


@transaction.atomic
def seed_launches() -> list[str]:
    """The launch of a new flavour and the successor of the old peach recipe."""
    done = []
    marketing, production = demo_user(roles.MARKETING), demo_user(roles.PRODUCTION)
    this_week = current_week()
    like = Product.objects.filter(sku=LAUNCH_LIKES[0][0]).first()
    if like is not None and not Product.objects.filter(sku=LAUNCH_SKU).exists():
        product = product_create(
            actor=demo_user(roles.ADMIN),
            sku=LAUNCH_SKU,
            name="Iced Tea Watermelon 500 ml bottle",
            product_line=like.product_line,
            lifecycle=Product.Lifecycle.CONCEPT,
            quality_tier=like.quality_tier,
            unit_price=like.unit_price,
            unit_cost=like.unit_cost,
            production_line=like.production_line,
            lead_time_weeks=like.lead_time_weeks,
            minimum_batch=like.minimum_batch,
            batch_size=like.batch_size,
            shelf_life_weeks=like.shelf_life_weeks,
            min_remaining_life_weeks=like.min_remaining_life_weeks,
        )
        seed_price_history()  # the same price rows as every product (a re-run adds none)
        like_spec = current_specification(like)
        specification_record_initial(
            actor=production,
            product_id=product.pk,
            effective_from=this_week,
            rationale="Launch specification: a summer flavour.",
            colours=["Watermelon label", "White cap"],
            package_sizes=list(like_spec.package_sizes) if like_spec else [],
            features=["Less sugar", "Vegan"],
            materials=["PET bottle, 50% recycled", "Paper label"],
        )
        launch_plan_set(
            actor=marketing,
            product=product,
            launch_week=add_weeks(this_week, 4),
            launch_volume=1500,
            ramp_weeks=8,
            ramp_shape=LaunchPlan.RampShape.S_CURVE,
            likes=LAUNCH_LIKES,
            expected_version=0,
        )
        done.append(f"{LAUNCH_SKU} launches in 4 weeks")
    old = Product.objects.filter(sku="TEA-PEA-05").first()
    if old is not None and not Succession.objects.filter(product=old).exists():
        succession_set(
            actor=marketing,
            product=old,
            successor_sku="TEA-PEAV2-05",
            switch_week=add_weeks(this_week, 6),
            expected_version=0,
        )
        done.append("TEA-PEA-05 hands over to TEA-PEAV2-05 in 6 weeks")
    return done


def seed_launches_part(say) -> None:
    say(f"Launches and successors: {'; '.join(seed_launches()) or 'already there'}.")


def seed_share_prior_part(say) -> None:
    """The company's sibling-share prior, as the nightly re-plan would store it, before
    the plan (order 50) forecasts with it."""
    fit = share_prior_refresh()
    if fit.zero is None:
        say(f"Share prior: none ({fit.lines} product lines, {fit.pairs} pairs: per-line rule).")
    else:
        say(f"Share prior: fitted to {fit.pairs} pairs of {fit.lines} product lines.")


def register_demo_parts() -> None:
    demo_registry.register("demand: sales history", seed_history_part, order=20)
    demo_registry.register("demand: launches and successors", seed_launches_part, order=25)
    demo_registry.register("demand: upcoming promotions", seed_promotions_part, order=40)
    demo_registry.register("demand: share prior", seed_share_prior_part, order=45)
