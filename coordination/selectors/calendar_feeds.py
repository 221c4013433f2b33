"""A person's iCalendar feed (RFC 5545), written with the `icalendar` library from the
events the apps register (coordination/calendar.py)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event, vDuration

from coordination import calendar

# Calendar apps poll a subscription at the interval the feed asks for (Outlook and Apple
# Calendar follow it; Google Calendar polls on its own schedule, every few hours).
REFRESH_INTERVAL = dt.timedelta(hours=1)
# Events that ended longer ago than this are left out: the feed stays small however long
# Tandem has been in use, and a calendar app keeps nothing it no longer needs.
PAST_DAYS = 90
PRODUCT_ID = "-//Tandem//Calendar feed//EN"


def site_url(request) -> str:
    """The address links in the feed start with: SITE_URL, or the one the request came to."""
    return settings.SITE_URL or request.build_absolute_uri("/").rstrip("/")


def feed_events(user, *, today: dt.date | None = None) -> list[calendar.CalendarEvent]:
    today = today or timezone.localdate()
    return calendar.events_for(user, today - dt.timedelta(days=PAST_DAYS))


def feed_ics(user, *, base_url: str, today: dt.date | None = None) -> bytes:
    """The user's feed as iCalendar bytes. Stable for unchanged data (no "now" in it), so
    the same content always has the same ETag."""
    host = urlsplit(base_url).hostname or "tandem"
    feed = Calendar()
    feed.add("prodid", PRODUCT_ID)
    feed.add("version", "2.0")
    feed.add("calscale", "GREGORIAN")
    feed.add("method", "PUBLISH")
    name = f"Tandem: {user.get_full_name() or user.username}"
    feed.add("name", name)
    feed.add("x-wr-calname", name)
    feed.add(
        "x-wr-caldesc",
        "Promotions, line shutdowns, planning meetings and your due dates from Tandem.",
    )
    feed.add("x-wr-timezone", settings.TIME_ZONE)
    feed.add("refresh-interval", REFRESH_INTERVAL, parameters={"VALUE": "DURATION"})
    feed.add("x-published-ttl", vDuration(REFRESH_INTERVAL))
    for item in feed_events(user, today=today):
        feed.add_component(_event(item, base_url=base_url, host=host))
    return feed.to_ical()


def _event(item: calendar.CalendarEvent, *, base_url: str, host: str) -> Event:
    url = base_url + item.url
    event = Event()
    event.add("uid", f"{item.uid}@{host}")
    event.add("dtstamp", item.revised_at)
    event.add("last-modified", item.revised_at)
    event.add("dtstart", item.start)
    event.add("dtend", item.end)
    event.add("summary", item.summary)
    # Google Calendar shows no URL property: the link goes in the description too.
    description = f"{item.description}\n\n{url}" if item.description else url
    event.add("description", description)
    event.add("url", url)
    event.add("status", item.status)
    if item.categories:
        event.add("categories", list(item.categories))
    if item.location:
        event.add("location", item.location)
    # An all-day event does not block the person's time; a meeting does.
    event.add("transp", "TRANSPARENT" if _all_day(item) else "OPAQUE")
    return event


def _all_day(item: calendar.CalendarEvent) -> bool:
    return not isinstance(item.start, dt.datetime)
