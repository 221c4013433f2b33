"""Small helpers every app's browser views share."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import render


def apply_validation_error(form, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: at the field when it names one the
    form has, otherwise at the top of the form."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            target = field if field in form.fields else None
            for message in errors:
                form.add_error(target, message)
    else:
        for message in exc.messages:
            form.add_error(None, message)


def paginate(request, items, per_page: int = 25):
    return Paginator(items, per_page).get_page(request.GET.get("page"))


def querystring_without_page(request) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def render_page(request, template: str, context: dict, *, partial: str | None = None, status=200):
    """Full page normally; only `partial` of the same template for an htmx request."""
    if partial and getattr(request, "htmx", False) and not request.htmx.boosted:
        template = f"{template}#{partial}"
    return render(request, template, context, status=status)
