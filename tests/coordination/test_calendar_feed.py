"""A person's iCalendar feed at a secret address, read back with the `icalendar` parser:
what it lists for whom, the address as the only credential (revoke, replace, unknown),
its caching headers, and the page where a person gets the address."""

from __future__ import annotations

import datetime as dt
import re
import urllib.error
import urllib.request
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from coordination import config, roles
from coordination.models import CalendarFeed
from coordination.services import calendar_feeds
from coordination.weeks import add_weeks, current_week
from planning.models import CycleDecision, PlanningCycle
from recalls.models import RecallTask
from tests.factories import (
    CapacityExceptionFactory,
    CustomerRequestFactory,
    LineFactory,
    ProductFactory,
    PromotionFactory,
    PromotionItemFactory,
)
from tests.recalls.test_api import open_recall

pytestmark = pytest.mark.django_db
BASE = "http://testserver"


def feed_path(token: str) -> str:
    return reverse("calendar_feed_ics", args=[token])


def read_feed(client: Client, token: str) -> Calendar:
    response = client.get(feed_path(token))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def events_of(feed: Calendar) -> dict[str, dict]:
    """Each VEVENT by UID, as plain values."""
    events = {}
    for event in feed.walk("VEVENT"):
        events[str(event["UID"])] = {
            "summary": str(event["SUMMARY"]),
            "start": event.decoded("DTSTART"),
            "end": event.decoded("DTEND"),
            "url": str(event["URL"]),
            "status": str(event["STATUS"]),
        }
    return events


@pytest.fixture
def line():
    return LineFactory(name="Canning 2", weekly_capacity_hours=Decimal("80.0"))


@pytest.fixture
def product(line):
    return ProductFactory(sku="SPT-ORG-05", name="Sports drink orange 0.5 l", production_line=line)


@pytest.fixture
def world(marketing_user, sales_user, quality_user, production_user, product, line):
    """One of each kind of event, plus what must stay out of the marketing user's feed."""
    week = current_week()
    today = timezone.localdate()
    confirmed = PromotionFactory(
        name="New year fitness",
        status="confirmed",
        start_week=add_weeks(week, 3),
        end_week=add_weeks(week, 4),
        created_by=marketing_user,
    )
    PromotionItemFactory(promotion=confirmed, product=product)
    draft = PromotionFactory(
        name="Juice blitz", start_week=add_weeks(week, 6), end_week=add_weeks(week, 6)
    )
    cancelled = PromotionFactory(
        name="Spring water week",
        status="cancelled",
        start_week=add_weeks(week, 1),
        end_week=add_weeks(week, 1),
    )
    # Ended 15 weeks ago: older than the feed's 90 days.
    PromotionFactory(
        name="Long gone",
        status="confirmed",
        start_week=add_weeks(week, -16),
        end_week=add_weeks(week, -15),
    )
    shutdown = CapacityExceptionFactory(line=line, week=add_weeks(week, 2), note="Maintenance")
    short = CapacityExceptionFactory(
        line=line, week=add_weeks(week, 5), hours=Decimal("40.0"), note="Holiday"
    )
    mine = CustomerRequestFactory(
        summary="25,000 cartons of apple juice",
        customer_name="Metro Foods",
        assignee=marketing_user,
        due_date=today + dt.timedelta(days=3),
    )
    CustomerRequestFactory(assignee=sales_user, due_date=today + dt.timedelta(days=3))
    CustomerRequestFactory(assignee=marketing_user, status="resolved")
    incident = open_recall(quality_user, [product], title="Caps may not seal")
    RecallTask.objects.filter(incident=incident).delete()  # whatever opening it added
    task = RecallTask.objects.create(
        incident=incident,
        title="Draft the press statement",
        department="marketing",
        owner=marketing_user,
        due_date=today + dt.timedelta(days=1),
    )
    for title, owner, done_at in (
        ("Already done", marketing_user, timezone.now()),
        ("Someone else's", quality_user, None),
    ):
        RecallTask.objects.create(
            incident=incident,
            title=title,
            department="quality",
            owner=owner,
            due_date=today,
            done_at=done_at,
        )
    cycle = PlanningCycle.objects.create(
        name="Next month",
        period_start=today.replace(day=1),
        period_end=today.replace(day=1) + dt.timedelta(days=27),
        opened_by=production_user,
    )
    action = CycleDecision.objects.create(
        cycle=cycle,
        kind="action",
        text="Check the juice margin\nwith finance",
        department="marketing",
        owner=marketing_user,
        due_date=today + dt.timedelta(days=10),
        created_by=production_user,
    )
    return {
        "week": week,
        "today": today,
        "confirmed": confirmed,
        "draft": draft,
        "cancelled": cancelled,
        "shutdown": shutdown,
        "short": short,
        "request": mine,
        "incident": incident,
        "task": task,
        "cycle": cycle,
        "action": action,
    }


