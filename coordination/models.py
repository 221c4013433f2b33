"""Coordination master data: people, products and their specifications, customer
requests, and the activity timeline every department writes to.

Models hold fields, constraints and cheap properties. Every workflow step lives in
coordination/services/.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from coordination.weeks import iso_label, validate_monday


class User(AbstractUser):
    """Tandem's user. Roles are groups (see coordination/roles.py)."""

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"

    def __str__(self):
        return self.get_full_name() or self.username


class Department(models.TextChoices):
    MARKETING = "marketing", "Marketing"
    SALES = "sales", "Sales"
    PRODUCTION = "production", "Production"
    QUALITY = "quality", "Quality"


# ---------------------------------------------------------------------------- products

SKU_VALIDATOR = RegexValidator(
    r"^[A-Z0-9]{2,8}-[A-Z0-9]{2,12}(-[A-Z0-9]{1,8})?$",
    message="A SKU is 2–3 dash-separated parts of capital letters and digits, e.g. BEV-1001.",
    code="invalid_sku",
)


class ProductLine(models.Model):
    name = models.CharField(max_length=80, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Product(models.Model):
    class Lifecycle(models.TextChoices):
        CONCEPT = "concept", "Concept"
        ACTIVE = "active", "Active"
        PHASE_OUT = "phase_out", "Phasing out"
        DISCONTINUED = "discontinued", "Discontinued"

    class QualityTier(models.TextChoices):
        ECONOMY = "economy", "Economy"
        STANDARD = "standard", "Standard"
        PREMIUM = "premium", "Premium"

    sku = models.CharField("SKU", max_length=32, unique=True, validators=[SKU_VALIDATOR])
    name = models.CharField(max_length=120)
    product_line = models.ForeignKey(ProductLine, on_delete=models.PROTECT, related_name="products")
    lifecycle = models.CharField(
        max_length=16, choices=Lifecycle.choices, default=Lifecycle.ACTIVE, db_index=True
    )
    quality_tier = models.CharField(
        max_length=16, choices=QualityTier.choices, default=QualityTier.STANDARD
    )
    unit_price = models.DecimalField(
        max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    unit_cost = models.DecimalField(
        max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    production_line = models.ForeignKey(
        "production.Line",
        on_delete=models.PROTECT,
        related_name="products",
        null=True,
        blank=True,
        help_text="The line this product is made on. Products without one are not planned.",
    )
    lead_time_weeks = models.PositiveSmallIntegerField(
        default=1,
        validators=[MaxValueValidator(26)],
        help_text="Weeks from production to availability.",
    )
    minimum_batch = models.PositiveIntegerField(
        default=1, validators=[MinValueValidator(1)], help_text="Smallest run worth making."
    )
    target_service_level = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.950"),
        validators=[MinValueValidator(Decimal("0.5")), MaxValueValidator(Decimal("0.999"))],
        help_text="Share of weeks demand should be met from stock (0.5–0.999).",
    )
    predecessor = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        related_name="successors",
        null=True,
        blank=True,
        help_text="The product this one replaces; its sales history seeds the forecast.",
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sku"]
        constraints = [
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="product_price_not_negative"
            ),
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="product_cost_not_negative"),
            models.CheckConstraint(
                condition=Q(target_service_level__gte=Decimal("0.5"))
                & Q(target_service_level__lte=Decimal("0.999")),
                name="product_service_level_range",
            ),
            models.CheckConstraint(
                condition=Q(minimum_batch__gte=1), name="product_batch_positive"
            ),
            models.CheckConstraint(
                condition=Q(lead_time_weeks__lte=26), name="product_lead_time_at_most_26"
            ),
            models.CheckConstraint(
                condition=~Q(predecessor=F("pk")), name="product_not_its_own_predecessor"
            ),
        ]

    def __str__(self):
        return f"{self.sku} {self.name}"

    @property
    def margin(self) -> Decimal:
        return self.unit_price - self.unit_cost


