"""The demo review shows the plan against the budget: budgets for every product line and
month of this year and the next, in the snapshot of the cycle in review, with Carton 3's
capacity gap valued."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from coordination.models import ProductLine
from planning.demo import seed_budgets
from planning.models import Budget, PlanningCycle
from planning.selectors.report import report

pytestmark = pytest.mark.django_db


def test_demo_review_holds_the_plan_against_budgets():
    call_command("seed_demo", allow_production=True, stdout=StringIO())
    year = timezone.localdate().year
    lines = ProductLine.objects.count()
    assert lines == 4
    assert Budget.objects.count() == lines * 24
    assert {b.month.year for b in Budget.objects.all()} == {year, year + 1}
    assert all(b.units % 100 == 0 and b.revenue % 100 == 0 for b in Budget.objects.all())
    for budget in Budget.objects.all():
        budget.full_clean()
    assert seed_budgets() == 0  # re-runnable: nothing new
    cycle = PlanningCycle.objects.filter(status="in_review").get()
    money = report(cycle)["money"]
    assert {r["product_line"] for r in money["rows"]} == set(
        ProductLine.objects.values_list("name", flat=True)
    )
    assert all(r["has_budget"] and r["plan_revenue"] is not None for r in money["rows"])
    # Waters are budgeted cautiously (the plan beats them); sports drinks ambitiously.
    waters = [r for r in money["rows"] if r["product_line"] == "Sparkling Water"]
    sports = [r for r in money["rows"] if r["product_line"] == "Sports Drinks"]
    assert all(r["gap_revenue"] > 0 for r in waters)
    assert all(r["gap_revenue"] < 0 for r in sports)
    carton = [g for g in money["gaps"] if g["line"] == "Carton 3"]
    assert len(carton) == 1 and carton[0]["margin_cents"] > 0
    assert carton[0]["sentence"].startswith("Closing Carton 3's gap with ")
    assert carton[0]["sentence"].endswith(" more units sold).")
