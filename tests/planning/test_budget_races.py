"""Two planners save the same budget cell at once, for real (threads with their own
PostgreSQL connections): exactly one save wins, the other is a conflict that writes
nothing, whether the cell existed (the row lock orders them) or not (the unique
constraint does). SQLite serializes whole transactions: skipped there."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from planning.models import Budget
from planning.services import BudgetCell, BudgetConflict, budget_grid_save
from tests.factories import ProductLineFactory

pytestmark = pytest.mark.django_db(transaction=True)

JAN = dt.date(2027, 1, 1)


@pytest.fixture(autouse=True)
def _postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("Real concurrent writers need PostgreSQL (set DATABASE_URL).")


def _race(saves) -> list[str]:
    start = threading.Barrier(len(saves), timeout=15)
    outcomes: list[str] = []

    def run(save):
        try:
            start.wait()
            save()
            outcomes.append("saved")
        except BudgetConflict:
            outcomes.append("conflict")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(save,)) for save in saves]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)
        assert not thread.is_alive(), "a save hung"
    return sorted(outcomes)


@pytest.mark.parametrize("exists", [True, False])
def test_two_saves_of_one_cell_at_once_one_wins(make_user, exists):
    petra, ada = make_user("Production", username="petra"), make_user("Admin", username="ada")
    teas = ProductLineFactory(name="Iced teas")
    seen = 0
    if exists:
        Budget.objects.create(
            product_line=teas, month=JAN, revenue=Decimal("1.00"), units=1, updated_by=petra
        )
        seen = 1
    saves = [
        lambda user=user, value=value: budget_grid_save(
            actor=user, cells=[BudgetCell(teas.pk, JAN, Decimal(value), int(value), seen)]
        )
        for user, value in ((petra, "10"), (ada, "20"))
    ]
    assert _race(saves) == ["conflict", "saved"]
    budget = Budget.objects.get()
    assert (budget.revenue, budget.units) in {(Decimal("10.00"), 10), (Decimal("20.00"), 20)}
    assert budget.version == (2 if exists else 1)
