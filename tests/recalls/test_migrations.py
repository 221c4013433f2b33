"""recalls 0002 makes a lot unique per product and incident; a database that already
recorded the same lot several times is tidied first, so the migration cannot fail."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from recalls.models import AffectedLot, RecallIncident
from recalls.services import incidents

BEFORE = [("recalls", "0001_initial")]
AFTER = [("recalls", "0002_lots_once_per_product_and_incident")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


@pytest.mark.django_db(transaction=True)
def test_duplicate_lots_are_tidied_before_the_constraint(quality_user, tea, mint):
    incident = incidents.recall_open(
        actor=quality_user,
        product_ids=[tea.pk, mint.pk],
        title="Loose caps",
        classification=RecallIncident.Classification.CLASS_II,
        hazard="The tea may ferment.",
        source=RecallIncident.Source.INTERNAL_TEST,
    )
    week = dt.date(2026, 1, 5)
    _migrate(BEFORE)
    try:
        rows = [
            (tea, "L-1", None, 10),
            (tea, "L-1", None, 10),  # the same fact again: deleted
            (tea, "L-1", None, 10),
            (tea, "L-1", None, 12),  # other units: kept, marked for review
            (mint, "L-1", None, 10),  # another product: another lot
            (tea, "", week, 5),
            (tea, "", week, 5),  # the same week again: deleted
        ]
        ids = [
            AffectedLot.objects.create(
                incident=incident, product=p, lot_code=c, production_week=w, units=u
            ).pk
            for p, c, w, u in rows
        ]
    finally:
        _migrate(AFTER)

    assert list(
        AffectedLot.objects.order_by("id").values_list("id", "product__sku", "lot_code", "units")
    ) == [
        (ids[0], "TEA-LEM-05", "L-1", 10),
        (ids[3], "TEA-LEM-05", f"L-1 (#{ids[3]})", 12),
        (ids[4], "TEA-MNT-01", "L-1", 10),
        (ids[5], "TEA-LEM-05", "", 5),
    ]