def test_the_feed_lists_exactly_what_the_person_may_see_and_must_do(client, marketing_user, world):
    token = calendar_feeds.calendar_feed_new_address(user=marketing_user)

    feed = read_feed(client, token)

    week, today = world["week"], world["today"]
    day = dt.timedelta(days=1)
    code = world["incident"].code
    assert events_of(feed) == {
        f"promotion-{world['confirmed'].pk}@testserver": {
            "summary": "Promotion: New year fitness",
            "start": add_weeks(week, 3),
            "end": add_weeks(week, 5),  # through the Sunday of its last week
            "url": f"{BASE}/promotions/{world['confirmed'].pk}/",
            "status": "CONFIRMED",
        },
        f"promotion-{world['draft'].pk}@testserver": {
            "summary": "Draft promotion: Juice blitz",
            "start": add_weeks(week, 6),
            "end": add_weeks(week, 7),
            "url": f"{BASE}/promotions/{world['draft'].pk}/",
            "status": "TENTATIVE",
        },
        f"promotion-{world['cancelled'].pk}@testserver": {
            "summary": "Cancelled promotion: Spring water week",
            "start": add_weeks(week, 1),
            "end": add_weeks(week, 2),
            "url": f"{BASE}/promotions/{world['cancelled'].pk}/",
            "status": "CANCELLED",
        },
        f"capacity-exception-{world['shutdown'].pk}@testserver": {
            "summary": "Canning 2 shut down: Maintenance",
            "start": add_weeks(week, 2),
            "end": add_weeks(week, 3),
            "url": f"{BASE}/production/lines/{world['shutdown'].line_id}/",
            "status": "CONFIRMED",
        },
        f"capacity-exception-{world['short'].pk}@testserver": {
            "summary": "Canning 2 short week, 40.0 h of 80.0 h: Holiday",
            "start": add_weeks(week, 5),
            "end": add_weeks(week, 6),
            "url": f"{BASE}/production/lines/{world['short'].line_id}/",
            "status": "CONFIRMED",
        },
        f"customer-request-{world['request'].pk}@testserver": {
            "summary": (
                f"Due: request #{world['request'].pk} from Metro Foods: "
                "25,000 cartons of apple juice"
            ),
            "start": today + 3 * day,
            "end": today + 4 * day,
            "url": f"{BASE}/requests/{world['request'].pk}/",
            "status": "CONFIRMED",
        },
        f"recall-task-{world['task'].pk}@testserver": {
            "summary": f"Due: Draft the press statement ({code})",
            "start": today + day,
            "end": today + 2 * day,
            "url": f"{BASE}/recalls/{code}/tasks/",
            "status": "CONFIRMED",
        },
        f"planning-action-{world['action'].pk}@testserver": {
            "summary": "Due: Check the juice margin",
            "start": today + 10 * day,
            "end": today + 11 * day,
            "url": f"{BASE}/planning/{world['cycle'].pk}/",
            "status": "CONFIRMED",
        },
    }


