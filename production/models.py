"""Production: lines and their capacity, inventory, quota recommendations, the accepted
schedule REST clients pull, and the record of every recompute.

Every write lives in production/services/; the planning arithmetic in engine.py."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from coordination.models import Line
from coordination.weeks import iso_label, validate_monday


class CapacityException(models.Model):
    """A week in which a line has other hours than usual: a shutdown (0), a short
    week, overtime or an extra shift."""

    line = models.ForeignKey(Line, on_delete=models.CASCADE, related_name="capacity_exceptions")
    week = models.DateField(validators=[validate_monday])
    hours = models.DecimalField(max_digits=8, decimal_places=1)
    note = models.CharField(max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["line", "week"]
        constraints = [
            models.UniqueConstraint(fields=["line", "week"], name="capacity_exception_once"),
            models.CheckConstraint(condition=Q(hours__gte=0), name="capacity_hours_not_negative"),
        ]

    def __str__(self):
        return f"{self.line} {iso_label(self.week)}: {self.hours} h"


class RunRate(models.Model):
    """How many line hours one unit of a product takes."""

    product = models.OneToOneField(
        "coordination.Product", on_delete=models.CASCADE, related_name="run_rate"
    )
    hours_per_unit = models.DecimalField(
        max_digits=10, decimal_places=6, validators=[MinValueValidator(0)]
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(hours_per_unit__gt=0), name="run_rate_positive"),
        ]

    def __str__(self):
        return f"{self.product_id}: {self.hours_per_unit} h/unit"


class InventoryPosition(models.Model):
    """Units on hand of a product, counted at a date. The latest count is used."""

    # The unique (product, as_of) index serves product lookups (faster imports).
    product = models.ForeignKey(
        "coordination.Product",
        on_delete=models.PROTECT,
        related_name="inventory_positions",
        db_index=False,
    )
    as_of = models.DateField()
    on_hand = models.PositiveIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["product", "-as_of"]
        constraints = [
            models.UniqueConstraint(fields=["product", "as_of"], name="inventory_once_per_day"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="inventory_not_negative"),
        ]

    def __str__(self):
        return f"{self.product_id} {self.as_of}: {self.on_hand}"


class ProductionHold(models.Model):
    """Production of a product is stopped (e.g. a stop-ship recall): its quotas are 0."""

    product = models.ForeignKey(
        "coordination.Product", on_delete=models.PROTECT, related_name="production_holds"
    )
    reason = models.CharField(max_length=300)
    reference = models.CharField(max_length=40, help_text="What placed it, e.g. a recall code.")
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    placed_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-placed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "reference"],
                condition=Q(released_at__isnull=True),
                name="one_active_hold_per_reference",
            ),
        ]

    def __str__(self):
        return f"Hold {self.product_id} ({self.reference})"


class RecomputeRun(models.Model):
    """One re-plan of one line: what triggered it, what it did, how long it took."""

    class State(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    line = models.ForeignKey(
        Line, on_delete=models.CASCADE, related_name="recompute_runs", null=True, blank=True
    )
    requests = models.ManyToManyField("coordination.RecomputeRequest", related_name="runs")
    trigger = models.CharField(max_length=300)
    product_ids = models.JSONField(default=list)
    state = models.CharField(max_length=8, choices=State.choices, default=State.RUNNING)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Who works on it, and the last sign of life while it runs: a run on a Celery worker
    # beats every few seconds, so the reconciler tells a dead worker from a slow one
    # (production/services/pipeline.py). Null for a run that does not beat (in-process).
    worker = models.CharField(max_length=200, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    first_week = models.DateField(null=True, blank=True)
    horizon_weeks = models.PositiveSmallIntegerField(default=26)
    forecast_rows = models.PositiveIntegerField(default=0)
    recommendation_rows = models.PositiveIntegerField(default=0)
    changed_cells = models.PositiveIntegerField(default=0)
    prebuild_units = models.FloatField(default=0)
    shortage_units = models.FloatField(default=0)
    timings = models.JSONField(default=dict, blank=True, help_text="seconds per stage")
    # How the planner solved the line (production/engine: "lp+mip", "latest-first+rounded"
    # ...) and how far its whole-unit plan lies from the continuous relaxation, per
    # objective in unit-weeks: {"backlog": ..., "safety_shortfall": ..., "inventory": ...}.
    plan_method = models.CharField(max_length=40, blank=True)
    relaxation_gap = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        # The reconciler looks for dead runs every few seconds; only running ones matter.
        indexes = [
            models.Index(
                fields=["heartbeat_at"],
                condition=models.Q(state="running"),
                name="recompute_run_running",
            )
        ]

    def __str__(self):
        return f"Run {self.pk} {self.line or 'no line'} ({self.state})"

    @property
    def seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    @property
    def relaxation_gap_label(self) -> str:
        """The whole-unit plan's gap to the continuous relaxation in words, e.g.
        "none" or "backlog +12, stock −340 unit-weeks" ("—" before a plan). In priority
        order the first non-zero gap is positive; a later one may be negative."""
        if not self.relaxation_gap:
            return "—"
        names = {"backlog": "backlog", "safety_shortfall": "safety shortfall", "inventory": "stock"}
        parts = [
            f"{label} {value:+,.0f}".replace("-", "−")
            for key, label in names.items()
            if abs(value := self.relaxation_gap.get(key) or 0) >= 0.5
        ]
        return f"{', '.join(parts)} unit-weeks" if parts else "none"


class QuotaRecommendation(models.Model):
    """What production should make of a product in a week, and every term that explains it.

    Units made in `week` are available lead-time weeks later, in `covers_week`; the demand
    terms are those of that week:
        demand          = baseline + promotion_uplift + promotion_dip + cannibalization
                          + halo + firm_orders + adjustment   (the forecast's final, >= 0)
        net_requirement = max(0, demand + safety_stock - stock_before_arrival)
        recommended     = net_requirement + prebuild_units - capacity_cut_units
    prebuild_units are made here for later weeks that lack capacity; capacity_cut_units is
    need that could not be made here (capacity, or a frozen or held plan); shortage_units
    is demand still unmet at the end of covers_week."""

    run = models.ForeignKey(RecomputeRun, on_delete=models.CASCADE, related_name="recommendations")
    # Neither has an index of its own: recommendation_once's (product, week) index and
    # the (line, week) index serve every lookup by product or by line, and each re-plan
    # writes thousands of rows into all of them.
    product = models.ForeignKey(
        "coordination.Product",
        on_delete=models.CASCADE,
        related_name="quota_recommendations",
        db_index=False,
    )
    line = models.ForeignKey(
        Line, on_delete=models.CASCADE, related_name="recommendations", db_index=False
    )
    week = models.DateField(validators=[validate_monday], help_text="The week it is made in.")
    covers_week = models.DateField(help_text="The week the units become available.")
    recommended_units = models.FloatField()
    baseline = models.FloatField()
    promotion_uplift = models.FloatField()
    promotion_dip = models.FloatField(
        default=0.0,
        db_default=0.0,
        help_text="The learned dip after a promotion (<= 0) in covers_week's demand.",
    )
    cannibalization = models.FloatField(
        default=0.0,
        db_default=0.0,
        help_text="Units planned/confirmed promotions of siblings take (<= 0).",
    )
    cannibalized_by = models.CharField(
        max_length=200, blank=True, default="", db_default="", help_text="Promoted SKUs."
    )
    halo = models.FloatField(
        default=0.0,
        db_default=0.0,
        help_text="Units planned/confirmed promotions of siblings add (halo, >= 0).",
    )
    halo_from = models.CharField(
        max_length=200,
        blank=True,
        default="",
        db_default="",
        help_text="Promoted SKUs whose promotion lifts this product.",
    )
    firm_orders = models.FloatField()
    adjustment = models.FloatField()
    demand = models.FloatField()
    safety_stock = models.FloatField()
    stock_before_arrival = models.FloatField(
        help_text="Net stock at the end of the week before covers_week (negative: backlog)."
    )
    net_requirement = models.FloatField()
    prebuild_units = models.FloatField()
    capacity_cut_units = models.FloatField()
    shortage_units = models.FloatField()
    projected_on_hand = models.FloatField(help_text="Stock at the end of covers_week.")
    hold_reason = models.CharField(max_length=300, blank=True)
    frozen = models.BooleanField(default=False, help_text="Inside the frozen window: kept.")
    stock_cap = models.FloatField(
        null=True,
        blank=True,
        help_text="Most stock covers_week may end with so that no unit outlives its shelf "
        "life before it sells (FIFO). Blank: the product keeps.",
    )
    shelf_life_capped = models.BooleanField(
        default=False,
        help_text="Stock is at its shelf-life cap while a later week is short: more built "
        "ahead would expire before it sells.",
    )
    unplannable = models.CharField(
        max_length=300,
        blank=True,
        help_text="Why the plant cannot make this product's demand at all (e.g. a minimum "
        "run longer than the line's week).",
    )

    class Meta:
        ordering = ["product", "week"]
        permissions = [("ask_promise", "Can ask the plan how much of an order it can deliver")]
        constraints = [
            models.UniqueConstraint(fields=["product", "week"], name="recommendation_once"),
            models.CheckConstraint(
                condition=Q(recommended_units__gte=0), name="recommendation_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(halo__gte=0), name="recommendation_halo_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["line", "week"])]

    def __str__(self):
        return f"{self.product_id} {iso_label(self.week)}: {self.recommended_units:.0f}"


class ScheduleRevision(models.Model):
    """One change to the accepted schedule. Its number is the schedule version REST
    clients see: it only grows."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    summary = models.CharField(max_length=300)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"Schedule version {self.pk}"


class ScheduleEntry(models.Model):
    """An accepted quota: units of a product to make in a week. A later acceptance or
    override of the same product and week supersedes it (kept for history and sync)."""

    class Kind(models.TextChoices):
        ACCEPTED = "accepted", "Accepted recommendation"
        OVERRIDDEN = "overridden", "Overridden"

    revision = models.ForeignKey(ScheduleRevision, on_delete=models.PROTECT, related_name="entries")
    product = models.ForeignKey(
        "coordination.Product", on_delete=models.PROTECT, related_name="schedule_entries"
    )
    line = models.ForeignKey(Line, on_delete=models.PROTECT, related_name="schedule_entries")
    week = models.DateField(validators=[validate_monday])
    units = models.PositiveIntegerField()
    kind = models.CharField(max_length=12, choices=Kind.choices)
    recommended_units = models.FloatField(help_text="What Tandem recommended at the time.")
    reason = models.CharField(max_length=300, blank=True)
    # A decision that left its week over the line's capacity was confirmed with a reason:
    # the hours over at the time and why (production.services.schedule).
    over_capacity_hours = models.FloatField(
        default=0, help_text="Hours its week was over capacity when decided (0: it fitted)."
    )
    over_capacity_reason = models.CharField(max_length=300, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    accepted_at = models.DateTimeField(auto_now_add=True)
    superseded_by = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    superseded_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # The revision that superseded it (superseded_by's revision, kept here so an
    # incremental pull, "created or superseded after revision N", is two index ranges
    # and not a join over the whole history).
    superseded_in = models.ForeignKey(
        ScheduleRevision, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["line", "week", "product"]
        permissions = [("plan_line", "Can accept and override quotas on production lines")]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "week"],
                condition=Q(superseded_at__isnull=True),
                name="one_current_schedule_entry",
            ),
            models.CheckConstraint(
                condition=~Q(kind="overridden") | ~Q(reason=""), name="override_has_reason"
            ),
            models.CheckConstraint(
                condition=Q(over_capacity_hours=0)
                | (Q(over_capacity_hours__gt=0) & ~Q(over_capacity_reason="")),
                name="over_capacity_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(superseded_at__isnull=True, superseded_in__isnull=True)
                | Q(superseded_at__isnull=False, superseded_in__isnull=False),
                name="superseded_has_its_revision",
            ),
        ]
        indexes = [models.Index(fields=["revision"])]

    def __str__(self):
        return f"{self.product_id} {iso_label(self.week)}: {self.units} (v{self.revision_id})"

    @property
    def is_current(self) -> bool:
        return self.superseded_at is None


