"""E-mail notifications: each person's choices, and the outbox of messages to send."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class EmailKind(models.TextChoices):
    """What a person can switch on or off, each with its own unsubscribe link."""

    STOP_SHIP = "stop_ship", "Stop-ships, the moment one is placed"
    PROMOTION_AT_RISK = "promotion_at_risk", "Promotions put at risk, the moment it happens"
    DAILY_DIGEST = "daily_digest", "A daily digest of what needs you on your home page"


class EmailPreference(models.Model):
    """One person's choice for one kind. No row means the kind is on: a new colleague
    hears of a stop-ship without first visiting their profile."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_preferences"
    )
    kind = models.CharField(max_length=24, choices=EmailKind.choices)
    enabled = models.BooleanField(default=True)
    panels_off = models.JSONField(
        default=list,
        blank=True,
        help_text="Daily digest only: the titles of the home panels it leaves out.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["user_id", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="email_preference_once"),
            models.CheckConstraint(
                condition=Q(kind__in=EmailKind.values), name="email_preference_kind_known"
            ),
        ]

    def __str__(self):
        return f"{self.user}: {self.get_kind_display()} {'on' if self.enabled else 'off'}"


class EmailNotification(models.Model):
    """The outbox: one message to one person, written in the transaction of the event
    (or by the daily digest), rendered then, and sent by a worker after commit. The key
    names the event (a recall's stop-ship, a digest's date): one message per person,
    kind and event, however often the event is reported."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENT = "sent", "Sent"
        SKIPPED = "skipped", "Not sent: unsubscribed or no address"
        FAILED = "failed", "Failed for good"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_notifications"
    )
    kind = models.CharField(max_length=24, choices=EmailKind.choices)
    key = models.CharField(max_length=200, help_text="The event: a recall code, a date, ...")
    subject = models.CharField(max_length=200)
    body_text = models.TextField()
    body_html = models.TextField()
    link = models.CharField(max_length=500, help_text="The page the message is about.")
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="email_due_idx")]
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "key"], name="email_once_per_event"),
            models.CheckConstraint(
                condition=Q(kind__in=EmailKind.values), name="email_notification_kind_known"
            ),
            models.CheckConstraint(
                condition=Q(status="sent", sent_at__isnull=False)
                | (~Q(status="sent") & Q(sent_at__isnull=True)),
                name="email_sent_has_sent_at",
            ),
        ]

    def __str__(self):
        return f"{self.subject} → {self.user}"