def test_the_calendar_names_itself_and_asks_to_be_refreshed_hourly(client, marketing_user, world):
    marketing_user.first_name, marketing_user.last_name = "Mara", "Jones"
    marketing_user.save()
    token = calendar_feeds.calendar_feed_new_address(user=marketing_user)

    feed = read_feed(client, token)

    assert str(feed["X-WR-CALNAME"]) == "Tandem: Mara Jones"
    assert str(feed["PRODID"]) == "-//Tandem//Calendar feed//EN"
    assert feed.decoded("REFRESH-INTERVAL") == dt.timedelta(hours=1)
    assert feed["REFRESH-INTERVAL"].params["VALUE"] == "DURATION"
    assert feed["X-PUBLISHED-TTL"] == "PT1H"
    promotion = world["confirmed"]
    event = next(
        e for e in feed.walk("VEVENT") if e["UID"] == f"promotion-{promotion.pk}@testserver"
    )
    # DTSTAMP is when the promotion last changed, so an unchanged feed is byte-identical.
    assert event.decoded("DTSTAMP") == promotion.updated_at.replace(microsecond=0)
    assert str(event["DESCRIPTION"]) == (
        "Confirmed, all channels, 20.0% off.\n"
        "Products: SPT-ORG-05 Sports drink orange 0.5 l.\n\n"
        f"{BASE}/promotions/{promotion.pk}/"
    )
    assert str(event["TRANSP"]) == "TRANSPARENT"


def test_uids_stay_the_same_when_an_event_changes(client, marketing_user, world):
    token = calendar_feeds.calendar_feed_new_address(user=marketing_user)
    before = events_of(read_feed(client, token))
    promotion = world["confirmed"]
    promotion.name = "New year fitness: sports drinks"
    promotion.start_week = add_weeks(promotion.start_week, 1)
    promotion.save()

    after = events_of(read_feed(client, token))

    uid = f"promotion-{promotion.pk}@testserver"
    assert set(after) == set(before)
    assert after[uid]["summary"] == "Promotion: New year fitness: sports drinks"
    assert after[uid]["start"] == add_weeks(world["week"], 4)


def test_a_person_sees_only_what_their_role_may(client, make_user, world, marketing_user):
    """Someone with no role gets an empty calendar, even for a task and a request assigned
    to them; a production manager gets the promotions and shutdowns but not marketing's
    due dates."""
    nobody = make_user(username="norole")
    RecallTask.objects.create(
        incident=world["incident"],
        title="Assigned anyway",
        department="quality",
        owner=nobody,
        due_date=world["today"],
    )
    CustomerRequestFactory(assignee=nobody, due_date=world["today"])
    production = make_user(roles.PRODUCTION, username="prod2")

    empty = read_feed(client, calendar_feeds.calendar_feed_new_address(user=nobody))
    production_feed = read_feed(client, calendar_feeds.calendar_feed_new_address(user=production))

    assert events_of(empty) == {}
    assert sorted(uid.split("-")[0] for uid in events_of(production_feed)) == [
        "capacity",
        "capacity",
        "promotion",
        "promotion",
        "promotion",
    ]


def test_the_feed_needs_no_session_and_sets_none(marketing_user, world):
    token = calendar_feeds.calendar_feed_new_address(user=marketing_user)
    client = Client()

    response = client.get(feed_path(token))

    assert response.status_code == 200
    assert "sessionid" not in response.cookies
    assert response["Cache-Control"] == "private, no-cache"
    assert response["Referrer-Policy"] == "no-referrer"


def test_an_unknown_or_malformed_address_is_404_and_says_nothing(client, marketing_user):
    calendar_feeds.calendar_feed_new_address(user=marketing_user)
    before = list(CalendarFeed.objects.values_list("pk", "token_hash", "last_fetched_at"))

    for token in ("x" * 43, "short", "A" * 300, ".."):
        response = client.get(f"/calendar/{token}.ics")
        assert response.status_code == 404, token
        assert b"mara" not in response.content
    # A NUL character is refused before any view, like everywhere in Tandem.
    assert client.get("/calendar/%00.ics").status_code == 400

    assert list(CalendarFeed.objects.values_list("pk", "token_hash", "last_fetched_at")) == before


