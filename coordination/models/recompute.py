"""The recompute outbox: requests to re-plan, written with the change that needs them and
worked off by production's pipeline."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone


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
        CUSTOMIZATION = "customization", "Firm order"
        PRODUCT = "product", "Product change"
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
