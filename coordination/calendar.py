"""A person's calendar feed: each app registers the events it can list for a user.

A source is a function `(user, since) -> list[CalendarEvent]`, registered with the
permissions that make it relevant (those of its objects and of the pages it links); it lists
what ends on or after `since` and loads it in a fixed number of queries, however many
events there are. Apps register in their AppConfig.ready (their calendar_events.py), so
coordination never imports the apps above it. The feed itself is written by
coordination.selectors.calendar_feeds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

TENTATIVE = "TENTATIVE"
CONFIRMED = "CONFIRMED"
CANCELLED = "CANCELLED"


@dataclass(frozen=True)
class CalendarEvent:
    """One event. `uid` names the object ("promotion-18"), so a calendar app replaces the
    event when it changes. Dates are all-day with `end` exclusive (a week is Monday to the
    next Monday); datetimes are a timed event. `url` is the page's path in Tandem."""

    uid: str
    summary: str
    start: dt.date | dt.datetime
    end: dt.date | dt.datetime
    url: str
    revised_at: dt.datetime  # DTSTAMP / LAST-MODIFIED: when the object last changed
    description: str = ""
    status: str = CONFIRMED
    categories: tuple[str, ...] = field(default_factory=tuple)
    location: str = ""


@dataclass(frozen=True)
class Source:
    name: str
    permissions: tuple[str, ...]  # every one needed: the events' and their pages'
    events: Callable[[object, dt.date], list[CalendarEvent]]


SOURCES: list[Source] = []


def register(
    name: str,
    events: Callable[[object, dt.date], list[CalendarEvent]],
    *,
    permissions: tuple[str, ...],
) -> None:
    """`permissions`: what the person needs to see these events and the pages they link."""
    if any(source.name == name for source in SOURCES):
        return  # ready() may run twice in tests; a source is registered once
    SOURCES.append(Source(name, permissions, events))
    SOURCES.sort(key=lambda source: source.name)


def events_for(user, since: dt.date) -> list[CalendarEvent]:
    """Every event the user may see that ends on or after `since`, by start then uid."""
    events: list[CalendarEvent] = []
    for source in SOURCES:
        if not user.has_perms(source.permissions):
            continue
        events.extend(source.events(user, since))
    return sorted(events, key=lambda event: (_as_date(event.start), event.uid))


def _as_date(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def due_date(
    *, uid: str, what: str, due: dt.date, url: str, revised_at: dt.datetime, about: str, kind: str
) -> CalendarEvent:
    """Something the person must have done by `due`: an all-day event on that day."""
    return CalendarEvent(
        uid,
        f"Due: {what}",
        due,
        day_after(due),
        url,
        revised_at,
        about,
        CONFIRMED,
        ("Tandem", kind),
    )


def day_after(day: dt.date) -> dt.date:
    """The exclusive end of an all-day event on `day`."""
    return day + dt.timedelta(days=1)


def week_end(monday: dt.date) -> dt.date:
    """The exclusive end of an all-day event lasting through the week of `monday`."""
    return monday + dt.timedelta(days=7)