def test_a_revoked_address_is_404_and_nothing_is_written(client, marketing_user):
    token = calendar_feeds.calendar_feed_new_address(user=marketing_user)
    assert client.get(feed_path(token)).status_code == 200

    assert calendar_feeds.calendar_feed_revoke(user=marketing_user) is True
    response = client.get(feed_path(token))

    assert response.status_code == 404
    assert b"mara" not in response.content
    assert CalendarFeed.objects.count() == 0
    assert calendar_feeds.calendar_feed_revoke(user=marketing_user) is False


def test_a_new_address_replaces_the_old_one(client, marketing_user):
    old = calendar_feeds.calendar_feed_new_address(user=marketing_user)
    new = calendar_feeds.calendar_feed_new_address(user=marketing_user)

    assert new != old
    assert len(new) == 43
    assert client.get(feed_path(old)).status_code == 404
    assert client.get(feed_path(new)).status_code == 200
    assert CalendarFeed.objects.filter(user=marketing_user).count() == 1


def test_the_token_is_not_stored(marketing_user):
    token = calendar_feeds.calendar_feed_new_address(user=marketing_user)

    feed = CalendarFeed.objects.get(user=marketing_user)
    assert token not in feed.token_hash
    assert re.fullmatch(r"[0-9a-f]{64}", feed.token_hash)


def test_a_deactivated_persons_address_stops_working(client, marketing_user):
    token = calendar_feeds.calendar_feed_new_address(user=marketing_user)
    marketing_user.is_active = False
    marketing_user.save()

    assert client.get(feed_path(token)).status_code == 404


def test_a_fetch_is_recorded_at_most_once_per_quarter_hour(client, marketing_user):
    token = calendar_feeds.calendar_feed_new_address(user=marketing_user)
    assert CalendarFeed.objects.get().last_fetched_at is None

    client.get(feed_path(token))
    first = CalendarFeed.objects.get().last_fetched_at
    client.get(feed_path(token))

    assert first is not None
    assert CalendarFeed.objects.get().last_fetched_at == first
    feed = CalendarFeed.objects.get()
    later = first + dt.timedelta(minutes=16)
    assert calendar_feeds.calendar_feed_record_fetch(feed=feed, now=later) is True
    assert CalendarFeed.objects.get().last_fetched_at == later


def test_an_unchanged_feed_answers_304_to_its_etag_and_head_has_no_body(
    client, marketing_user, world
):
    token = calendar_feeds.calendar_feed_new_address(user=marketing_user)
    first = client.get(feed_path(token))
    etag = first["ETag"]

    unchanged = client.get(feed_path(token), HTTP_IF_NONE_MATCH=etag)
    head = client.head(feed_path(token))
    world["draft"].name = "Juice shelf blitz"
    world["draft"].save()
    changed = client.get(feed_path(token), HTTP_IF_NONE_MATCH=etag)

    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert head.status_code == 200
    assert head.content == b""
    assert head["ETag"] == etag
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert b"Juice shelf blitz" in changed.content


def test_text_people_typed_cannot_break_out_of_its_event(client, marketing_user):
    name = "Lemon\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nSUMMARY:Injected; a,b"
    PromotionFactory(name=name)
    token = calendar_feeds.calendar_feed_new_address(user=marketing_user)

    events = read_feed(client, token).walk("VEVENT")

    # One event, its summary the whole name (iCalendar text has plain line breaks).
    expected = name.replace("\r\n", "\n")
    assert [str(event["SUMMARY"]) for event in events] == [f"Draft promotion: {expected}"]


def test_the_feed_refuses_writes(client, marketing_user):
    token = calendar_feeds.calendar_feed_new_address(user=marketing_user)

    assert client.post(feed_path(token)).status_code == 405


