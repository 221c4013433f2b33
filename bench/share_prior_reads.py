"""What one product line's reader of the sibling shares pays once the measures are stale.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tandem \\
        .venv/bin/python bench/share_prior_reads.py [--lines 100] [--products-per-line 50]

Its own database (`tandem_bench_prior`, or --database; bench/_database.py), dropped at
the end. Built in bulk: --lines product lines of --products-per-line products, 104 weeks
of sales each (100 a week, 10 % noise) and 8 finished confirmed promotions per line, each on one of
its first two products alone (+50 % those weeks; its third and fourth products lose 15 %
of the extra units, the others nothing), so every line has sibling pairs to learn. Each
measure starts with stale measures (both caches cleared, as after a sales import or
MEASURES_CACHE_SECONDS):

- the suggestion for one product (suggest_lift: its line measured, the stored prior read);
- learned_shares of that line (what a forecast of it reads);
- the same suggestion as before the prior was stored: suggest_lift, then every line's
  measures read (measured: they are stale) and the prior fitted to them, the work the
  previous company_share_prior did inside it;
- the refresh (share_prior_refresh: every line measured and the prior fitted), what the
  nightly re-plan now does once.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._database import bench_database


def build(lines: int, per_line: int, seed: int = 7) -> list[int]:
    from django.contrib.auth import get_user_model

    from coordination.models import Line, Product, ProductLine
    from coordination.weeks import add_weeks, current_week
    from demand.models import Promotion, PromotionItem, SalesActual

    rng = random.Random(seed)
    user = get_user_model().objects.create(username="bench")
    line = Line.objects.create(name="Bench line", weekly_capacity_hours=Decimal("100.0"))
    families = ProductLine.objects.bulk_create(
        ProductLine(name=f"Family {i}") for i in range(lines)
    )
    products = Product.objects.bulk_create(
        Product(
            sku=f"B-{f:03d}-{k:03d}",
            name=f"Product {f}-{k}",
            product_line=family,
            production_line=line,
            unit_price=Decimal("2.00"),
            unit_cost=Decimal("1.20"),
            lead_time_weeks=1,
        )
        for f, family in enumerate(families)
        for k in range(per_line)
    )
    this_week = current_week()
    weeks = [add_weeks(this_week, -k) for k in range(104, 0, -1)]
    lift = {}  # (product id, week) -> factor
    promotions, items = [], []
    for f in range(lines):
        own = products[f * per_line : (f + 1) * per_line]
        for p in range(8):
            start = 12 * p + 4
            hero = own[p % 2]
            promotions.append(
                Promotion(
                    name=f"P {f}-{p}",
                    discount_pct=Decimal("20.0"),
                    start_week=weeks[start],
                    end_week=weeks[start + 1],
                    status="confirmed",
                    created_by=user,
                    updated_by=user,
                )
            )
            items.append([hero])
            for w in (start, start + 1):
                lift[(hero.pk, weeks[w])] = 1.5
                for sibling in own[2:4]:  # each loses 15 % of the hero's extra units
                    lift[(sibling.pk, weeks[w])] = 1 - 0.15 * 0.5
    promotions = Promotion.objects.bulk_create(promotions)
    PromotionItem.objects.bulk_create(
        PromotionItem(promotion=promotion, product=product, expected_lift_pct=Decimal("50.0"))
        for promotion, promoted in zip(promotions, items, strict=True)
        for product in promoted
    )
    SalesActual.objects.bulk_create(
        (
            SalesActual(
                product=product,
                week=week,
                units=max(0, round(100 * lift.get((product.pk, week), 1.0) * rng.gauss(1, 0.1))),
            )
            for product in products
            for week in weeks
        ),
        batch_size=5000,
    )
    return [product.pk for product in products]


def cold() -> None:
    from django.core.cache import caches

    caches["local"].clear()
    caches["default"].clear()


def timed(call) -> float:
    cold()
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100)
    parser.add_argument("--products-per-line", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database", default="tandem_bench_prior")
    args = parser.parse_args()
    with bench_database(args.database):
        from coordination.models import Product
        from demand.engine.pooling import fit_share_prior
        from demand.selectors import lift
        from demand.services.share_prior import share_prior_refresh

        started = time.perf_counter()
        build(args.lines, args.products_per_line)
        print(
            f"{args.lines} lines x {args.products_per_line} products built in "
            f"{time.perf_counter() - started:.1f} s"
        )
        product = Product.objects.order_by("pk").first()
        rows = {"suggestion": [], "learned_shares": [], "as before": [], "refresh": []}

        def as_before():
            lift.suggest_lift(product=product, discount_pct=20)
            fit_share_prior(lift.every_line_pairs())

        for _ in range(args.repeat):
            rows["refresh"].append(timed(share_prior_refresh))
            rows["suggestion"].append(
                timed(lambda: lift.suggest_lift(product=product, discount_pct=20))
            )
            rows["learned_shares"].append(
                timed(lambda: lift.learned_shares([product.product_line_id]))
            )
            rows["as before"].append(timed(as_before))
        fit = lift.company_share_prior()
        print(f"stored prior: {fit}")
        for name, seconds in rows.items():
            runs = ", ".join(f"{s:.3f}" for s in seconds)
            print(f"{name:15s} median {sorted(seconds)[len(seconds) // 2]:.3f} s  ({runs})")


if __name__ == "__main__":
    main()
