"""No decision on the schedule is lost to another made meanwhile.

Two planners who saw the same cell decide one after the other: the first wins, the
second is refused (409 in the API, a message at the form in the browser) with who
changed the cell, to what and when, and nothing of it is written. A range accept is
refused the same way when a cell it would change was decided after the schedule version
it was made on. (tests/faults/test_concurrent_decisions.py runs the same race with real
concurrency on PostgreSQL.)"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from coordination import roles
from coordination.models import ActivityEvent
from coordination.weeks import iso_label
from production.models import ScheduleEntry, ScheduleRevision
from tests.factories import LineFactory, ProductFactory, QuotaRecommendationFactory
from tests.production.seen import seen_cell, seen_schedule
from tests.production.test_api_quotas import (
    ACCEPT,
    ACCEPT_RANGE,
    OVERRIDE,
    api,
    label,
    schedule_state,
    week,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def petra(make_user):
    return make_user(roles.PRODUCTION, username="petra", first_name="Petra", last_name="")


@pytest.fixture
def oskar(make_user):
    return make_user(roles.PRODUCTION, username="oskar", first_name="Oskar", last_name="")


@pytest.fixture
def cells():
    """Bottling 1 makes BEV-1001 and BEV-1002; recommendations for weeks 1-3."""
    line = LineFactory(name="Bottling 1")
    products = [
        ProductFactory(sku=sku, production_line=line, lead_time_weeks=1)
        for sku in ("BEV-1001", "BEV-1002")
    ]
    for product in products:
        for offset in (1, 2, 3):
            QuotaRecommendationFactory(product=product, week=week(offset), baseline=100.0)
    return {"line": line, "products": products}


def at(entry: ScheduleEntry) -> str:
    return f"at {timezone.localtime(entry.accepted_at):%H:%M}"


def override_body(seen: dict, units: int, offset: int = 1, sku: str = "BEV-1001") -> dict:
    return {"product": sku, "week": label(offset), "units": units, "reason": "Plant", **seen}


# --- one cell, in the API --------------------------------------------------------------


def test_the_second_of_two_overrides_made_over_the_same_state_is_409(petra, oskar, cells):
    product = cells["products"][0]
    seen = seen_cell(product.pk, week(1))  # both planners loaded the cell: nothing accepted
    assert seen["seen_entry_id"] is None

    first = api(petra).post(OVERRIDE, override_body(seen, 111), format="json")
    assert first.status_code == 201
    before = schedule_state()
    second = api(oskar).post(OVERRIDE, override_body(seen, 222), format="json")

    entry = ScheduleEntry.objects.get()
    message = (
        f"Petra overrode BEV-1001 in {label(1)} to 111 units {at(entry)} since you loaded "
        "it. Review that quota, then decide again."
    )
    assert second.status_code == 409
    assert second.json() == {"error": {"code": "stale_edit", "message": message, "fields": {}}}
    assert schedule_state() == before
    assert (entry.units, entry.accepted_by, entry.pk) == (111, petra, first.json()["id"])
    assert ActivityEvent.objects.filter(actor=oskar).count() == 0


def test_an_accept_over_a_decision_made_meanwhile_is_409(petra, oskar, cells):
    product = cells["products"][0]
    seen = seen_cell(product.pk, week(1))
    api(petra).post(ACCEPT, {"product": "BEV-1001", "week": label(1), **seen}, format="json")
    earlier = ScheduleEntry.objects.get()
    override = api(petra).post(
        OVERRIDE, override_body(seen_cell(product.pk, week(1)), 1_500), format="json"
    )
    before = schedule_state()

    # Oskar loaded the cell after the accept, before the override.
    stale = {**seen, "seen_entry_id": earlier.pk}
    response = api(oskar).post(
        ACCEPT, {"product": "BEV-1001", "week": label(1), **stale}, format="json"
    )

    current = ScheduleEntry.objects.get(pk=override.json()["id"])
    assert response.status_code == 409
    assert response.json()["error"]["message"] == (
        f"Petra overrode BEV-1001 in {label(1)} to 1,500 units {at(current)} since you loaded "
        "it. Review that quota, then decide again."
    )
    assert schedule_state() == before


def test_a_decision_over_the_current_entry_supersedes_it(petra, oskar, cells):
    product = cells["products"][0]
    api(petra).post(
        OVERRIDE, override_body(seen_cell(product.pk, week(1)), 111), format="json"
    ).json()
    first = ScheduleEntry.objects.get()

    response = api(oskar).post(
        OVERRIDE, override_body({**seen_cell(product.pk, week(1))}, 222), format="json"
    )

    assert response.status_code == 201
    first.refresh_from_db()
    assert first.superseded_by_id == response.json()["id"]
    assert ScheduleEntry.objects.get(superseded_at__isnull=True).units == 222


@pytest.mark.parametrize("url", [ACCEPT, OVERRIDE])
@pytest.mark.parametrize("missing", ["seen_run_id", "seen_entry_id"])
def test_a_decision_without_what_it_replaces_is_400(petra, cells, url, missing):
    body = override_body(seen_cell(cells["products"][0].pk, week(1)), 5)
    del body[missing]
    before = schedule_state()

    response = api(petra).post(url, body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {missing: ["This field is required."]}
    assert schedule_state() == before


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "A valid integer is required."),
        (0, "Ensure this value is greater than or equal to 1."),
        (True, "A valid integer is required."),
    ],
)
def test_a_malformed_seen_entry_is_400(petra, cells, value, message):
    body = override_body({**seen_cell(cells["products"][0].pk, week(1)), "seen_entry_id": value}, 5)
    before = schedule_state()
    response = api(petra).post(OVERRIDE, body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"seen_entry_id": [message]}
    assert schedule_state() == before


def test_an_entry_where_nothing_is_accepted_is_400(petra, cells):
    seen = {**seen_cell(cells["products"][0].pk, week(1)), "seen_entry_id": 987}
    before = schedule_state()
    response = api(petra).post(OVERRIDE, override_body(seen, 5), format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "seen_entry_id": [
            f"Nothing is accepted for BEV-1001 in {label(1)} yet, so there is no entry 987 "
            "to replace."
        ]
    }
    assert schedule_state() == before


def test_the_recommendation_list_shows_the_entry_to_send(petra, cells):
    product = cells["products"][0]
    created = api(petra).post(
        OVERRIDE, override_body(seen_cell(product.pk, week(1)), 7), format="json"
    )
    rows = api(petra).get("/api/v1/quota-recommendations/?product=BEV-1001").json()["results"]
    assert [(row["week"], row["accepted_entry"], row["accepted_units"]) for row in rows] == [
        (label(1), created.json()["id"], 7),
        (label(2), None, None),
        (label(3), None, None),
    ]


# --- a range, in the API ---------------------------------------------------------------


def range_body(seen_version: int, week_from: int = 1, week_to: int = 3) -> dict:
    return {
        "line": "Bottling 1",
        "from": label(week_from),
        "to": label(week_to),
        "seen_schedule_version": seen_version,
    }


def test_a_range_accept_over_a_cell_decided_meanwhile_is_409(petra, oskar, cells):
    seen_version = seen_schedule()["seen_schedule_version"]  # Oskar loads the grid
    bev1, bev2 = cells["products"]
    api(petra).post(OVERRIDE, override_body(seen_cell(bev1.pk, week(2)), 222, 2), format="json")
    api(petra).post(
        OVERRIDE, override_body(seen_cell(bev2.pk, week(3)), 333, 3, "BEV-1002"), format="json"
    )
    before = schedule_state()

    response = api(oskar).post(ACCEPT_RANGE, range_body(seen_version), format="json")

    latest = ScheduleEntry.objects.get(product=bev2, week=week(3))
    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "stale_edit",
        "message": f"Since schedule version {seen_version}, Petra overrode BEV-1002 in "
        f"{label(3)} to 333 units {at(latest)} (and 1 more). Review the grid, then accept "
        "again.",
        "fields": {},
    }
    assert schedule_state() == before
    fresh = api(oskar).post(
        ACCEPT_RANGE, range_body(seen_schedule()["seen_schedule_version"]), format="json"
    )
    assert fresh.status_code == 201
    # Petra's two overrides stay: a range accept is not a decision about them.
    assert fresh.json()["entries"] == 4
    assert [(k["product"], k["units"]) for k in fresh.json()["kept_overrides"]] == [
        ("BEV-1001", 222),
        ("BEV-1002", 333),
    ]


def test_a_range_accept_is_refused_only_for_cells_it_would_change(petra, oskar, cells):
    seen_version = seen_schedule()["seen_schedule_version"]
    bev1 = cells["products"][0]
    # Accepting a cell as recommended, or deciding outside the range, loses nothing.
    api(petra).post(
        ACCEPT,
        {"product": "BEV-1001", "week": label(1), **seen_cell(bev1.pk, week(1))},
        format="json",
    )
    api(petra).post(OVERRIDE, override_body(seen_cell(bev1.pk, week(3)), 9, 3), format="json")

    response = api(oskar).post(ACCEPT_RANGE, range_body(seen_version, 1, 2), format="json")

    assert response.status_code == 201
    assert response.json()["entries"] == 3  # BEV-1001 week 2, BEV-1002 weeks 1-2


def test_a_range_accept_needs_a_schedule_version_that_exists(petra, cells):
    before = schedule_state()
    client = api(petra)
    missing = {key: value for key, value in range_body(0).items() if key != "seen_schedule_version"}
    future = client.post(ACCEPT_RANGE, range_body(5), format="json")
    absent = client.post(ACCEPT_RANGE, missing, format="json")
    negative = client.post(ACCEPT_RANGE, range_body(-1), format="json")

    assert future.status_code == absent.status_code == negative.status_code == 400
    assert future.json()["error"]["fields"] == {
        "seen_schedule_version": ["There is no schedule version 5: the latest is 0."]
    }
    assert absent.json()["error"]["fields"] == {
        "seen_schedule_version": ["This field is required."]
    }
    assert negative.json()["error"]["fields"] == {
        "seen_schedule_version": ["Ensure this value is greater than or equal to 0."]
    }
    assert schedule_state() == before


# --- the browser ------------------------------------------------------------------------


def explanation(client, sku="BEV-1001", offset=1) -> str:
    return client.get(
        reverse("quota_explain", args=[sku, iso_label(week(offset))])
    ).content.decode()


def hidden(html: str, form_action: str, name: str) -> str:
    form = html[html.index(f'action="{form_action}"') :]
    form = form[: form.index("</form>")]
    start = form.index(f'name="{name}"')
    tag = form[form.rindex("<", 0, start) : form.index(">", start)]
    return tag.split('value="')[1].split('"')[0]


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_in_the_browser_the_second_override_shows_who_changed_what(client, petra, oskar, cells):
    override_url = reverse("quota_override", args=["BEV-1001", iso_label(week(1))])
    client.force_login(oskar)
    oskar_page = explanation(client)
    seen = {name: hidden(oskar_page, override_url, name) for name in ("seen_run", "seen_entry")}
    assert seen["seen_entry"] == "0"
    petras_page = browser(petra).post(override_url, {**seen, "units": "111", "reason": "Tank"})
    assert petras_page.status_code == 302
    petras = ScheduleEntry.objects.get()
    before = schedule_state()

    response = client.post(override_url, {**seen, "units": "222", "reason": "Order"})

    message = (
        f"Petra overrode BEV-1001 in {label(1)} to 111 units {at(petras)} since you loaded it. "
        "Review that quota, then decide again."
    )
    assert response.status_code == 200
    assert response.context["override_form"].non_field_errors() == [message]
    html = response.content.decode()
    assert "accepted quota: <strong>111</strong> (override: Tank)" in html
    assert 'name="units" value="222"' in html  # Oskar's input is kept
    assert schedule_state() == before
    # The form now carries what Oskar sees: overriding again is a knowing decision.
    assert hidden(html, override_url, "seen_entry") == str(petras.pk)
    again = client.post(
        override_url,
        {
            "seen_run": hidden(html, override_url, "seen_run"),
            "seen_entry": str(petras.pk),
            "units": "222",
            "reason": "Order",
        },
    )
    assert again.status_code == 302
    assert ScheduleEntry.objects.get(superseded_at__isnull=True).units == 222


def test_in_the_browser_a_stale_accept_says_who_changed_what(client, petra, oskar, cells):
    accept_url = reverse("quota_accept", args=["BEV-1001", iso_label(week(1))])
    client.force_login(oskar)
    page = explanation(client)
    seen = {name: hidden(page, accept_url, name) for name in ("seen_run", "seen_entry")}
    override_url = reverse("quota_override", args=["BEV-1001", iso_label(week(1))])
    browser(petra).post(override_url, {**seen, "units": "111", "reason": "Tank"})
    petras = ScheduleEntry.objects.get()
    before = schedule_state()

    response = client.post(accept_url, seen, follow=True)

    assert [str(m) for m in response.context["messages"]] == [
        f"Petra overrode BEV-1001 in {label(1)} to 111 units {at(petras)} since you loaded it. "
        "Review that quota, then decide again."
    ]
    assert schedule_state() == before


def test_in_the_browser_a_stale_range_accept_says_who_changed_what(client, petra, oskar, cells):
    client.force_login(oskar)
    grid = client.get(reverse("production_dashboard"), {"line": cells["line"].pk})
    seen_version = grid.context["range_form"]["seen_schedule_version"].value()
    html = grid.content.decode()
    assert f'name="seen_schedule_version" value="{seen_version}"' in html
    bev1 = cells["products"][0]
    api(petra).post(OVERRIDE, override_body(seen_cell(bev1.pk, week(2)), 222, 2), format="json")
    petras = ScheduleEntry.objects.get()
    before = schedule_state()

    response = client.post(
        reverse("quota_accept_range"),
        {
            "line": cells["line"].pk,
            "week_from": iso_label(week(1)),
            "week_to": iso_label(week(3)),
            "seen_schedule_version": seen_version,
        },
        follow=True,
    )

    assert [str(m) for m in response.context["messages"]] == [
        f"Since schedule version {seen_version}, Petra overrode BEV-1001 in {label(2)} to 222 "
        f"units {at(petras)}. Review the grid, then accept again."
    ]
    assert schedule_state() == before
    assert ScheduleRevision.objects.count() == 1


@pytest.mark.parametrize(
    ("url_name", "data"),
    [
        ("quota_accept", {"seen_run": "RUN"}),
        ("quota_accept", {"seen_run": "RUN", "seen_entry": "x"}),
        ("quota_override", {"seen_run": "RUN", "units": "5", "reason": "Why"}),
        ("quota_override", {"seen_run": "RUN", "seen_entry": "-1", "units": "5", "reason": "W"}),
    ],
)
def test_in_the_browser_a_decision_without_what_it_replaces_is_refused(
    client, petra, cells, url_name, data
):
    run_id = seen_cell(cells["products"][0].pk, week(1))["seen_run_id"]
    data = {key: str(run_id) if value == "RUN" else value for key, value in data.items()}
    client.force_login(petra)
    before = schedule_state()

    response = client.post(
        reverse(url_name, args=["BEV-1001", iso_label(week(1))]), data, follow=True
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "Reload the page" in html
    assert schedule_state() == before


def test_in_the_browser_a_range_without_the_schedule_version_is_refused(client, petra, cells):
    client.force_login(petra)
    before = schedule_state()
    data = {"line": cells["line"].pk, "week_from": label(1), "week_to": label(3)}
    for extra in ({}, {"seen_schedule_version": "v2"}):
        response = client.post(reverse("quota_accept_range"), {**data, **extra}, follow=True)
        assert [str(m) for m in response.context["messages"]] == [
            "This form is out of date or incomplete. Reload the page and try again."
        ]
    assert schedule_state() == before