def test_queries_do_not_grow_with_the_number_of_events(client, marketing_user, product, line):
    token = calendar_feeds.calendar_feed_new_address(user=marketing_user)
    client.get(feed_path(token))  # the fetch stamp is written once, on the first read

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(feed_path(token)).status_code == 200
        return len(captured)

    def add_events(count: int, start: int):
        for k in range(start, start + count):
            promotion = PromotionFactory(start_week=add_weeks(current_week(), k % 20))
            PromotionItemFactory(promotion=promotion, product=product)
            PromotionItemFactory(promotion=promotion)
            CapacityExceptionFactory(line=line, week=add_weeks(current_week(), k))
            CustomerRequestFactory(assignee=marketing_user)

    add_events(2, 0)
    few = queries()
    add_events(20, 2)
    many = queries()

    assert many == few
    assert few <= 12
    assert len(events_of(Calendar.from_ical(client.get(feed_path(token)).content))) == 66


def test_links_use_site_url_when_it_is_set(client, marketing_user, world, settings):
    settings.SITE_URL = "https://tandem.example.com"
    token = calendar_feeds.calendar_feed_new_address(user=marketing_user)

    events = events_of(read_feed(client, token))

    uid = f"promotion-{world['confirmed'].pk}@tandem.example.com"
    assert events[uid]["url"] == f"https://tandem.example.com/promotions/{world['confirmed'].pk}/"


# ------------------------------------------------------------------------------ the page


def test_the_page_makes_an_address_and_shows_it_once(client, marketing_user):
    client.force_login(marketing_user)

    first_visit = client.get(reverse("calendar_feed"))
    made = client.post(reverse("calendar_feed_new"))
    second_visit = client.get(reverse("calendar_feed"))

    assert first_visit.status_code == 200
    assert b"Make my calendar address" in first_visit.content
    assert made.status_code == 200
    assert made["Cache-Control"] == "no-store"
    urls = re.findall(rb'value="(http://testserver/calendar/[A-Za-z0-9_-]{43}\.ics)"', made.content)
    assert len(urls) == 1
    url = urls[0].decode()
    assert b'href="webcal://testserver/calendar/' in made.content
    assert second_visit.status_code == 200
    assert url.encode() not in second_visit.content
    assert b"Make a new address" in second_visit.content
    assert client.get(url.removeprefix(BASE)).status_code == 200


def test_a_new_address_from_the_page_retires_the_old_one(client, marketing_user):
    old = calendar_feeds.calendar_feed_new_address(user=marketing_user)
    client.force_login(marketing_user)

    response = client.post(reverse("calendar_feed_new"))

    new = re.search(rb"/calendar/([A-Za-z0-9_-]{43})\.ics", response.content).group(1).decode()
    assert client.get(feed_path(old)).status_code == 404
    assert client.get(feed_path(new)).status_code == 200


def test_revoke_from_the_page(client, marketing_user):
    token = calendar_feeds.calendar_feed_new_address(user=marketing_user)
    client.force_login(marketing_user)

    response = client.post(reverse("calendar_feed_revoke"), follow=True)
    again = client.post(reverse("calendar_feed_revoke"), follow=True)

    assert response.redirect_chain == [(reverse("calendar_feed"), 302)]
    assert b"Your calendar address is revoked" in response.content
    assert b"You had no calendar address to revoke." in again.content
    assert client.get(feed_path(token)).status_code == 404


def test_the_page_needs_a_signed_in_person_and_csrf_and_post(marketing_user):
    anonymous = Client(enforce_csrf_checks=True)
    assert anonymous.get(reverse("calendar_feed")).status_code == 302
    assert anonymous.post(reverse("calendar_feed_new")).status_code == 403  # no CSRF token

    signed_in = Client(enforce_csrf_checks=True)
    signed_in.force_login(marketing_user)
    assert signed_in.post(reverse("calendar_feed_new")).status_code == 403
    assert signed_in.get(reverse("calendar_feed_new")).status_code == 405
    assert signed_in.get(reverse("calendar_feed_revoke")).status_code == 405
    assert CalendarFeed.objects.count() == 0


