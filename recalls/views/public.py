"""The public recall notice: no sign-in, read-only, at a stable address per recall.

It renders only what selectors.public_notice returns (the fields a public notice
carries), so nothing internal can reach the page, and answers 404 until announced."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from recalls import selectors


@require_safe
@cache_control(public=True, max_age=300)
def public_notice(request, code):
    notice = selectors.public_notice(code)
    if notice is None:
        raise Http404("No public recall notice at this address.")
    return render(request, "recalls/public_notice.html", {"notice": notice})