class Specification(models.Model):
    """One version of what a product is. Changes go draft -> proposed -> approved/rejected;
    an approved version takes effect from its week and supersedes the one before."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PROPOSED = "proposed", "Proposed"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        SUPERSEDED = "superseded", "Superseded before taking effect"

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="specifications")
    number = models.PositiveIntegerField(help_text="Version number, 1 for the first.")
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    colours = models.JSONField(default=list, blank=True)
    package_sizes = models.JSONField(default=list, blank=True)
    features = models.JSONField(default=list, blank=True)
    materials = models.JSONField(default=list, blank=True)
    effective_from = models.DateField(
        validators=[validate_monday], help_text="Monday of the first week it applies."
    )
    effective_until = models.DateField(
        null=True, blank=True, help_text="Monday of the last week, once a later one is approved."
    )
    rationale = models.TextField(help_text="Why this change: what customers or the market ask.")
    cited_requests = models.ManyToManyField(
        "CustomerRequest", related_name="cited_by_specifications", blank=True
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="authored_specifications"
    )
    proposed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="reviewed_specifications",
        null=True,
        blank=True,
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    feasibility_note = models.TextField(blank=True)
    unit_cost_impact = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Change in unit cost if approved (negative when cheaper).",
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    SPEC_FIELDS = ("colours", "package_sizes", "features", "materials")

    class Meta:
        ordering = ["product", "-number"]
        permissions = [
            ("propose_specification", "Can draft and propose specification changes"),
            ("review_specification", "Can approve or reject proposed specifications"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["product", "number"], name="spec_number_per_product"),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "proposed"])
                | (Q(reviewed_at__isnull=False) & ~Q(feasibility_note="")),
                name="spec_review_recorded",
            ),
            models.CheckConstraint(
                condition=Q(effective_until__isnull=True)
                | Q(effective_until__gte=F("effective_from")),
                name="spec_effective_range_ordered",
            ),
        ]

    def __str__(self):
        return f"{self.product.sku} spec v{self.number}"

    @property
    def effective_label(self) -> str:
        label = f"from {iso_label(self.effective_from)}"
        if self.effective_until:
            label += f" to {iso_label(self.effective_until)}"
        return label

    def as_dict(self) -> dict[str, list[str]]:
        return {name: list(getattr(self, name)) for name in self.SPEC_FIELDS}


# --------------------------------------------------------------------- customer requests


class CustomerRequest(models.Model):
    """What a customer asked for, logged by sales and routed to the department that answers."""

    class Channel(models.TextChoices):
        PHONE = "phone", "Phone"
        EMAIL = "email", "Email"
        VISIT = "visit", "Visit"
        WEB = "web", "Web"
        DISTRIBUTOR = "distributor", "Distributor"

    class Kind(models.TextChoices):
        NEED = "need", "Need"
        CONCERN = "concern", "Concern"
        COMPLAINT = "complaint", "Complaint"
        CUSTOMIZATION = "customization", "Customization"
        QUALITY_ISSUE = "quality_issue", "Quality issue"
        PRICE_FEEDBACK = "price_feedback", "Price feedback"

    class Preference(models.TextChoices):
        PRICE_FIRST = "price_first", "Price first"
        BALANCED = "balanced", "Balanced"
        QUALITY_FIRST = "quality_first", "Quality first"

    class Priority(models.TextChoices):
        LOW = "low", "Low"
        NORMAL = "normal", "Normal"
        HIGH = "high", "High"
        URGENT = "urgent", "Urgent"

    class Status(models.TextChoices):
        NEW = "new", "New"
        TRIAGED = "triaged", "Triaged"
        IN_REVIEW = "in_review", "In review"
        QUOTED = "quoted", "Quoted"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        RESOLVED = "resolved", "Resolved"

    CLOSED_STATUSES = (Status.ACCEPTED, Status.DECLINED, Status.RESOLVED)
    # Calendar days a request may wait for an answer, by priority.
    RESPONSE_DAYS = {Priority.URGENT: 1, Priority.HIGH: 3, Priority.NORMAL: 7, Priority.LOW: 14}

    customer_name = models.CharField(max_length=120)
    customer_account = models.CharField(max_length=40, blank=True, db_index=True)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    kind = models.CharField(max_length=16, choices=Kind.choices, db_index=True)
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="customer_requests", null=True, blank=True
    )
    summary = models.CharField(max_length=200)
    details = models.TextField(blank=True)
    quantity = models.PositiveIntegerField(null=True, blank=True)
    wanted_week = models.DateField(null=True, blank=True, validators=[validate_monday])
    preference = models.CharField(
        "quality vs price", max_length=16, choices=Preference.choices, default=Preference.BALANCED
    )
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.NEW, db_index=True
    )
    department = models.CharField(
        "routed to", max_length=12, choices=Department.choices, db_index=True
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="assigned_requests",
        null=True,
        blank=True,
    )
    due_date = models.DateField(db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="logged_requests"
    )
    resolution = models.TextField(blank=True)

    # Customization: production's feasibility answer, then sales' quote.
    feasible = models.BooleanField(null=True, blank=True)
    extra_unit_cost = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    feasibility_lead_time_weeks = models.PositiveSmallIntegerField(null=True, blank=True)
    feasibility_note = models.TextField(blank=True)
    feasibility_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="feasibility_answers",
        null=True,
        blank=True,
    )
    feasibility_at = models.DateTimeField(null=True, blank=True)
    quoted_unit_price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    quoted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [
            ("view_all_requests", "Can see requests routed to every department"),
            ("answer_feasibility", "Can answer a customization's feasibility"),
            ("quote_request", "Can quote a price and record the customer's decision"),
            ("view_voice_of_customer", "Can see the voice-of-the-customer analysis"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(extra_unit_cost__isnull=True) | Q(extra_unit_cost__gte=0),
                name="request_extra_cost_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(quoted_unit_price__isnull=True) | Q(quoted_unit_price__gt=0),
                name="request_quote_positive",
            ),
            models.CheckConstraint(
                condition=Q(quantity__isnull=True) | Q(quantity__gt=0),
                name="request_quantity_positive",
            ),
            # Only customizations carry a feasibility answer or a quote.
            models.CheckConstraint(
                condition=Q(kind="customization")
                | (Q(feasible__isnull=True) & Q(quoted_unit_price__isnull=True)),
                name="request_quote_only_for_customization",
            ),
            # A quote needs a feasible answer; acceptance needs a quote, a quantity and a week.
            models.CheckConstraint(
                condition=Q(quoted_unit_price__isnull=True) | Q(feasible=True),
                name="request_quote_needs_feasible",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["quoted", "accepted"])
                | (
                    Q(kind="customization")
                    & Q(quoted_unit_price__isnull=False)
                    & Q(quantity__isnull=False)
                    & Q(wanted_week__isnull=False)
                ),
                name="request_quoted_is_complete",
            ),
        ]
        indexes = [models.Index(fields=["department", "status"])]

    def __str__(self):
        return f"#{self.pk} {self.summary}"

    @property
    def is_closed(self) -> bool:
        return self.status in self.CLOSED_STATUSES

    @property
    def is_overdue(self) -> bool:
        return not self.is_closed and self.due_date < timezone.localdate()

    @property
    def awaiting_feasibility(self) -> bool:
        return (
            self.kind == self.Kind.CUSTOMIZATION
            and self.status in (self.Status.TRIAGED, self.Status.IN_REVIEW)
            and self.feasible is None
        )

    @classmethod
    def due_date_for(cls, priority: str, logged_on: dt.date) -> dt.date:
        return logged_on + dt.timedelta(days=cls.RESPONSE_DAYS[priority])


# ----------------------------------------------------------------- activity timeline


class ActivityEvent(models.Model):
    """One line of an object's timeline: a comment or a change, who made it and when.

    Generic, so products, specifications, requests, promotions and recalls share one
    timeline component. Written only by coordination.services.activity."""

    class Verb(models.TextChoices):
        COMMENTED = "commented", "commented"
        CREATED = "created", "created"
        UPDATED = "updated", "updated"
        TRANSITIONED = "transitioned", "changed the status"

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("content_type", "object_id")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="activity",
        null=True,
        blank=True,
        help_text="Empty for changes Tandem made itself (e.g. a recompute).",
    )
    verb = models.CharField(max_length=16, choices=Verb.choices)
    message = models.TextField(help_text="The comment, or what changed, in words.")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id", "-created_at"])]

    def __str__(self):
        return f"{self.actor or 'Tandem'} {self.get_verb_display()}: {self.message[:60]}"


# ------------------------------------------------------------- recompute outbox


class RecomputeRequest(models.Model):
    """The outbox of the planning pipeline: "these products' plan is out of date".

    Written in the same transaction as the change that caused it (a promotion, an
    accepted customization, an import, a capacity change, a recall hold), so a broker
    outage never loses one: the task enqueued after commit picks it up, and if the
    enqueue failed, the periodic reconciler does. Lives here, in the app every other
    one builds on, so each can ask for a recompute without importing the planner."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for a worker"
        RUNNING = "running", "Recomputing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    class Source(models.TextChoices):
        PROMOTION = "promotion", "Promotion"
        CUSTOMIZATION = "customization", "Accepted customization"
        SALES_IMPORT = "sales_import", "Sales import"
        INVENTORY = "inventory", "Inventory update"
        CAPACITY = "capacity", "Capacity change"
        RECALL = "recall", "Recall hold"
        ADJUSTMENT = "adjustment", "Marketing adjustment"
        SCHEDULED = "scheduled", "Nightly recompute"
        MANUAL = "manual", "Requested by hand"

    source = models.CharField(max_length=16, choices=Source.choices)
    reason = models.CharField(max_length=300)
    # What caused it (a promotion, a recall...), so its page can show the progress.
    subject_type = models.ForeignKey(
        ContentType, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    subject_id = models.PositiveBigIntegerField(null=True, blank=True)
    product_ids = models.JSONField(help_text="Products whose forecast and quotas to recompute.")
    line_ids = models.JSONField(default=list, help_text="Production lines to re-plan.")
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    enqueue_attempts = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["subject_type", "subject_id"])]

    def __str__(self):
        return f"Recompute #{self.pk} ({self.get_source_display()}, {self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


