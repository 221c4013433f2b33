"""Nothing over capacity without a decision: accept, override and range accept, in the
browser and the API, check the line's accepted load per week; over capacity they are
refused (nothing written) unless confirmed with a reason, which is recorded; quotas the
line could not make in a year are refused outright. The load is published per line and
week, charted beside the recommended load, and every week over capacity is an alert."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from coordination.charts import Chart, Series
from coordination.models import ActivityEvent, Line
from coordination.weeks import add_weeks, current_week, iso_label
from production.home_panels import planning_todos
from production.models import ScheduleEntry, ScheduleRevision
from production.selectors.dashboard import alerts, line_overview
from production.views.dashboard import capacity_chart
from tests.factories import (
    CapacityExceptionFactory,
    LineFactory,
    ProductFactory,
    QuotaRecommendationFactory,
    RunRateFactory,
    ScheduleEntryFactory,
)
from tests.production.seen import seen_cell, seen_schedule

pytestmark = pytest.mark.django_db

ACCEPT = "/api/v1/quota-recommendations/accept/"
OVERRIDE = "/api/v1/quota-recommendations/override/"
ACCEPT_RANGE = "/api/v1/quota-recommendations/accept-range/"
LOAD = "/api/v1/schedules/load/"
REFUSAL_TAIL = "Change the quota, or confirm it with a reason to plan it over capacity."


def week(offset: int):
    return add_weeks(current_week(), offset)


def label(offset: int) -> str:
    return iso_label(week(offset))


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def schedule_state() -> tuple:
    """Everything a refused decision must leave alone."""
    return (
        ScheduleRevision.objects.count(),
        list(
            ScheduleEntry.objects.order_by("id").values_list(
                "id", "units", "superseded_at", "over_capacity_hours", "over_capacity_reason"
            )
        ),
        ActivityEvent.objects.count(),
    )


@pytest.fixture
def line():
    """100 hours a week."""
    return LineFactory(name="Bottling 1", weekly_capacity_hours=Decimal("100.0"))


@pytest.fixture
def tea(line):
    """0.01 h a unit: 10,000 units fill a week."""
    product = ProductFactory(sku="TEA-1", production_line=line, lead_time_weeks=1)
    RunRateFactory(product=product, hours_per_unit=Decimal("0.010000"))
    return product


@pytest.fixture
def juice(line):
    """0.02 h a unit: 5,000 units fill a week."""
    product = ProductFactory(sku="JUI-1", production_line=line, lead_time_weeks=1)
    RunRateFactory(product=product, hours_per_unit=Decimal("0.020000"))
    return product


@pytest.fixture
def recs(tea, juice):
    """Next week and the one after: tea 6,000 units (60 h), juice 1,500 units (30 h)."""
    return {
        (product.sku, offset): QuotaRecommendationFactory(
            product=product, week=week(offset), baseline=units
        )
        for offset in (1, 2)
        for product, units in ((tea, 6000.0), (juice, 1500.0))
    }


def over_week(offset: int, accepted: float, capacity: float = 100.0) -> dict:
    return {
        "line": "Bottling 1",
        "week": label(offset),
        "week_start": week(offset).isoformat(),
        "accepted_hours": accepted,
        "capacity_hours": capacity,
        "over_capacity_hours": round(accepted - capacity, 2),
    }


def override_body(units: int, offset: int = 1, sku: str = "TEA-1", **extra) -> dict:
    return {
        "product": sku,
        "week": label(offset),
        "units": units,
        "reason": "Customer pulled the order forward",
        **seen_cell(ProductFactory._meta.model.objects.get(sku=sku).pk, week(offset)),
        **extra,
    }


def accept_body(sku: str = "TEA-1", offset: int = 1, **extra) -> dict:
    return {
        "product": sku,
        "week": label(offset),
        **seen_cell(ProductFactory._meta.model.objects.get(sku=sku).pk, week(offset)),
        **extra,
    }


# --- API ---------------------------------------------------------------------------------


def test_an_override_over_capacity_is_a_409_with_the_weeks_and_changes_nothing(
    production_user, recs
):
    before = schedule_state()

    response = api(production_user).post(OVERRIDE, override_body(12_000), format="json")

    assert response.status_code == 409
    assert response.json() == {
        "error": {
            "code": "over_capacity",
            "message": f"This leaves Bottling 1 over capacity in 1 week: {label(1)}: 120.0 h "
            f"of 100.0 h, 20.0 h over. {REFUSAL_TAIL}",
            "fields": {},
            "weeks": [over_week(1, 120.0)],
        }
    }
    assert schedule_state() == before


def test_an_override_allowed_over_capacity_is_written_and_records_the_decision(
    production_user, recs, line
):
    response = api(production_user).post(
        OVERRIDE, override_body(12_000, allow_over_capacity=True), format="json"
    )

    assert response.status_code == 201
    entry = ScheduleEntry.objects.get(pk=response.json()["id"])
    assert (entry.units, entry.over_capacity_hours, entry.over_capacity_reason) == (
        12_000,
        20.0,
        "Customer pulled the order forward",
    )
    event = ActivityEvent.objects.filter(object_id=line.pk, data__has_key="over_capacity").get()
    assert event.message == (
        f"Planned over capacity (Overrode TEA-1 {label(1)}: 12000 units (recommended 6000) — "
        f"Customer pulled the order forward): {label(1)}: 120.0 h of 100.0 h, 20.0 h over — "
        "Customer pulled the order forward"
    )
    assert event.data == {
        "over_capacity": [over_week(1, 120.0)],
        "reason": "Customer pulled the order forward",
    }


def test_a_refused_decision_keeps_no_idempotency_key_so_the_confirmation_may_reuse_it(
    production_user, recs
):
    client = api(production_user)
    key = {"HTTP_IDEMPOTENCY_KEY": "0f8e6a3c-5d41-4c2b-9d7e-2b1f7c9e4a10"}

    refused = client.post(OVERRIDE, override_body(12_000), format="json", **key)
    confirmed = client.post(
        OVERRIDE, override_body(12_000, allow_over_capacity=True), format="json", **key
    )

    assert (refused.status_code, confirmed.status_code) == (409, 201)
    assert ScheduleEntry.objects.get().over_capacity_hours == 20.0


def test_an_accept_that_fills_a_week_past_capacity_is_refused(production_user, recs, juice):
    """Juice already accepted at 3,000 units (60 h): tea's 6,000 (60 h) makes 120 h."""
    ScheduleEntryFactory(product=juice, week=week(1), units=3000)
    before = schedule_state()

    response = api(production_user).post(ACCEPT, accept_body(), format="json")

    assert response.status_code == 409
    assert response.json()["error"]["weeks"] == [over_week(1, 120.0)]
    assert schedule_state() == before


