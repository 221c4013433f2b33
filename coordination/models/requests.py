"""Customer requests: what customers ask for, logged by sales and routed to the department
that answers (see coordination/services/customer_requests.py)."""

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from coordination.models.people import Department
from coordination.models.products import Product
from coordination.weeks import validate_monday


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
    # Sales' reason for quoting below cost or below the margin floor (blank otherwise).
    quote_floor_reason = models.TextField("why below the margin floor", blank=True)
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