def _webhook_secret() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


class WebhookEndpoint(models.Model):
    """A URL a REST client registered to be told when a line's accepted schedule changes.
    The secret signs every delivery: it must be stored to sign, and is shown only once,
    in the answer to the registration."""

    name = models.CharField(max_length=100, blank=True)
    owner = models.ForeignKey(
        "coordination.ApiClient",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="webhook_endpoints",
        help_text="The API client that registered it (none: a person did).",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    url = models.URLField(max_length=500)
    lines = models.ManyToManyField(
        Line, blank=True, related_name="+", help_text="Lines it follows; none means every line."
    )
    secret = models.CharField(max_length=100, default=_webhook_secret, editable=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    failure_count = models.PositiveIntegerField(
        default=0, help_text="Consecutive deliveries that failed after every retry."
    )
    disabled_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when too many deliveries in a row failed."
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(url__startswith="http://") | Q(url__startswith="https://"),
                name="webhook_url_is_http",
            )
        ]

    def __str__(self):
        return self.name or self.url


class WebhookDelivery(models.Model):
    """One event for one endpoint: the outbox row written with the schedule change, then
    the record of its delivery."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_id = models.UUIDField(unique=True)
    event_type = models.CharField(max_length=50, default="schedule.changed")
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self):
        return f"{self.event_type} {self.event_id} → {self.endpoint_id} ({self.status})"