def test_allowing_over_capacity_without_a_reason_is_refused_and_says_so(
    production_user, recs, juice
):
    ScheduleEntryFactory(product=juice, week=week(1), units=3000)
    before = schedule_state()

    response = api(production_user).post(
        ACCEPT, accept_body(allow_over_capacity=True, reason="  "), format="json"
    )

    assert response.status_code == 409
    error = response.json()["error"]
    assert (error["code"], error["fields"], error["weeks"]) == (
        "over_capacity",
        {"reason": ["Say why the line may go over capacity."]},
        [over_week(1, 120.0)],
    )
    assert schedule_state() == before


def test_an_accept_allowed_with_a_reason_records_it(production_user, recs, juice):
    ScheduleEntryFactory(product=juice, week=week(1), units=3000)

    response = api(production_user).post(
        ACCEPT,
        accept_body(allow_over_capacity=True, reason="Saturday shift agreed"),
        format="json",
    )

    assert response.status_code == 201
    entry = ScheduleEntry.objects.get(pk=response.json()["id"])
    assert (entry.units, entry.over_capacity_hours, entry.over_capacity_reason) == (
        6000,
        20.0,
        "Saturday shift agreed",
    )


def test_a_shutdown_week_counts_its_exception_hours(production_user, recs, line):
    CapacityExceptionFactory(line=line, week=week(1), hours=Decimal("50.0"), note="Shutdown")

    response = api(production_user).post(ACCEPT, accept_body(), format="json")

    assert response.status_code == 409
    assert response.json()["error"]["weeks"] == [over_week(1, 60.0, capacity=50.0)]


def test_an_absurd_quota_is_a_400_even_when_over_capacity_is_allowed(production_user, recs):
    """600,000 units take 6,000 h; the line makes 52 x 100 = 5,200 h a year."""
    before = schedule_state()

    response = api(production_user).post(
        OVERRIDE, override_body(600_000, allow_over_capacity=True), format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "units": [
            "600,000 units of TEA-1 take 6,000 line hours: more than Bottling 1 can make in a "
            "year (52 weeks x 100.0 h = 5,200 h). Enter the quota you mean."
        ]
    }
    assert schedule_state() == before


