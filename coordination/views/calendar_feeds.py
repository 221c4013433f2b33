"""The calendar feed (read by calendar apps, with the secret address as credential) and
the page where a person gets, replaces or revokes that address."""

from __future__ import annotations

import hashlib

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.views.decorators.http import require_POST, require_safe

from coordination.models import CalendarFeed
from coordination.selectors import calendar_feeds as selectors
from coordination.services import calendar_feeds as services

NOT_FOUND = "No calendar feed at this address."


@require_safe
def feed(request, token):
    """The iCalendar feed. No session: calendar apps cannot sign in, so the secret address
    is the credential. An unknown, replaced or revoked one answers 404 and says nothing
    about whose it was; only a good one is recorded as fetched."""
    calendar_feed = services.calendar_feed_for_token(token)
    if calendar_feed is None:
        raise Http404(NOT_FOUND)
    body = selectors.feed_ics(calendar_feed.user, base_url=selectors.site_url(request))
    services.calendar_feed_record_fetch(feed=calendar_feed)
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    unchanged = get_conditional_response(request, etag=etag)
    response = unchanged or HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response.headers["ETag"] = etag
    response.headers["Content-Disposition"] = 'inline; filename="tandem.ics"'
    # The address is a secret: no shared cache keeps the feed, and no page it is linked
    # from learns it.
    patch_cache_control(response, private=True, no_cache=True)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@login_required
def feed_page(request):
    return _render_page(request)


@require_POST
@login_required
def feed_new_address(request):
    """Make (or replace) the address and show it in this one response: it is never stored,
    not even in a message."""
    token = services.calendar_feed_new_address(user=request.user)
    response = _render_page(request, token=token)
    patch_cache_control(response, no_store=True)  # the one page with the secret on it
    return response


@require_POST
@login_required
def feed_revoke(request):
    if services.calendar_feed_revoke(user=request.user):
        messages.success(
            request, "Your calendar address is revoked: calendar apps get nothing from it now."
        )
    else:
        messages.info(request, "You had no calendar address to revoke.")
    return redirect("calendar_feed")


def _render_page(request, *, token: str | None = None):
    calendar_feed = CalendarFeed.objects.filter(user=request.user).first()
    feed_url = ""
    if token is not None:
        feed_url = selectors.site_url(request) + reverse("calendar_feed_ics", args=[token])
    return render(
        request,
        "coordination/calendar_feed.html",
        {
            "section": "calendar",
            "feed": calendar_feed,
            "feed_url": feed_url,
            "webcal_url": feed_url.replace("https://", "webcal://", 1).replace(
                "http://", "webcal://", 1
            ),
            "refresh_hours": int(selectors.REFRESH_INTERVAL.total_seconds() // 3600),
            "past_days": selectors.PAST_DAYS,
        },
    )
