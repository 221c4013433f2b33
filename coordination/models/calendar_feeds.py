"""A person's calendar feed: the secret address calendar apps subscribe to."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class CalendarFeed(models.Model):
    """The secret address of one person's iCalendar feed (coordination/calendar.py).

    Calendar apps cannot sign in, so the address is the credential: it ends in 32 random
    bytes (secrets.token_urlsafe), shown to its owner once and never stored; `token_hash`
    (sha256 of it) finds the row. A new address replaces the old one, which stops working
    at once; revoking deletes the row."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_fetched_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When a calendar app last read it."
    )

    class Meta:
        ordering = ["user__username"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(token_hash__regex=r"^[0-9a-f]{64}$"),  # noqa: S106
                name="calendar_feed_token_hash_is_sha256",
            )
        ]

    def __str__(self):
        return f"Calendar feed of {self.user}"
