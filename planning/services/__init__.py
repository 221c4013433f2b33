"""The planning review's writes: open a cycle (taking its snapshot), start the review,
refresh the snapshot, adjust a signed part, sign off, close; record decisions and action
items; run what-if scenarios; save and import budgets.

Sign-off rules. Each department signs its own part (Marketing the demand, Production the
supply, Sales the firm orders). A sign-off stores the fingerprint of the part as signed;
a refresh or an adjustment that changes the part makes the sign-off stale, and the part
must be signed again. The cycle is agreed the moment every part carries a current
sign-off; from then on its numbers are closed to change.
"""

from planning.services._common import MANAGE, RECORD, SCENARIO
from planning.services.budgets import (
    EDIT_BUDGETS,
    IMPORT_BUDGETS,
    BudgetCell,
    BudgetConflict,
    budget_grid_save,
    budget_import,
)
from planning.services.cycles import (
    planning_cycle_close,
    planning_cycle_open,
    planning_cycle_refresh,
    planning_cycle_schedule_meeting,
    planning_cycle_start_review,
)
from planning.services.meeting import (
    action_item_set_status,
    cycle_decision_create,
    cycle_decision_update,
)
from planning.services.scenarios import (
    planning_scenario_run,
)
from planning.services.signoff import (
    cycle_adjustment_add,
    cycle_sign_off,
)

__all__ = [
    "EDIT_BUDGETS",
    "IMPORT_BUDGETS",
    "MANAGE",
    "RECORD",
    "SCENARIO",
    "BudgetCell",
    "BudgetConflict",
    "action_item_set_status",
    "budget_grid_save",
    "budget_import",
    "cycle_adjustment_add",
    "cycle_decision_create",
    "cycle_decision_update",
    "cycle_sign_off",
    "planning_cycle_close",
    "planning_cycle_open",
    "planning_cycle_refresh",
    "planning_cycle_schedule_meeting",
    "planning_cycle_start_review",
    "planning_scenario_run",
]
