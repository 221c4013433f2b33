"""What a client that just read the schedule sends with a decision, so a test's accept,
override or range accept is made over the current state (production.services.schedule)."""

from __future__ import annotations

from production.selectors.schedule import decision_versions, schedule_version

seen_cell = decision_versions


def seen_schedule() -> dict:
    """The schedule version as read now."""
    return {"seen_schedule_version": schedule_version()}
