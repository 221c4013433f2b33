"""Template helpers used across Tandem's pages."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils.html import format_html

from coordination import timeline
from coordination.weeks import iso_label

register = template.Library()

# Colour reinforces the status; the badge text always names it.
BADGE_CLASSES = {
    # requests
    "new": "badge-info",
    "triaged": "badge-info",
    "in_review": "badge-warn",
    "quoted": "badge-warn",
    "accepted": "badge-ok",
    "declined": "badge-err",
    "resolved": "badge-ok",
    # specifications
    "proposed": "badge-warn",
    "approved": "badge-ok",
    "rejected": "badge-err",
    # imports and runs
    "previewed": "badge-info",
    "applied": "badge-ok",
    "pending": "badge-info",
    "running": "badge-warn",
    "done": "badge-ok",
    "failed": "badge-err",
    # promotions
    "planned": "badge-info",
    "confirmed": "badge-ok",
    "cancelled": "badge-err",
    # products
    "concept": "badge-info",
    "active": "badge-ok",
    "phase_out": "badge-warn",
    "discontinued": "badge-err",
    # recalls: status, class, statements, press
    "investigating": "badge-warn",
    "announced": "badge-err",
    "recovering": "badge-warn",
    "class_i": "badge-err",
    "class_ii": "badge-warn",
    "class_iii": "badge-info",
    "submitted": "badge-warn",
    "published": "badge-ok",
    "answered": "badge-ok",
    # planning cycles and their action items
    "preparing": "badge-info",
    "agreed": "badge-ok",
    "dropped": "badge-err",
    # priorities
    "urgent": "badge-err",
    "high": "badge-warn",
}


@register.filter
def badge_class(value) -> str:
    return BADGE_CLASSES.get(str(value), "")


@register.simple_tag
def badge(value, label=None):
    """<span class="badge badge-ok">Approved</span> for a status value and its label."""
    return format_html(
        '<span class="badge {}">{}</span>',
        badge_class(value),
        label or str(value).replace("_", " "),
    )


@register.filter
def week(value) -> str:
    if isinstance(value, dt.date):
        return iso_label(value)
    return ""


@register.filter
def get_item(mapping, key):
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def model_label(obj) -> str:
    return timeline.label_of(obj)


@register.simple_tag(takes_context=True)
def querystring_with(context, **updates) -> str:
    """The current query string with some parameters replaced (None removes one)."""
    params = context["request"].GET.copy()
    for key, value in updates.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"
