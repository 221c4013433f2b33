"""The activity timeline every department writes to, and notices (banners) about objects."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone


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
