"""Reads for the planning review: the signed parts of a cycle and their fingerprints,
the sign-off state, cycles waiting for a sign-off, decisions and action items.

The snapshot a cycle discusses is built in planning_snapshot; the report and the what-if
comparison are read in planning_report."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from coordination.models import Department
from planning.models import (
    CycleAdjustment,
    CycleDecision,
    PlanningCycle,
    PlanningScenario,
    PlanningSnapshot,
    SignedPart,
)

VOICE_DAYS = 90
DEFAULT_ACCURACY_WEEKS = 4
NO_LINE = "No production line"

# Who signs which part, and the permission that lets them.
PART_DEPARTMENT = {
    SignedPart.DEMAND: Department.MARKETING,
    SignedPart.SUPPLY: Department.PRODUCTION,
    SignedPart.ORDERS: Department.SALES,
}
PART_PERMISSION = {
    SignedPart.DEMAND: "planning.sign_demand",
    SignedPart.SUPPLY: "planning.sign_supply",
    SignedPart.ORDERS: "planning.sign_orders",
}
# What each part is called in a sentence.
PART_NOUN = {
    SignedPart.DEMAND: "demand",
    SignedPart.SUPPLY: "supply",
    SignedPart.ORDERS: "firm orders and key commitments",
}
# The snapshot figure an adjustment of each part changes, and its unit.
PART_FIGURE = {
    SignedPart.DEMAND: ("final", "units"),
    SignedPart.SUPPLY: ("capacity_hours", "hours"),
    SignedPart.ORDERS: ("firm", "units"),
}


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_label(value: str | dt.date) -> str:
    day = dt.date.fromisoformat(value) if isinstance(value, str) else value
    return day.strftime("%b %Y")


def rounded(value: float, digits: int = 0) -> float | int:
    rounded = round(float(value), digits)
    return int(rounded) if digits == 0 else rounded


# ------------------------------------------------------------------ signed parts


def latest_snapshot(cycle: PlanningCycle) -> PlanningSnapshot | None:
    return cycle.snapshots.order_by("-number").first()


def adjustments_of(cycle: PlanningCycle) -> list[CycleAdjustment]:
    return list(cycle.adjustments.select_related("line", "created_by").order_by("id"))


def part_hash(snapshot: PlanningSnapshot, part: str, adjustments) -> str:
    """The fingerprint of a signed part: its snapshot section and its adjustments."""
    own = [
        [a.line_id, a.month.isoformat(), a.amount, a.reason]
        for a in sorted(adjustments, key=lambda a: a.pk)
        if a.part == part
    ]
    text = json.dumps(
        {"first_week": snapshot.first_week.isoformat(), "part": snapshot.data[part], "adj": own},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(text.encode()).hexdigest()


ALL_LINES = "All lines"


def part_rows(snapshot: PlanningSnapshot, part: str, adjustments) -> list[dict]:
    """The part's line x month rows with the meeting's adjustments and the agreed figure.

    An adjustment of one line's month lands on its row; one for all lines gets a row of
    its own (its snapshot figures empty), so the agreed figures still add up."""
    figure, unit = PART_FIGURE[part]
    digits = 1 if unit == "hours" else 0
    extra: dict[tuple, int] = defaultdict(int)
    for a in adjustments:
        if a.part == part:
            extra[(a.line_id or ALL_LINES, a.month.isoformat())] += a.amount
    rows = []
    snapshot_rows = snapshot.data[part]["rows"]
    for row in snapshot_rows:
        amount = extra.pop((row["line_id"], row["month"]), 0)
        rows.append({**row, "adjusted": amount, "agreed": rounded(row[figure] + amount, digits)})
    line_names = {line["id"]: line["name"] for line in snapshot.data["lines"]}
    blank = dict.fromkeys(snapshot_rows[0] if snapshot_rows else [figure])
    leftovers = sorted(extra.items(), key=lambda kv: (str(kv[0][0]), kv[0][1]))
    for (line_key, month), amount in leftovers:
        line_id = None if line_key == ALL_LINES else line_key
        rows.append(
            {
                **blank,
                "line_id": line_id,
                "line": ALL_LINES if line_id is None else line_names.get(line_id, NO_LINE),
                "month": month,
                "adjusted": amount,
                "agreed": amount,
            }
        )
    for row in rows:
        row["month_label"] = month_label(row["month"])
    return rows


def sign_off_state(cycle: PlanningCycle, snapshot=None, adjustments=None) -> list[dict]:
    """Per signed part: who signs it, the sign-off if any, and whether it still matches."""
    snapshot = snapshot or latest_snapshot(cycle)
    adjustments = adjustments if adjustments is not None else adjustments_of(cycle)
    given = {s.part: s for s in cycle.sign_offs.select_related("signed_by")}
    state = []
    for part in SignedPart:
        current = part_hash(snapshot, part, adjustments) if snapshot else ""
        sign_off = given.get(part)
        state.append(
            {
                "part": part.value,
                "label": part.label,
                "noun": PART_NOUN[part],
                "department": PART_DEPARTMENT[part].value,
                "department_label": PART_DEPARTMENT[part].label,
                "permission": PART_PERMISSION[part],
                "hash": current,
                "sign_off": sign_off,
                "fresh": sign_off is not None and sign_off.part_hash == current,
                "stale": sign_off is not None and sign_off.part_hash != current,
            }
        )
    return state


# ------------------------------------------------------------------ cycles, items


def cycle_list(*, status: str = "", awaiting_department: str = "") -> QuerySet[PlanningCycle]:
    cycles = PlanningCycle.objects.select_related("opened_by").annotate(
        open_actions=Count(
            "decisions",
            filter=Q(decisions__kind=CycleDecision.Kind.ACTION, decisions__status="open"),
        ),
        signed=Count("sign_offs", distinct=True),
    )
    if status:
        cycles = cycles.filter(status=status)
    if awaiting_department:
        cycles = cycles.filter(status=PlanningCycle.Status.IN_REVIEW)
        waiting = [c.pk for c in cycles if awaiting_department in departments_to_sign(c)]
        cycles = cycles.filter(pk__in=waiting)
    return cycles.order_by("-period_start")


def departments_to_sign(cycle: PlanningCycle) -> set[str]:
    """Departments whose sign-off the cycle is waiting for (missing or stale)."""
    if cycle.status != PlanningCycle.Status.IN_REVIEW:
        return set()
    return {row["department"] for row in sign_off_state(cycle) if not row["fresh"]}


def cycles_awaiting(user) -> list[PlanningCycle]:
    """Cycles in review waiting for a sign-off the user may give."""
    cycles = []
    for cycle in PlanningCycle.objects.filter(status=PlanningCycle.Status.IN_REVIEW):
        for row in sign_off_state(cycle):
            if not row["fresh"] and user.has_perm(row["permission"]):
                cycles.append(cycle)
                break
    return cycles


def cycle_detail(pk: int) -> PlanningCycle:
    return PlanningCycle.objects.select_related("opened_by", "closed_by", "previous").get(pk=pk)


def cycle_items(cycle: PlanningCycle) -> QuerySet[CycleDecision]:
    return cycle.decisions.select_related(
        "cycle", "owner", "product", "promotion", "line", "created_by"
    ).order_by("kind", "status", "due_date", "id")


def carried_actions(cycle: PlanningCycle) -> QuerySet[CycleDecision]:
    """Action items of earlier cycles still open: they come back on this one."""
    return (
        CycleDecision.objects.filter(
            kind=CycleDecision.Kind.ACTION,
            status=CycleDecision.Status.OPEN,
            cycle__period_start__lt=cycle.period_start,
        )
        .select_related("cycle", "owner", "product", "promotion", "line")
        .order_by("due_date", "id")
    )


def action_items(*, owner=None, department: str = "", status: str = "open", overdue=False):
    items = CycleDecision.objects.filter(kind=CycleDecision.Kind.ACTION).select_related(
        "cycle", "owner", "product", "promotion", "line"
    )
    if owner is not None:
        items = items.filter(owner=owner)
    if department:
        items = items.filter(department=department)
    if status:
        items = items.filter(status=status)
    if overdue:
        items = items.filter(status="open", due_date__lt=timezone.localdate())
    return items.order_by("due_date", "id")


def scenarios_of(cycle: PlanningCycle) -> QuerySet[PlanningScenario]:
    return cycle.scenarios.select_related("line", "created_by").order_by("-created_at", "-id")