def test_lowering_a_week_that_stays_over_capacity_needs_no_confirmation(production_user, recs):
    client = api(production_user)
    assert (
        client.post(
            OVERRIDE, override_body(12_000, allow_over_capacity=True), format="json"
        ).status_code
        == 201
    )

    response = client.post(OVERRIDE, override_body(11_000), format="json")

    assert response.status_code == 201
    entry = ScheduleEntry.objects.get(pk=response.json()["id"])
    assert (entry.units, entry.over_capacity_hours, entry.over_capacity_reason) == (11_000, 0, "")


def test_a_range_accept_counts_the_entries_it_replaces_not_both(production_user, recs, juice):
    """Juice accepted at 4,000 units (80 h) in week 2: accepting the range puts it back to
    its recommended 1,500 (30 h) beside tea's 60 h: 90 h, within capacity."""
    ScheduleEntryFactory(product=juice, week=week(2), units=4000)
    body = {"line": "Bottling 1", "from": label(1), "to": label(2), **seen_schedule()}

    response = api(production_user).post(ACCEPT_RANGE, body, format="json")

    assert response.status_code == 201
    assert list(
        ScheduleEntry.objects.filter(superseded_at__isnull=True)
        .order_by("week", "product__sku")
        .values_list("units", "over_capacity_hours")
    ) == [(1500, 0.0), (6000, 0.0), (1500, 0.0), (6000, 0.0)]


def test_a_range_accept_allowed_records_the_reason_on_the_entries_of_the_weeks_over(
    production_user, recs, line
):
    CapacityExceptionFactory(line=line, week=week(2), hours=Decimal("80.0"), note="Short week")
    client = api(production_user)
    body = {"line": "Bottling 1", "from": label(1), "to": label(2), **seen_schedule()}
    before = schedule_state()

    refused = client.post(ACCEPT_RANGE, body, format="json")

    assert refused.status_code == 409
    assert refused.json()["error"]["weeks"] == [over_week(2, 90.0, capacity=80.0)]
    assert schedule_state() == before

    response = client.post(
        ACCEPT_RANGE,
        {**body, "allow_over_capacity": True, "reason": "Overtime approved"},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["entries"] == 4
    assert sorted(
        ScheduleEntry.objects.filter(superseded_at__isnull=True).values_list(
            "product__sku", "week", "over_capacity_hours", "over_capacity_reason"
        )
    ) == [
        ("JUI-1", week(1), 0.0, ""),
        ("JUI-1", week(2), 10.0, "Overtime approved"),
        ("TEA-1", week(1), 0.0, ""),
        ("TEA-1", week(2), 10.0, "Overtime approved"),
    ]


def test_the_schedule_load_carries_over_capacity_hours_per_line_and_week(
    production_user, recs, line
):
    LineFactory(name="Canning 2")
    api(production_user).post(
        OVERRIDE, override_body(12_000, allow_over_capacity=True), format="json"
    )

    response = api(production_user).get(
        LOAD, {"line": "Bottling 1", "from": label(1), "to": label(2)}
    )

    assert response.status_code == 200
    assert response.json() == [
        over_week(1, 120.0),
        {**over_week(2, 0.0), "over_capacity_hours": 0.0},
    ]
    every_line = api(production_user).get(LOAD, {"from": label(1), "to": label(1)}).json()
    assert [(row["line"], row["over_capacity_hours"]) for row in every_line] == [
        ("Bottling 1", 20.0),
        ("Canning 2", 0.0),
    ]


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"from": "2026-W60"}, "from", None),
        ({"line": "No such line"}, "line", "There is no line 'No such line'."),
        ({"from": "2027-W01", "to": "2026-W50"}, "to", None),
        ({"from": "2026-W01", "to": "2029-W01"}, "to", "Ask for at most 104 weeks at a time."),
    ],
)
def test_a_bad_load_query_is_a_400_at_its_field(production_user, line, query, field, message):
    response = api(production_user).get(LOAD, query)

    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert list(fields) == [field]
    if message is not None:
        assert fields[field] == [message]


# --- Browser -----------------------------------------------------------------------------


def _override_form(units: int, **extra) -> dict:
    seen = seen_cell(ProductFactory._meta.model.objects.get(sku="TEA-1").pk, week(1))
    return {
        "seen_run": seen["seen_run_id"],
        "seen_entry": seen["seen_entry_id"] or 0,
        "units": units,
        "reason": "Customer pulled the order forward",
        **extra,
    }


