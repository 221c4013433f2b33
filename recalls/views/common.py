"""What the recall views share: permissions, tabs, and how forms are built."""

from __future__ import annotations

from django.http import Http404

from recalls import selectors
from recalls.models import RecallIncident

VIEW = "recalls.view_recallincident"
MANAGE = "recalls.manage_recall"
ADD_TASK = "recalls.add_recalltask"
NOTIFY = "recalls.add_customernotification"
COMMUNICATE = "recalls.communicate_recall"
APPROVE = "recalls.approve_statement"

TABS = (
    ("overview", "Overview"),
    ("lots", "Lots & holds"),
    ("tasks", "Tasks"),
    ("press", "Press"),
    ("statements", "Statements"),
    ("effectiveness", "Effectiveness"),
    ("notifications", "Notifications"),
)
TAB_NAMES = {name for name, _ in TABS}


def incident_or_404(code: str) -> RecallIncident:
    try:
        return selectors.incident_by_code(code)
    except RecallIncident.DoesNotExist:
        raise Http404("No recall with that code.") from None


def make_form(form_class, action: str, item: int | None = None, **kwargs):
    """Each form on the page gets its own element ids (several forms share field names)."""
    suffix = f"{action}_{item}" if item is not None else action
    return form_class(auto_id=f"id_{suffix.replace('-', '_')}_%s", **kwargs)