# ---------------------------------------------------------------------- notices


class Notice(models.Model):
    """A banner on an object (product, promotion, line), raised by another part of Tandem
    — e.g. a recall's stop-ship — through coordination.services.notices, so each page can
    show it without knowing who raised it."""

    class Level(models.TextChoices):
        INFO = "info", "Information"
        WARNING = "warning", "Warning"
        DANGER = "danger", "Danger"

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("content_type", "object_id")
    level = models.CharField(max_length=8, choices=Level.choices, default=Level.WARNING)
    message = models.CharField(max_length=300)
    link = models.CharField(max_length=200, blank=True, help_text="Where to read more.")
    reference = models.CharField(max_length=40, help_text="What raised it, e.g. a recall code.")
    raised_at = models.DateTimeField(default=timezone.now)
    cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at"]
        indexes = [models.Index(fields=["content_type", "object_id"])]
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id", "reference"],
                condition=Q(cleared_at__isnull=True),
                name="one_active_notice_per_reference",
            )
        ]

    def __str__(self):
        return f"{self.get_level_display()}: {self.message}"


class ApiClient(models.Model):
    """An ERP, shop-floor system or script that calls the REST API with a key.

    The client acts as its own service user (`user`: no password, no roles), so writes
    are attributed to it like any person's and `request.user.is_authenticated` holds;
    what it may do comes only from `scopes` (coordination/scopes.py), granted through
    coordination.auth.ApiClientBackend. The key itself is never stored: `key_prefix`
    finds the row, `key_hash` (sha256 of the whole key) proves it.
    """

    name = models.CharField(max_length=100, unique=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_client"
    )
    scopes = models.JSONField(default=list)
    key_prefix = models.CharField(max_length=8, db_index=True)
    key_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="api_clients_created",
    )
    created_at = models.DateTimeField(default=timezone.now)
    rotated_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "API client"

    def __str__(self):
        return self.name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


