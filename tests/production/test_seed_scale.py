"""seed_scale: a large company written in bulk into a database without products."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count, F, Sum

from coordination.models import Line, Product, ProductLine, ProductPrice
from coordination.weeks import add_weeks, current_week
from demand.models import Promotion, PromotionItem, SalesActual
from production.models import InventoryPosition, RunRate, ScheduleEntry, ScheduleRevision
from production.scale_seed import SeedRefused, seed_scale
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

TABLES = (
    Line,
    ProductLine,
    Product,
    ProductPrice,
    RunRate,
    Promotion,
    PromotionItem,
    SalesActual,
    InventoryPosition,
    ScheduleRevision,
    ScheduleEntry,
)


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in TABLES}


def test_the_command_writes_the_whole_company():
    call_command("seed_scale", "--products", "90", "--lines", "3", "--weeks", "10", "--seed", "3")

    assert counts() == {
        "Line": 3,
        "ProductLine": 1,
        "Product": 90,
        "ProductPrice": 90,
        "RunRate": 90,
        "Promotion": 2,
        "PromotionItem": 16,
        "SalesActual": 900,
        "InventoryPosition": 90,
        "ScheduleRevision": 3,
        "ScheduleEntry": 90 * 26,
    }
    this_week = current_week()
    history = SalesActual.objects.values("week").annotate(n=Count("id")).order_by("week")
    assert [(row["week"], row["n"]) for row in history] == [
        (add_weeks(this_week, k - 10), 90) for k in range(10)
    ]
    # Every product: 26 current accepted weeks from this week, on its own line, in the
    # revision of that line.
    entries = ScheduleEntry.objects.filter(superseded_at__isnull=True)
    assert entries.count() == 90 * 26
    assert not entries.exclude(line_id=F("product__production_line_id")).exists()
    assert set(entries.values_list("week", flat=True)) == {
        add_weeks(this_week, k) for k in range(26)
    }
    per_revision = entries.values("revision__id", "line_id").annotate(n=Count("id"))
    assert sorted(row["n"] for row in per_revision) == [30 * 26] * 3
    assert entries.filter(kind="accepted", units=F("recommended_units")).count() == 90 * 26
    assert Product.objects.filter(production_line__isnull=True).count() == 0


def test_the_accepted_schedule_fits_every_line_and_week():
    seed_scale(products=120, lines=4, history_weeks=8, seed=5)

    rates = dict(RunRate.objects.values_list("product_id", "hours_per_unit"))
    load: dict[tuple[int, dt.date], Decimal] = {}
    for product_id, line_id, week, units in ScheduleEntry.objects.values_list(
        "product_id", "line_id", "week", "units"
    ):
        load[line_id, week] = load.get((line_id, week), Decimal(0)) + units * rates[product_id]
    capacity = dict(Line.objects.values_list("id", "weekly_capacity_hours"))
    assert len(load) == 4 * 26
    assert all(hours <= capacity[line_id] for (line_id, _), hours in load.items())
    assert not ScheduleEntry.objects.filter(over_capacity_hours__gt=0).exists()


def test_the_same_seed_writes_the_same_numbers():
    def snapshot():
        return (
            list(SalesActual.objects.order_by("product__sku", "week").values_list("units")),
            list(ScheduleEntry.objects.order_by("product__sku", "week").values_list("units")),
            list(Line.objects.order_by("name").values_list("weekly_capacity_hours")),
            SalesActual.objects.aggregate(total=Sum("units"))["total"],
        )

    snapshots = []
    for _ in range(2):
        with transaction.atomic():
            seed_scale(products=40, lines=2, history_weeks=6, seed=11)
            snapshots.append(snapshot())
            transaction.set_rollback(True)
    assert snapshots[0] == snapshots[1]
    assert snapshots[0][3] > 0
    assert counts()["Product"] == 0


def test_a_database_with_products_is_refused_and_left_alone():
    ProductFactory(sku="BEV-1001")
    before = counts()

    with pytest.raises(CommandError, match=r"already holds products .* pass --force"):
        call_command("seed_scale", "--products", "20", "--lines", "2", "--weeks", "4")

    assert counts() == before


def test_force_adds_the_company_beside_existing_products_once():
    ProductFactory(sku="BEV-1001")

    call_command("seed_scale", "--products", "20", "--lines", "2", "--weeks", "4", "--force")
    assert Product.objects.count() == 21
    seeded = counts()

    with pytest.raises(CommandError, match="already holds a seeded company"):
        call_command("seed_scale", "--products", "20", "--lines", "2", "--weeks", "4", "--force")
    assert counts() == seeded


@pytest.mark.parametrize(
    ("products", "lines", "weeks"), [(0, 1, 4), (5, 0, 4), (2, 3, 4), (5, 1, 0)]
)
def test_sizes_that_make_no_company_are_refused(products, lines, weeks):
    with pytest.raises(SeedRefused, match="at least one product and line"):
        seed_scale(products=products, lines=lines, history_weeks=weeks)
    assert counts() == dict.fromkeys(counts(), 0)
