"""What the planning services share: permissions, locking a cycle, status changes."""

from __future__ import annotations

from decimal import Decimal

from coordination.services.activity import activity_record
from coordination.services.locking import UNCHECKED, lock_for_edit, save_new_version
from planning.models import PlanningCycle

MANAGE = "planning.manage_planning_cycle"
RECORD = "planning.record_cycle_decision"
SCENARIO = "planning.run_planning_scenario"
MAX_TEXT = 2000
MAX_ADJUSTMENT = 10_000_000
MAX_EXTRA_HOURS = Decimal("168")
MAX_PERIOD_DAYS = 92


def lock_cycle(cycle_id: int, expected_version=UNCHECKED) -> PlanningCycle:
    """The cycle, locked. Sign-offs and decisions check their own fingerprints and
    leave the version unchecked; the cycle's actions pass the version the person saw."""
    return lock_for_edit(PlanningCycle.objects.all(), cycle_id, expected_version)


def transition(cycle: PlanningCycle, actor, to: str, message: str, fields: list[str]) -> None:
    before = cycle.status
    cycle.status = to
    save_new_version(cycle, ["status", *fields])
    activity_record(
        target=cycle,
        actor=actor,
        verb="transitioned",
        message=message,
        data={"from": before, "to": to},
    )
