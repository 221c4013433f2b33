"""What a client that just read the schedule sends with a decision, so a test's accept,
override or range accept is made over the current state (production.services.schedule)."""

from __future__ import annotations

from production.models import QuotaRecommendation, ScheduleEntry
from production.selectors.schedule import schedule_version


def seen_cell(product_id: int, week) -> dict:
    """The cell's recommendation run and accepted entry (None: none yet), as read now."""
    run_id = (
        QuotaRecommendation.objects.filter(product_id=product_id, week=week)
        .values_list("run_id", flat=True)
        .first()
    )
    entry_id = (
        ScheduleEntry.objects.filter(product_id=product_id, week=week, superseded_at__isnull=True)
        .values_list("id", flat=True)
        .first()
    )
    return {"seen_run_id": run_id, "seen_entry_id": entry_id}


def seen_schedule() -> dict:
    """The schedule version as read now."""
    return {"seen_schedule_version": schedule_version()}