def test_the_browser_asks_to_confirm_an_override_over_capacity(client, production_user, recs):
    client.force_login(production_user)
    before = schedule_state()
    url = reverse("quota_override", args=["TEA-1", label(1)])

    response = client.post(url, _override_form(12_000), HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="over-capacity"' in html
    assert f'<th scope="row">{label(1)}</th><td class="num">120.0 h</td>' in html
    assert "<strong>20.0 h</strong>" in html
    assert 'name="allow_over_capacity"' in html and 'name="over_capacity_reason"' in html
    assert '<input type="hidden" name="units" value="12000">' in html
    assert schedule_state() == before


def test_the_browser_refuses_a_confirmation_without_a_reason(client, production_user, recs):
    client.force_login(production_user)
    before = schedule_state()
    url = reverse("quota_override", args=["TEA-1", label(1)])

    response = client.post(
        url, _override_form(12_000, allow_over_capacity="on"), HTTP_HX_REQUEST="true"
    )

    assert "Say why the line may go over capacity." in response.content.decode()
    assert schedule_state() == before


def test_the_browser_refuses_a_reason_too_long_at_its_field(client, production_user, recs):
    client.force_login(production_user)
    before = schedule_state()
    url = reverse("quota_override", args=["TEA-1", label(1)])

    response = client.post(
        url,
        _override_form(12_000, allow_over_capacity="on", over_capacity_reason="x" * 301),
        HTTP_HX_REQUEST="true",
    )

    html = response.content.decode()
    assert 'id="over-capacity"' in html
    assert "Say it in at most 300 characters." in html
    assert schedule_state() == before


def test_the_browser_records_a_confirmed_override_over_capacity(client, production_user, recs):
    client.force_login(production_user)
    url = reverse("quota_override", args=["TEA-1", label(1)])

    response = client.post(
        url,
        _override_form(12_000, allow_over_capacity="on", over_capacity_reason="Extra shift"),
    )

    assert response.status_code == 302
    entry = ScheduleEntry.objects.get(superseded_at__isnull=True)
    assert (entry.units, entry.over_capacity_hours, entry.over_capacity_reason) == (
        12_000,
        20.0,
        "Extra shift",
    )


def test_the_browser_refuses_an_absurd_quota_at_the_field(client, production_user, recs):
    client.force_login(production_user)
    before = schedule_state()
    url = reverse("quota_override", args=["TEA-1", label(1)])

    response = client.post(
        url,
        _override_form(600_000, allow_over_capacity="on", over_capacity_reason="Sure"),
        HTTP_HX_REQUEST="true",
    )

    html = response.content.decode()
    assert "600,000 units of TEA-1 take 6,000 line hours" in html
    assert 'id="over-capacity"' not in html
    assert 'id="id_units_error"' in html
    assert schedule_state() == before


def test_the_browser_confirms_an_accept_over_capacity(client, production_user, recs, juice):
    ScheduleEntryFactory(product=juice, week=week(1), units=3000)
    client.force_login(production_user)
    seen = seen_cell(recs[("TEA-1", 1)].product_id, week(1))
    form = {"seen_run": seen["seen_run_id"], "seen_entry": 0}
    url = reverse("quota_accept", args=["TEA-1", label(1)])
    before = schedule_state()

    asked = client.post(url, form, HTTP_HX_REQUEST="true")

    assert 'id="over-capacity"' in asked.content.decode()
    assert schedule_state() == before

    client.post(
        url,
        {**form, "allow_over_capacity": "on", "over_capacity_reason": "Saturday shift"},
        HTTP_HX_REQUEST="true",
    )

    entry = ScheduleEntry.objects.get(product__sku="TEA-1", superseded_at__isnull=True)
    assert (entry.units, entry.over_capacity_hours, entry.over_capacity_reason) == (
        6000,
        20.0,
        "Saturday shift",
    )


def test_the_browser_confirms_a_range_accept_over_capacity(client, production_user, recs, line):
    CapacityExceptionFactory(line=line, week=week(2), hours=Decimal("80.0"), note="Short week")
    client.force_login(production_user)
    form = {
        "line": line.pk,
        "week_from": label(1),
        "week_to": label(2),
        "seen_schedule_version": seen_schedule()["seen_schedule_version"],
    }
    before = schedule_state()

    asked = client.post(reverse("quota_accept_range"), form)

    assert asked.status_code == 200
    html = asked.content.decode()
    assert "<strong>10.0 h</strong>" in html
    assert f'<input type="hidden" name="week_to" value="{label(2)}">' in html
    assert schedule_state() == before

    done = client.post(
        reverse("quota_accept_range"),
        {**form, "allow_over_capacity": "on", "over_capacity_reason": "Overtime approved"},
    )

    assert done.status_code == 302
    assert ScheduleEntry.objects.filter(over_capacity_reason="Overtime approved").count() == 2


# --- Dashboard, alerts, home panel -----------------------------------------------------


def _plan_over_capacity(user):
    api(user).post(OVERRIDE, override_body(12_000, allow_over_capacity=True), format="json")


def test_every_week_over_capacity_is_an_alert_until_resolved(production_user, recs, line):
    _plan_over_capacity(production_user)
    weeks = [week(k) for k in range(4)]

    over = [a for a in alerts(line, weeks) if a["kind"] == "Over capacity"]

    assert over == [
        {
            "level": "err",
            "kind": "Over capacity",
            "text": f"{label(1)}: accepted quotas need 120.0 h of 100.0 h, 20.0 h over. "
            f"Decided by {production_user}: “Customer pulled the order forward”.",
            "product": None,
        }
    ]
    assert api(production_user).post(OVERRIDE, override_body(9_000), format="json").status_code == (
        201
    )
    assert [a for a in alerts(line, weeks) if a["kind"] == "Over capacity"] == []


def test_the_home_panel_lists_the_weeks_over_capacity(production_user, recs, line):
    _plan_over_capacity(production_user)

    todo = next(
        t for t in planning_todos(production_user) if t.label == "Weeks planned over capacity"
    )

    assert (todo.count, todo.level, todo.hint) == (1, "err", f"Bottling 1 {label(1)} +20.0 h")
    assert todo.url == f"{reverse('production_dashboard')}?line={line.pk}"


def test_the_capacity_chart_shows_accepted_load_beside_recommended(production_user, recs, line):
    _plan_over_capacity(production_user)
    overview = line_overview(line, [week(k) for k in range(3)])

    assert list(overview["accepted_hours"]) == [0.0, 120.0, 0.0]
    assert list(overview["over_hours"]) == [0.0, 20.0, 0.0]
    chart = capacity_chart(overview)
    week1 = [bar for bar in chart["bars"] if bar["title"].startswith(label(1)[-3:])]
    assert [bar["title"].split(" · ")[1] for bar in week1] == [
        "Recommended: that week's demand: 90",
        "Accepted: 100",
        "Accepted over capacity: 20",
    ]
    recommended, accepted, over = week1
    # Side by side: the accepted stack starts where the recommended bar ends.
    assert accepted["x"] == round(recommended["x"] + recommended["width"], 1)
    assert accepted["width"] == recommended["width"]
    assert over["x"] == accepted["x"]


def test_one_stack_keeps_the_chart_geometry_as_before():
    chart = Chart(
        title="t", categories=["a"], series=[Series("x", [3.0], "s1"), Series("y", [1.0], "s2")]
    ).render_data()

    assert [(bar["x"], bar["width"]) for bar in chart["bars"]] == [(159.2, 481.6), (159.2, 481.6)]


def test_the_dashboard_page_shows_the_alert_and_the_accepted_column(
    client, production_user, recs, line
):
    _plan_over_capacity(production_user)
    client.force_login(production_user)

    html = client.get(reverse("production_dashboard"), {"line": line.pk}).content.decode()

    assert '<span class="badge badge-err">Over capacity</span>' in html
    assert '<td class="num">120</td><td class="num"><strong>20.0</strong></td>' in html
    assert Line.objects.count() == 1


def test_rounding_a_full_week_up_to_whole_units_is_not_over_capacity(production_user, line):
    """The planner fills the 100 h with 333.34 units of 0.3 h; the schedule takes 334
    (100.2 h): one unit of rounding, not a decision."""
    keg = ProductFactory(sku="KEG-1", production_line=line, lead_time_weeks=1)
    RunRateFactory(product=keg, hours_per_unit=Decimal("0.300000"))
    QuotaRecommendationFactory(product=keg, week=week(1), baseline=333.34)

    response = api(production_user).post(ACCEPT, accept_body("KEG-1"), format="json")

    assert response.status_code == 201
    assert ScheduleEntry.objects.get().over_capacity_hours == 0
    assert api(production_user).post(
        OVERRIDE, override_body(335, sku="KEG-1"), format="json"
    ).json()["error"]["weeks"] == [over_week(1, 100.5)]
