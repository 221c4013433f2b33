"""The monthly planning review: cycles, their frozen snapshots, the departments'
sign-offs, the meeting's adjustments, decisions and action items, what-if scenarios, and
the budgets the plan is held against.

The tables keep the names they had when these models lived in coordination
(`coordination_planningcycle`, ...): the move changed no data (migration 0001)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from coordination.models import Department, Line, Product, ProductLine
from coordination.weeks import validate_monday
from demand.models import Promotion

# A review meeting lasts from a quarter of an hour to a working day.
MEETING_MINUTES = range(15, 481)


class PlanningCycle(models.Model):
    """The monthly planning review (sales and operations) in which production, marketing
    and sales agree the plan: prepared from a snapshot of Tandem's numbers, signed off by
    each department, with the decisions and action items of the meeting.

    preparing -> in review -> agreed (every department signed) -> closed (by an admin)."""

    class Status(models.TextChoices):
        PREPARING = "preparing", "Preparing"
        IN_REVIEW = "in_review", "In review"
        AGREED = "agreed", "Agreed"
        CLOSED = "closed", "Closed"

    # Statuses in which the snapshot may be retaken and numbers adjusted.
    OPEN_STATUSES = (Status.PREPARING, Status.IN_REVIEW)

    name = models.CharField(max_length=80, help_text="e.g. “December 2026”.")
    period_start = models.DateField(help_text="First day of the period the cycle plans.")
    period_end = models.DateField(help_text="Last day of the period.")
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.PREPARING, db_index=True
    )
    previous = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="next_cycles",
        help_text="The cycle before: its open action items carry over.",
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(default=timezone.now)
    review_started_at = models.DateTimeField(null=True, blank=True)
    agreed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The review meeting, in every participant's calendar feed (planning/calendar_events.py).
    meeting_at = models.DateTimeField(
        null=True, blank=True, help_text="When the review meeting starts."
    )
    meeting_minutes = models.PositiveSmallIntegerField(
        default=60, help_text="How long the meeting lasts."
    )
    meeting_place = models.CharField(
        max_length=200, blank=True, help_text="A room, or the video call's address."
    )
    meeting_scheduled_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When the meeting was last set or moved."
    )
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        db_table = "coordination_planningcycle"
        ordering = ["-period_start"]
        permissions = [
            ("manage_planning_cycle", "Can open, refresh and close planning cycles"),
            ("sign_demand", "Can sign off the demand of a planning cycle (Marketing)"),
            ("sign_supply", "Can sign off the supply of a planning cycle (Production)"),
            ("sign_orders", "Can sign off the firm orders of a planning cycle (Sales)"),
            ("record_cycle_decision", "Can record decisions and action items of a cycle"),
            ("run_planning_scenario", "Can try capacity changes as what-if scenarios"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["period_start"], name="planning_cycle_once_per_period"),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="planning_cycle_period_ordered"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["agreed", "closed"]) | Q(agreed_at__isnull=False),
                name="planning_cycle_agreed_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="closed") | Q(closed_at__isnull=False),
                name="planning_cycle_closed_has_time",
            ),
            models.CheckConstraint(
                condition=Q(meeting_minutes__gte=MEETING_MINUTES[0])
                & Q(meeting_minutes__lte=MEETING_MINUTES[-1]),
                name="planning_cycle_meeting_length",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class PlanningSnapshot(models.Model):
    """The numbers a cycle discusses, as taken at one moment. Never changed once written:
    a refresh adds a new snapshot, and the cycle uses its latest one."""

    cycle = models.ForeignKey(PlanningCycle, on_delete=models.CASCADE, related_name="snapshots")
    number = models.PositiveIntegerField(help_text="1 for the first snapshot of the cycle.")
    taken_at = models.DateTimeField(default=timezone.now)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    first_week = models.DateField(help_text="Monday of the first week the snapshot covers.")
    data = models.JSONField(
        help_text="Every section of the snapshot (see planning/selectors/snapshot.py)."
    )

    class Meta:
        db_table = "coordination_planningsnapshot"
        ordering = ["cycle", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "number"], name="planning_snapshot_number"),
        ]

    def __str__(self):
        return f"{self.cycle} snapshot {self.number}"


class SignedPart(models.TextChoices):
    """What each department signs off in a cycle."""

    DEMAND = "demand", "Demand (Marketing)"
    SUPPLY = "supply", "Supply (Production)"
    ORDERS = "orders", "Firm orders and key commitments (Sales)"


class CycleAdjustment(models.Model):
    """A number changed in the meeting: an amount added to (or taken from) a line's month in
    one signed part, with the reason. Adjusting a signed part asks for its sign-off again."""

    cycle = models.ForeignKey(PlanningCycle, on_delete=models.CASCADE, related_name="adjustments")
    part = models.CharField(max_length=8, choices=SignedPart.choices)
    line = models.ForeignKey(
        Line, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    month = models.DateField(help_text="First day of the month adjusted.")
    amount = models.IntegerField(
        help_text="Added to the snapshot's figure (negative lowers it): units of demand or "
        "firm orders, hours of capacity for supply."
    )
    reason = models.CharField(max_length=300)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "coordination_cycleadjustment"
        ordering = ["cycle", "part", "month", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="cycle_adjustment_not_zero"),
            models.CheckConstraint(condition=~Q(reason=""), name="cycle_adjustment_has_reason"),
            models.CheckConstraint(condition=Q(month__day=1), name="cycle_adjustment_month_start"),
        ]

    def __str__(self):
        return f"{self.cycle} {self.part} {self.month:%b %Y}: {self.amount:+d}"


class CycleSignOff(models.Model):
    """A department's sign-off of its part of a cycle. `part_hash` fingerprints the part
    as signed; when the part changes later (a new snapshot, an adjustment) the hashes no
    longer match and the sign-off is stale until given again."""

    cycle = models.ForeignKey(PlanningCycle, on_delete=models.CASCADE, related_name="sign_offs")
    part = models.CharField(max_length=8, choices=SignedPart.choices)
    department = models.CharField(max_length=12, choices=Department.choices)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(default=timezone.now)
    snapshot = models.ForeignKey(PlanningSnapshot, on_delete=models.PROTECT, related_name="+")
    part_hash = models.CharField(max_length=64)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        db_table = "coordination_cyclesignoff"
        ordering = ["cycle", "part"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "department"], name="sign_off_once_per_dept"),
            models.UniqueConstraint(fields=["cycle", "part"], name="sign_off_once_per_part"),
        ]

    def __str__(self):
        return f"{self.cycle}: {self.get_department_display()} signed"


class CycleDecision(models.Model):
    """A decision or an action item recorded in a cycle's meeting. Action items have an
    owner and a due date, and stay open (on the owner's home page and on the next cycle)
    until done or dropped."""

    class Kind(models.TextChoices):
        DECISION = "decision", "Decision"
        ACTION = "action", "Action item"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"
        DROPPED = "dropped", "Dropped"

    cycle = models.ForeignKey(PlanningCycle, on_delete=models.PROTECT, related_name="decisions")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.DECISION)
    text = models.TextField()
    department = models.CharField(max_length=12, choices=Department.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="cycle_actions",
        null=True,
        blank=True,
    )
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    promotion = models.ForeignKey(
        Promotion, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    line = models.ForeignKey(
        Line, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "coordination_cycledecision"
        ordering = ["cycle", "kind", "due_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="decision") | (Q(owner__isnull=False) & Q(due_date__isnull=False)),
                name="cycle_action_has_owner_and_due",
            ),
            models.CheckConstraint(
                condition=Q(kind="action") | Q(status="open"),
                name="cycle_decision_has_no_progress",
            ),
            models.CheckConstraint(condition=~Q(text=""), name="cycle_decision_has_text"),
        ]
        indexes = [models.Index(fields=["owner", "kind", "status"])]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.text[:60]}"

    @property
    def is_overdue(self) -> bool:
        return (
            self.kind == self.Kind.ACTION
            and self.status == self.Status.OPEN
            and self.due_date is not None
            and self.due_date < timezone.localdate()
        )


class PlanningScenario(models.Model):
    """A what-if: the line re-planned with changed capacity, beside the live plan. The
    result is stored; the live recommendations and schedule are never touched."""

    cycle = models.ForeignKey(PlanningCycle, on_delete=models.CASCADE, related_name="scenarios")
    line = models.ForeignKey(Line, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=120)
    first_week = models.DateField(validators=[validate_monday])
    last_week = models.DateField(validators=[validate_monday])
    extra_hours_per_week = models.DecimalField(
        max_digits=6, decimal_places=1, help_text="Added to each week's hours (negative removes)."
    )
    result = models.JSONField(help_text="Live and scenario plan per week, and the totals.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "coordination_planningscenario"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(last_week__gte=F("first_week")), name="scenario_weeks_ordered"
            ),
            models.CheckConstraint(
                condition=~Q(extra_hours_per_week=0), name="scenario_changes_capacity"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.line})"


# Above this a budget figure is a typing slip, not a plan (a trillion in any currency).
BUDGET_CEILING = Decimal(10**12)


class Budget(models.Model):
    """What the company budgets for a product line in a month: revenue (in the one
    currency, settings.CURRENCY) and units. The planning review holds the plan against it.
    Edited in the budget grid or imported from CSV; `version` guards human edits."""

    product_line = models.ForeignKey(ProductLine, on_delete=models.PROTECT, related_name="budgets")
    month = models.DateField(help_text="First day of the month budgeted.")
    revenue = models.DecimalField(max_digits=15, decimal_places=2)
    units = models.PositiveBigIntegerField()
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["product_line__name", "month"]
        constraints = [
            models.UniqueConstraint(
                fields=["product_line", "month"], name="budget_once_per_line_month"
            ),
            models.CheckConstraint(condition=Q(month__day=1), name="budget_month_start"),
            models.CheckConstraint(
                condition=Q(revenue__gte=0) & Q(revenue__lte=BUDGET_CEILING),
                name="budget_revenue_range",
            ),
            models.CheckConstraint(
                condition=Q(units__gte=0) & Q(units__lte=BUDGET_CEILING),
                name="budget_units_range",
            ),
        ]

    def __str__(self):
        return f"{self.product_line} {self.month:%b %Y}"
