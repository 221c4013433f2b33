"""Recalls: one incident from the first report to the last unit recovered.

Every write lives in recalls/services/. A stop-ship reaches production (holds) and
marketing (promotions at risk) only through those apps' services."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from coordination.models import Department
from coordination.weeks import validate_monday


class RecallIncident(models.Model):
    class Classification(models.TextChoices):
        CLASS_I = "class_i", "Class I — serious harm likely"
        CLASS_II = "class_ii", "Class II — temporary or remote harm"
        CLASS_III = "class_iii", "Class III — harm unlikely"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        INVESTIGATING = "investigating", "Investigating"
        ANNOUNCED = "announced", "Announced"
        RECOVERING = "recovering", "Recovering"
        CLOSED = "closed", "Closed"

    class Source(models.TextChoices):
        CUSTOMER = "customer", "Customer reports"
        INTERNAL_TEST = "internal_test", "Internal test"
        REGULATOR = "regulator", "Regulator"

    # Share of consignees whose notification must be confirmed, by class (the depth of
    # the effectiveness check: level A for class I, B for II, C for III).
    CHECK_LEVEL = {
        Classification.CLASS_I: Decimal("100"),
        Classification.CLASS_II: Decimal("25"),
        Classification.CLASS_III: Decimal("10"),
    }
    PUBLIC_STATUSES = (Status.ANNOUNCED, Status.RECOVERING, Status.CLOSED)

    code = models.CharField(max_length=20, unique=True, editable=False)
    title = models.CharField(max_length=160)
    description = models.TextField(blank=True, help_text="Internal: what is known so far.")
    classification = models.CharField(max_length=10, choices=Classification.choices)
    hazard = models.TextField(help_text="What can happen to a consumer. Shown publicly.")
    root_cause = models.TextField(blank=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    source_requests = models.ManyToManyField(
        "coordination.CustomerRequest", related_name="escalated_recalls", blank=True
    )
    related_requests = models.ManyToManyField(
        "coordination.CustomerRequest",
        related_name="related_recalls",
        blank=True,
        help_text="Customer requests about the affected products, linked automatically.",
    )
    products = models.ManyToManyField("coordination.Product", related_name="recalls")
    stop_ship = models.BooleanField(default=False)
    stop_ship_since = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_recalls"
    )
    # The public notice (what a regulator's notice requires); shown once announced.
    consumer_instructions = models.TextField(
        blank=True, help_text="What consumers should do: stop using, return, get a refund…"
    )
    contact = models.CharField(
        max_length=200, blank=True, help_text="Phone and e-mail consumers can reach."
    )
    announced_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Effectiveness
    units_distributed = models.PositiveIntegerField(default=0)
    units_returned = models.PositiveIntegerField(default=0)
    units_destroyed = models.PositiveIntegerField(default=0)
    units_corrected = models.PositiveIntegerField(default=0)
    consignees_to_notify = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("manage_recall", "Can open recalls and move them through their workflow"),
            ("communicate_recall", "Can handle press inquiries and draft statements"),
            ("approve_statement", "Can approve recall statements drafted by others"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="closed") | ~Q(root_cause=""),
                name="recall_closed_has_root_cause",
            ),
            models.CheckConstraint(
                condition=Q(
                    units_distributed__gte=models.F("units_returned")
                    + models.F("units_destroyed")
                    + models.F("units_corrected")
                ),
                name="recall_recovered_within_distributed",
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.title}"

    @property
    def units_recovered(self) -> int:
        return self.units_returned + self.units_destroyed + self.units_corrected

    @property
    def units_unaccounted(self) -> int:
        return max(0, self.units_distributed - self.units_recovered)

    @property
    def is_public(self) -> bool:
        return self.status in self.PUBLIC_STATUSES

    @property
    def check_level_pct(self) -> Decimal:
        return self.CHECK_LEVEL[self.classification]


class AffectedLot(models.Model):
    incident = models.ForeignKey(RecallIncident, on_delete=models.CASCADE, related_name="lots")
    product = models.ForeignKey("coordination.Product", on_delete=models.PROTECT, related_name="+")
    lot_code = models.CharField(max_length=40, blank=True)
    production_week = models.DateField(null=True, blank=True, validators=[validate_monday])
    best_before = models.DateField(null=True, blank=True)
    units = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["product__sku", "lot_code", "production_week"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(lot_code="") | Q(production_week__isnull=False),
                name="lot_has_code_or_week",
            ),
            # One lot is one fact: recorded twice it is counted (and published) twice.
            models.UniqueConstraint(
                fields=["incident", "product", "lot_code"],
                condition=~Q(lot_code=""),
                name="lot_code_once_per_product",
            ),
            models.UniqueConstraint(
                fields=["incident", "product", "production_week"],
                condition=Q(lot_code=""),
                name="lot_week_once_per_product",
            ),
        ]

    def __str__(self):
        return self.lot_code or str(self.production_week)


class RecallTask(models.Model):
    incident = models.ForeignKey(RecallIncident, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(max_length=200)
    department = models.CharField(max_length=12, choices=Department.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="recall_tasks"
    )
    due_date = models.DateField()
    done_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["done_at", "due_date", "id"]

    def __str__(self):
        return self.title

    @property
    def is_overdue(self) -> bool:
        return self.done_at is None and self.due_date < timezone.localdate()


class PressInquiry(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ANSWERED = "answered", "Answered"
        DECLINED = "declined", "Declined to comment"

    incident = models.ForeignKey(
        RecallIncident, on_delete=models.CASCADE, related_name="press_inquiries"
    )
    outlet = models.CharField(max_length=120)
    contact = models.CharField(max_length=200)
    question = models.TextField()
    received_at = models.DateTimeField()
    response_due = models.DateTimeField()
    answer = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["status", "response_due"]
        constraints = [
            models.CheckConstraint(
                condition=Q(response_due__gte=models.F("received_at")),
                name="press_due_after_received",
            ),
            models.CheckConstraint(
                condition=~Q(status="answered") | ~Q(answer=""), name="press_answered_has_answer"
            ),
        ]

    def __str__(self):
        return f"{self.outlet}: {self.question[:40]}"

    @property
    def is_overdue(self) -> bool:
        return self.status == self.Status.OPEN and self.response_due < timezone.now()


class Statement(models.Model):
    """A public statement: drafted by Marketing, approved by someone else, published."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Waiting for approval"
        APPROVED = "approved", "Approved"
        PUBLISHED = "published", "Published"
        REJECTED = "rejected", "Sent back"

    incident = models.ForeignKey(
        RecallIncident, on_delete=models.CASCADE, related_name="statements"
    )
    title = models.CharField(max_length=160)
    body = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    review_note = models.TextField(blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # The four-eyes rule, in the database too.
            models.CheckConstraint(
                condition=Q(reviewed_by__isnull=True) | ~Q(reviewed_by=models.F("author")),
                name="statement_not_reviewed_by_author",
            ),
        ]

    def __str__(self):
        return self.title


class CustomerNotification(models.Model):
    """One consignee told about the recall."""

    class Channel(models.TextChoices):
        EMAIL = "email", "E-mail"
        PHONE = "phone", "Phone"
        LETTER = "letter", "Letter"
        VISIT = "visit", "Visit"
        PORTAL = "portal", "Customer portal"

    incident = models.ForeignKey(
        RecallIncident, on_delete=models.CASCADE, related_name="notifications"
    )
    consignee = models.CharField(max_length=160)
    account = models.CharField(max_length=40, blank=True)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    notified_at = models.DateTimeField()
    notified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged = models.BooleanField(default=False)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-notified_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "consignee"], name="notification_once_per_consignee"
            ),
        ]

    def __str__(self):
        return f"{self.consignee} ({self.get_channel_display()})"
