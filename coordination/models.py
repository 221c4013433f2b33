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


class Line(models.Model):
    """A production line. Products are made on one line; its hours are shared by them.

    Master data beside the products that point at it; production plans its capacity."""

    name = models.CharField(max_length=80, unique=True)
    weekly_capacity_hours = models.DecimalField(
        max_digits=8, decimal_places=1, help_text="Hours available in a normal week."
    )
    frozen_window_weeks = models.PositiveSmallIntegerField(
        default=2,
        help_text="Weeks from now in which accepted quotas are kept by every recompute.",
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        db_table = "production_line"  # its table since it lived in production
        constraints = [
            models.CheckConstraint(
                condition=Q(weekly_capacity_hours__gte=0), name="line_capacity_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(frozen_window_weeks__lte=26), name="line_frozen_window_at_most_26"
            ),
        ]

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
        Line,
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
