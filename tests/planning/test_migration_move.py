"""Issue 14 moved the planning review to its own app and production lines to coordination,
in Django's state only. A database at the last migrations before the move, with the demo
loaded, must migrate to the head with every row kept and every link intact."""

from __future__ import annotations

import hashlib
from io import StringIO

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from coordination.models import ActivityEvent, Line, User
from planning.models import PlanningCycle

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the migration test runs on PostgreSQL (CI)"
    ),
]

# The last migration of each app before the move; planning did not exist.
BEFORE_THE_MOVE = [
    ("coordination", "0007_idempotency_keys"),
    ("production", "0005_recompute_run_heartbeat"),
    ("planning", None),
]
MOVED_TABLES = (
    "production_line",
    "coordination_planningcycle",
    "coordination_planningsnapshot",
    "coordination_cyclesignoff",
    "coordination_cycleadjustment",
    "coordination_cycledecision",
    "coordination_planningscenario",
)
MOVED = {
    ("production", "line"): ("coordination", "line"),
    **{
        ("coordination", model): ("planning", model)
        for model in (
            "planningcycle",
            "planningsnapshot",
            "cyclesignoff",
            "cycleadjustment",
            "cycledecision",
            "planningscenario",
        )
    },
}


def migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    ContentType.objects.clear_cache()


def row_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        counts = {}
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT COUNT(*) FROM "{table}"')  # noqa: S608 - table names
            counts[table] = cursor.fetchone()[0]
    return counts


def moved_columns() -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        return {
            table: [c.name for c in connection.introspection.get_table_description(cursor, table)]
            for table in MOVED_TABLES
        }


def fingerprint(columns: dict[str, list[str]]) -> str:
    """A hash of every row of every moved table, in primary key order: the columns they
    had before the move (later migrations may add some)."""
    digest = hashlib.sha256()
    with connection.cursor() as cursor:
        for table in MOVED_TABLES:
            names = ", ".join(f'"{name}"' for name in columns[table])
            cursor.execute(f'SELECT {names} FROM "{table}" ORDER BY id')  # noqa: S608 - fixed names
            digest.update(repr(cursor.fetchall()).encode())
    return digest.hexdigest()


def content_type_ids() -> dict[tuple[str, str], int]:
    return {(ct.app_label, ct.model): ct.pk for ct in ContentType.objects.all()}


def plan_line_holders() -> list[tuple[str, str, str]]:
    return sorted(
        (perm.content_type.app_label, perm.content_type.model, group.name)
        for perm in Permission.objects.filter(codename="plan_line").select_related("content_type")
        for group in perm.group_set.all()
    )


def test_a_database_from_before_the_move_migrates_forward_with_every_row_kept():
    call_command("seed_demo", allow_production=True, stdout=StringIO())
    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    migrate(BEFORE_THE_MOVE)
    columns = moved_columns()
    before_counts, before_print = row_counts(), fingerprint(columns)
    before_types = content_type_ids()
    # Before the move the content types carry the old app labels.
    assert set(MOVED) <= set(before_types)
    assert not set(MOVED.values()) & set(before_types)
    assert plan_line_holders() == [
        ("production", "line", "Admin"),
        ("production", "line", "Production"),
    ]

    # The move's three migrations and whatever was added after them, each recorded once.
    forward = len(MigrationExecutor(connection).migration_plan(leaves))
    assert forward >= 3
    migrate(leaves)

    after_counts = row_counts()
    assert after_counts.pop("django_migrations") == before_counts.pop("django_migrations") + forward
    # The price history (coordination 0012) starts with one row per product.
    assert after_counts.pop("coordination_productprice") == before_counts["coordination_product"]
    # Budgets (planning 0002), launch plans and successions (demand 0003), calendar feeds
    # (coordination 0013), the e-mail outbox and choices (coordination 0014), channel
    # forecasts (demand 0004) and the share prior's fits (demand 0008) came after the
    # move: the tables are new and empty.
    new_tables = (
        "planning_budget",
        "demand_launchplan",
        "demand_likeproduct",
        "demand_succession",
        "demand_channelforecast",
        "demand_sharepriorfit",
        "coordination_calendarfeed",
        "coordination_emailnotification",
        "coordination_emailpreference",
    )
    assert [after_counts.pop(table) for table in new_tables] == [0] * len(new_tables)
    assert after_counts == before_counts
    assert all(before_counts[table] for table in MOVED_TABLES)  # the demo filled each one
    assert fingerprint(columns) == before_print
    # Each moved model kept its content type row (same id), under its new app label.
    after_types = content_type_ids()
    for old, new in MOVED.items():
        assert after_types[new] == before_types[old]
    assert not set(MOVED) & set(after_types)
    # The quota permission kept its name and its holders, now on ScheduleEntry.
    assert plan_line_holders() == [
        ("production", "scheduleentry", "Admin"),
        ("production", "scheduleentry", "Production"),
    ]
    assert User.objects.get(username="production").has_perm("production.plan_line")
    # Generic links follow: the agreed cycle's timeline still finds its cycle.
    cycle = PlanningCycle.objects.order_by("period_start").first()  # the agreed one
    events = ActivityEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(PlanningCycle), object_id=cycle.pk
    )
    assert events.exists()
    assert all(event.target == cycle for event in events)
    assert Line.objects.count() == 3