# --------------------------------------------------------------- planning review


class IdempotencyKey(models.Model):
    """A create an API caller sent with an `Idempotency-Key` header, and the answer it
    got: the same request sent again (a retry after a timeout) gets that answer again
    and creates nothing (coordination.services.idempotency).

    A row is written in the transaction that makes the create and commits with it, so a
    committed row always holds the answer; a refused create leaves none. Rows expire
    after a day and the periodic `coordination.expire_idempotency_keys` deletes them."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="The caller: a person, or an API client's service user.",
    )
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=2000)
    fingerprint = models.CharField(
        max_length=64, help_text="SHA-256 of the method, path and body (JSON, keys sorted)."
    )
    status_code = models.PositiveSmallIntegerField(help_text="The answer's status.")
    response_body = models.TextField(blank=True, help_text="The answer's JSON, as sent.")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_once_per_caller")
        ]

    def __str__(self):
        return f"{self.method} {self.path} ({self.key})"


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
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
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
    data = models.JSONField(help_text="Every section of the snapshot (see selectors/planning).")

    class Meta:
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
        "production.Line", on_delete=models.PROTECT, related_name="+", null=True, blank=True
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
        "demand.Promotion", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    line = models.ForeignKey(
        "production.Line", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
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
    line = models.ForeignKey("production.Line", on_delete=models.PROTECT, related_name="+")
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