def test_someone_elses_feed_cannot_be_touched_from_the_page(client, marketing_user, sales_user):
    token = calendar_feeds.calendar_feed_new_address(user=sales_user)
    client.force_login(marketing_user)

    client.post(reverse("calendar_feed_revoke"))

    assert client.get(feed_path(token)).status_code == 200


def test_an_event_needs_the_permissions_of_its_page_too(client, make_user, world):
    """Capacity exceptions link to the line's page: a person who may read the exceptions
    but not the lines gets none (the link would answer 403)."""
    person = make_user(username="partial")
    person.user_permissions.add(
        Permission.objects.get(
            content_type__app_label="production", codename="view_capacityexception"
        )
    )
    token = calendar_feeds.calendar_feed_new_address(user=person)
    without_lines = events_of(read_feed(client, token))

    person.user_permissions.add(
        Permission.objects.get(content_type__app_label="coordination", codename="view_line")
    )
    with_lines = events_of(read_feed(client, token))

    assert without_lines == {}
    assert sorted(with_lines) == [
        f"capacity-exception-{world['shutdown'].pk}@testserver",
        f"capacity-exception-{world['short'].pk}@testserver",
    ]


def test_a_promotion_of_many_products_names_the_first_ten(client, marketing_user):
    promotion = PromotionFactory(name="Whole range week")
    for k in range(12):
        PromotionItemFactory(
            promotion=promotion, product=ProductFactory(sku=f"RNG-{k:02d}", name=f"Drink {k}")
        )
    token = calendar_feeds.calendar_feed_new_address(user=marketing_user)

    (event,) = read_feed(client, token).walk("VEVENT")

    listed = ", ".join(f"RNG-{k:02d} Drink {k}" for k in range(10))
    assert str(event["DESCRIPTION"]).splitlines()[1] == f"Products: {listed} and 2 more."


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", ""),
        ("https://tandem.example.com/", "https://tandem.example.com"),
        ("http://10.0.0.5:8000", "http://10.0.0.5:8000"),
        ("https://example.com/tandem", "https://example.com/tandem"),
    ],
)
def test_site_url_comes_from_the_environment(value, expected):
    assert config.site_url({"SITE_URL": value}) == expected


@pytest.mark.parametrize(
    "value", ["tandem.example.com", "ftp://tandem.example.com", "https://", "https://a b.com"]
)
def test_a_site_url_that_is_not_an_http_address_stops_the_start(value):
    with pytest.raises(ImproperlyConfigured, match="SITE_URL must be an http"):
        config.site_url({"SITE_URL": value})


# -------------------------------------------------------------------- over real HTTP


def test_a_calendar_app_reads_the_feed_over_http_and_revalidates_it(
    live_server, marketing_user, world
):
    """What a calendar app does: GET the address with no cookies, parse it, come back
    with If-None-Match and get 304 while nothing changed."""
    token = calendar_feeds.calendar_feed_new_address(user=marketing_user)
    address = live_server.url + feed_path(token)

    with urllib.request.urlopen(address, timeout=10) as answer:  # noqa: S310 - the test's server
        body = answer.read()
        etag = answer.headers["ETag"]
        content_type = answer.headers["Content-Type"]
    revalidate = urllib.request.Request(address, headers={"If-None-Match": etag})  # noqa: S310
    with pytest.raises(urllib.error.HTTPError) as not_modified:
        urllib.request.urlopen(revalidate, timeout=10)  # noqa: S310
    with pytest.raises(urllib.error.HTTPError) as unknown:
        urllib.request.urlopen(live_server.url + feed_path("x" * 43), timeout=10)  # noqa: S310

    feed = Calendar.from_ical(body)
    assert content_type == "text/calendar; charset=utf-8"
    assert len(feed.walk("VEVENT")) == 8
    uid = f"promotion-{world['confirmed'].pk}@localhost"
    (event,) = [e for e in feed.walk("VEVENT") if e["UID"] == uid]
    assert str(event["URL"]) == f"{live_server.url}/promotions/{world['confirmed'].pk}/"
    assert not_modified.value.code == 304
    assert unknown.value.code == 404
