"""The planning review's meeting: an admin sets, moves or removes it on the cycle page, and
it reaches every participant's calendar feed as a timed event."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from coordination.errors import StaleEditError
from coordination.models import ActivityEvent
from coordination.services import calendar_feeds
from planning import services
from planning.models import PlanningCycle

pytestmark = pytest.mark.django_db
MEETING = dt.datetime(2026, 12, 14, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def cycle(admin_user):
    return services.planning_cycle_open(actor=admin_user, period_start=dt.date(2026, 12, 1))


def schedule(actor, cycle, **fields):
    return services.planning_cycle_schedule_meeting(
        actor=actor, cycle_id=cycle.pk, expected_version=cycle.version, **fields
    )


def state(cycle) -> tuple:
    cycle.refresh_from_db()
    return (cycle.meeting_at, cycle.meeting_minutes, cycle.meeting_place, cycle.version)


def test_an_admin_sets_the_meeting_and_the_timeline_says_so(admin_user, cycle):
    saved = schedule(
        admin_user, cycle, meeting_at=MEETING, meeting_minutes=90, meeting_place="  Room   2 "
    )

    assert state(saved) == (MEETING, 90, "Room 2", 2)
    assert saved.meeting_scheduled_at is not None
    assert ActivityEvent.objects.filter(object_id=cycle.pk).order_by("-pk").first().message == (
        "Set the review meeting: 14 Dec 2026 10:00, 90 minutes, Room 2."
    )


def test_removing_the_meeting_clears_its_place(admin_user, cycle):
    cycle = schedule(admin_user, cycle, meeting_at=MEETING, meeting_place="Room 2")

    cycle = schedule(admin_user, cycle, meeting_at=None, meeting_place="Room 2")

    assert state(cycle) == (None, 60, "", 3)


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"meeting_minutes": 10}, {"meeting_minutes": ["A meeting lasts 15 to 480 minutes."]}),
        ({"meeting_minutes": 481}, {"meeting_minutes": ["A meeting lasts 15 to 480 minutes."]}),
        ({"meeting_place": "x" * 201}, {"meeting_place": ["At most 200 characters (201)."]}),
        (
            {"meeting_at": dt.datetime(1999, 12, 31, 9, tzinfo=dt.UTC)},
            {"meeting_at": [f"Enter a date from 2000-01-01 to {timezone.localdate().year + 10}"]},
        ),
    ],
)
def test_bad_meetings_are_refused_and_change_nothing(admin_user, cycle, fields, errors):
    before = state(cycle)

    with pytest.raises(ValidationError) as refused:
        schedule(admin_user, cycle, **{"meeting_at": MEETING, **fields})

    got = refused.value.message_dict
    assert set(got) == set(errors)
    for field, messages in errors.items():
        assert got[field][0].startswith(messages[0])
    assert state(cycle) == before


def test_only_an_admin_schedules_and_never_on_a_stale_version(marketing_user, admin_user, cycle):
    before = state(cycle)

    with pytest.raises(PermissionDenied):
        schedule(marketing_user, cycle, meeting_at=MEETING)
    with pytest.raises(StaleEditError):
        services.planning_cycle_schedule_meeting(
            actor=admin_user,
            cycle_id=cycle.pk,
            expected_version=cycle.version + 1,
            meeting_at=MEETING,
        )

    assert state(cycle) == before


def test_a_closed_cycles_meeting_is_over(admin_user, cycle):
    PlanningCycle.objects.filter(pk=cycle.pk).update(
        status="closed", agreed_at=timezone.now(), closed_at=timezone.now()
    )

    with pytest.raises(ValidationError) as refused:
        schedule(admin_user, cycle, meeting_at=MEETING)

    assert refused.value.messages == ["December 2026 is closed: its meeting is over."]


def test_the_meeting_is_a_timed_event_in_everyones_feed(client, admin_user, sales_user, cycle):
    schedule(admin_user, cycle, meeting_at=MEETING, meeting_minutes=90, meeting_place="Room 2")
    token = calendar_feeds.calendar_feed_new_address(user=sales_user)

    response = client.get(reverse("calendar_feed_ics", args=[token]))

    (event,) = [
        e
        for e in Calendar.from_ical(response.content).walk("VEVENT")
        if e["UID"] == f"planning-meeting-{cycle.pk}@testserver"
    ]
    assert str(event["SUMMARY"]) == "Planning review: December 2026"
    assert event.decoded("DTSTART") == MEETING
    assert event.decoded("DTEND") == MEETING + dt.timedelta(minutes=90)
    assert str(event["LOCATION"]) == "Room 2"
    assert str(event["URL"]) == f"http://testserver/planning/{cycle.pk}/"
    assert str(event["TRANSP"]) == "OPAQUE"


# ------------------------------------------------------------------------------ the page


def test_the_cycle_page_schedules_the_meeting(client, admin_user, cycle):
    client.force_login(admin_user)

    response = client.post(
        reverse("planning_meeting", args=[cycle.pk]),
        {
            "version": cycle.version,
            "meeting_at": "2026-12-14T10:00",
            "meeting_minutes": "45",
            "meeting_place": "Room 2",
        },
        follow=True,
    )

    assert response.redirect_chain == [(reverse("planning_detail", args=[cycle.pk]), 302)]
    assert b"Saved the meeting of December 2026." in response.content
    assert b"Monday 14 Dec 2026, 10:00, 45 minutes, Room 2" in response.content
    assert state(cycle)[:3] == (MEETING, 45, "Room 2")
    assert b"<td>Mon 14 Dec, 10:00</td>" in client.get(reverse("planning_list")).content


def test_the_page_shows_a_bad_meeting_at_its_field(client, admin_user, cycle):
    client.force_login(admin_user)
    before = state(cycle)

    response = client.post(
        reverse("planning_meeting", args=[cycle.pk]),
        {"version": cycle.version, "meeting_at": "not a date", "meeting_minutes": "5"},
    )

    assert response.status_code == 400
    form = response.context["meeting_form"]
    assert form.errors == {
        "meeting_at": ["Enter a valid date/time."],
        "meeting_minutes": ["Ensure this value is greater than or equal to 15."],
    }
    assert b"Enter a valid date/time." in response.content
    assert state(cycle) == before


def test_other_roles_get_no_meeting_form_and_are_refused(client, marketing_user, cycle):
    client.force_login(marketing_user)
    before = state(cycle)

    page = client.get(reverse("planning_detail", args=[cycle.pk]))
    refused = client.post(
        reverse("planning_meeting", args=[cycle.pk]),
        {"version": cycle.version, "meeting_at": "2026-12-14T10:00", "meeting_minutes": "60"},
    )

    assert page.status_code == 200
    assert reverse("planning_meeting", args=[cycle.pk]).encode() not in page.content
    assert b"not scheduled yet" in page.content
    assert refused.status_code == 403
    assert state(cycle) == before
