"""REST: /api/v1/launch-plans/ and /api/v1/successions/ — create, read, edit, remove;
every bad input of the issue is a 400 at its field and changes nothing; a stale version
is a 409."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from coordination.api.scopes import SCOPE_PERMISSIONS
from coordination.models import ActivityEvent, RecomputeRequest
from coordination.services.api_clients import client_create
from coordination.weeks import add_weeks, current_week, iso_label
from demand.models import LaunchPlan, LikeProduct, Succession
from tests.api_errors import NOT_ALLOWED, invalid, refused
from tests.demand.test_api_promotions import client_for
from tests.demand.test_new_products import BAD_LAUNCH_PLANS, BAD_SUCCESSIONS
from tests.factories import ProductFactory, ProductLineFactory

pytestmark = pytest.mark.django_db

PLANS = "/api/v1/launch-plans/"
SUCCESSIONS = "/api/v1/successions/"


def week(k: int):
    return add_weeks(current_week(), k)


@pytest.fixture
def family():
    line = ProductLineFactory(name="Tea")
    return {
        "lemon": ProductFactory(sku="TEA-LEM-05", product_line=line),
        "peach": ProductFactory(sku="TEA-PEA-05", product_line=line),
        "mint": ProductFactory(sku="TEA-MIN-05", product_line=line, lifecycle="concept"),
        "old": ProductFactory(sku="TEA-OLD-05", product_line=line, lifecycle="discontinued"),
    }


@pytest.fixture
def api(marketing_user):
    return client_for(marketing_user)


def counts() -> tuple[int, ...]:
    return (
        LaunchPlan.objects.count(),
        LikeProduct.objects.count(),
        Succession.objects.count(),
        RecomputeRequest.objects.count(),
        ActivityEvent.objects.count(),
    )


def plan_body(**overrides) -> dict:
    return {
        "product": "TEA-MIN-05",
        "launch_week": iso_label(week(2)),
        "launch_volume": 400,
        "ramp_weeks": 6,
        "ramp_shape": "s_curve",
        "likes": [{"product": "TEA-LEM-05"}, {"product": "tea-pea-05", "weight": "0.5"}],
    } | overrides


def plan_json(version: int, **overrides) -> dict:
    return {
        "product": "TEA-MIN-05",
        "launch_week": week(2).isoformat(),
        "launch_volume": 400,
        "ramp_weeks": 6,
        "ramp_shape": "s_curve",
        "likes": [
            {"product": "TEA-LEM-05", "weight": "1.00"},
            {"product": "TEA-PEA-05", "weight": "0.50"},
        ],
        "version": version,
    } | overrides


def without_times(body: dict) -> dict:
    return {key: value for key, value in body.items() if key not in ("created_at", "updated_at")}


# ---------------------------------------------------------------------------- launch plans


def test_a_launch_plan_is_created_read_edited_and_removed(api, family):
    created = api.post(PLANS, plan_body(), format="json")
    assert created.status_code == 201
    assert without_times(created.json()) == plan_json(1)
    assert RecomputeRequest.objects.count() == 1
    assert list(LikeProduct.objects.values_list("like__sku", "weight")) == [
        ("TEA-LEM-05", 1),
        ("TEA-PEA-05", 0.5),
    ]

    listed = api.get(PLANS).json()
    assert (listed["count"], without_times(listed["results"][0])) == (1, plan_json(1))
    assert without_times(api.get(f"{PLANS}TEA-MIN-05/").json()) == plan_json(1)

    # Only what is sent changes; likes left out are kept.
    edited = api.patch(f"{PLANS}TEA-MIN-05/", {"version": 1, "launch_volume": None}, format="json")
    assert edited.status_code == 200
    assert without_times(edited.json()) == plan_json(2, launch_volume=None)
    edited = api.patch(
        f"{PLANS}TEA-MIN-05/",
        {"version": 2, "likes": [{"product": "TEA-PEA-05", "weight": 2}]},
        format="json",
    )
    assert without_times(edited.json()) == plan_json(
        3, launch_volume=None, likes=[{"product": "TEA-PEA-05", "weight": "2.00"}]
    )

    removed = api.delete(f"{PLANS}TEA-MIN-05/?version=3")
    assert (removed.status_code, removed.content) == (204, b"")
    assert counts()[:2] == (0, 0)
    assert RecomputeRequest.objects.count() == 4
    assert api.get(f"{PLANS}TEA-MIN-05/").status_code == 404


def _as_api(overrides: dict) -> dict:
    likes = overrides.get("likes")
    if likes is None:
        return overrides
    return overrides | {"likes": [{"product": sku, "weight": weight} for sku, weight in likes]}


# The service's refusals the API passes on as they are (not those of a field the API
# checks the shape of first: a weight that is no number, a missing week or version).
AS_THE_SERVICE = [
    (_as_api(overrides), errors)
    for overrides, errors in BAD_LAUNCH_PLANS
    if set(overrides) <= {"likes", "launch_volume", "ramp_weeks"}
    and all(weight != "abc" for _, weight in overrides.get("likes", []))
]


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        *AS_THE_SERVICE,
        ({"ramp_shape": "cubic"}, {"ramp_shape": ['"cubic" is not a valid choice.']}),
        (
            {"launch_week": "someday"},
            {"launch_week": ["Enter a week as 2026-W48 or a date as 2026-11-23; got 'someday'."]},
        ),
        ({"product": "NOPE-1"}, {"product": ["No product with SKU NOPE-1."]}),
        (
            {"likes": [{"product": "TEA-LEM-05", "weight": "x"}]},
            {"likes.0.weight": ["A valid number is required."]},
        ),
    ],
)
def test_bad_launch_plans_are_400_at_the_field_and_change_nothing(api, family, overrides, fields):
    response = api.post(PLANS, plan_body(**overrides), format="json")
    assert (response.status_code, response.json()) == (400, invalid(fields))
    assert counts() == (0, 0, 0, 0, 0)


def test_a_discontinued_product_gets_no_launch_plan(api, family):
    response = api.post(PLANS, plan_body(product="TEA-OLD-05", likes=[]), format="json")
    assert response.json() == refused(
        "TEA-OLD-05 is discontinued: only a product in concept or on sale can have a launch plan."
    )
    assert counts() == (0, 0, 0, 0, 0)


def test_a_bad_edit_keeps_the_plan_as_it_was(api, family):
    api.post(PLANS, plan_body(), format="json")
    before = counts()
    response = api.patch(
        f"{PLANS}TEA-MIN-05/",
        {"version": 1, "ramp_weeks": 400, "likes": [{"product": "TEA-MIN-05"}]},
        format="json",
    )
    assert response.json() == invalid(
        {
            "ramp_weeks": ["The ramp-up lasts 1 to 104 weeks."],
            "likes": ["TEA-MIN-05 cannot be a like of itself: name products that already sell."],
        }
    )
    assert counts() == before
    assert without_times(api.get(f"{PLANS}TEA-MIN-05/").json()) == plan_json(1)


def test_a_stale_version_is_409_and_changes_nothing(api, family):
    api.post(PLANS, plan_body(), format="json")
    api.patch(f"{PLANS}TEA-MIN-05/", {"version": 1, "ramp_weeks": 4}, format="json")
    before = counts()
    stale = api.patch(f"{PLANS}TEA-MIN-05/", {"version": 1, "ramp_weeks": 9}, format="json")
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "stale_edit"
    assert api.delete(f"{PLANS}TEA-MIN-05/?version=1").status_code == 409
    assert counts() == before
    assert LaunchPlan.objects.get().ramp_weeks == 4


def test_a_second_launch_plan_is_a_409_that_says_to_edit(api, family):
    api.post(PLANS, plan_body(), format="json")
    before = counts()
    again = api.post(PLANS, plan_body(ramp_weeks=2), format="json")
    assert (again.status_code, again.json()["error"]["message"]) == (
        409,
        "TEA-MIN-05 has a launch plan already (version 1): change it with PATCH, or remove "
        "it first.",
    )
    assert counts() == before


@pytest.mark.parametrize("query", ["", "?version=x", "?version=0"])
def test_removing_needs_the_version_read(api, family, query):
    api.post(PLANS, plan_body(), format="json")
    before = counts()
    response = api.delete(f"{PLANS}TEA-MIN-05/{query}")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["version"]
    assert counts() == before


def test_reading_is_for_forecast_readers_and_writing_for_launch_planners(sales_user, family):
    sales = client_for(sales_user)
    assert sales.get(PLANS).status_code == 200
    response = sales.post(PLANS, plan_body(), format="json")
    assert (response.status_code, response.json()) == (403, NOT_ALLOWED)
    assert counts() == (0, 0, 0, 0, 0)
    assert SCOPE_PERMISSIONS["launches:write"] == {
        "demand.view_demandforecast",
        "demand.change_launchplan",
    }


@pytest.mark.parametrize(
    ("scopes", "read", "write"),
    [(["forecasts:read"], 200, 403), (["launches:write"], 403, 201)],
)
def test_an_api_key_reads_with_forecasts_read_and_writes_with_launches_write(
    family, scopes, read, write
):
    _, key = client_create(name="Planning sheet", scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get(PLANS).status_code == read
    assert client.post(PLANS, plan_body(), format="json").status_code == write
    assert LaunchPlan.objects.count() == (1 if write == 201 else 0)


# ---------------------------------------------------------------------------- successions


def succession_json(version: int, successor="TEA-PEA-05", switch=3) -> dict:
    return {
        "product": "TEA-LEM-05",
        "successor": successor,
        "switch_week": week(switch).isoformat(),
        "version": version,
    }


def test_a_succession_is_created_read_edited_and_removed(api, family):
    body = {"product": "TEA-LEM-05", "successor": "tea-pea-05", "switch_week": iso_label(week(3))}
    created = api.post(SUCCESSIONS, body, format="json")
    assert (created.status_code, without_times(created.json())) == (201, succession_json(1))
    assert RecomputeRequest.objects.get().product_ids == sorted(
        [family["lemon"].pk, family["peach"].pk]
    )
    listed = api.get(f"{SUCCESSIONS}?successor=TEA-PEA-05").json()
    assert [without_times(row) for row in listed["results"]] == [succession_json(1)]
    assert api.get(f"{SUCCESSIONS}?successor=TEA-LEM-05").json()["count"] == 0

    edited = api.patch(
        f"{SUCCESSIONS}TEA-LEM-05/",
        {"version": 1, "switch_week": iso_label(week(5))},
        format="json",
    )
    assert without_times(edited.json()) == succession_json(2, switch=5)
    edited = api.patch(
        f"{SUCCESSIONS}TEA-LEM-05/", {"version": 2, "successor": "TEA-MIN-05"}, format="json"
    )
    assert without_times(edited.json()) == succession_json(3, "TEA-MIN-05", switch=5)

    assert api.delete(f"{SUCCESSIONS}TEA-LEM-05/?version=3").status_code == 204
    assert Succession.objects.count() == 0


@pytest.mark.parametrize(
    ("successor", "switch", "fields"),
    # Not those of a field the API checks the shape of first (no SKU, no week).
    [case for case in BAD_SUCCESSIONS if case[0] and case[1] is not None],
)
def test_bad_successions_are_400_at_the_field_and_change_nothing(
    api, family, successor, switch, fields
):
    LaunchPlan.objects.create(product=family["mint"], launch_week=week(2), launch_volume=10)
    body = {"product": "TEA-LEM-05", "successor": successor, "switch_week": iso_label(week(switch))}
    response = api.post(SUCCESSIONS, body, format="json")
    assert (response.status_code, response.json()) == (400, invalid(fields))
    assert counts() == (1, 0, 0, 0, 0)


def test_a_successor_loop_is_400_on_create_and_on_edit_and_changes_nothing(api, family):
    lemon, peach, mint = family["lemon"], family["peach"], family["mint"]
    Succession.objects.create(product=lemon, successor=peach, switch_week=week(3))
    body = {"product": "TEA-PEA-05", "successor": "TEA-LEM-05", "switch_week": iso_label(week(4))}
    response = api.post(SUCCESSIONS, body, format="json")
    loop = "TEA-PEA-05 → TEA-LEM-05 → TEA-PEA-05"
    message = f"That would make a loop: {loop}. A product cannot take over its own demand."
    assert (response.status_code, response.json()) == (400, invalid({"successor": [message]}))
    assert counts() == (0, 0, 1, 0, 0)

    berry = ProductFactory(sku="TEA-BER-05", product_line=lemon.product_line)
    Succession.objects.create(product=peach, successor=mint, switch_week=week(4))
    Succession.objects.create(product=mint, successor=berry, switch_week=week(5))
    response = api.patch(
        f"{SUCCESSIONS}TEA-MIN-05/", {"version": 1, "successor": "TEA-LEM-05"}, format="json"
    )
    loop = "TEA-MIN-05 → TEA-LEM-05 → TEA-PEA-05 → TEA-MIN-05"
    message = f"That would make a loop: {loop}. A product cannot take over its own demand."
    assert (response.status_code, response.json()) == (400, invalid({"successor": [message]}))
    assert Succession.objects.get(product=mint).successor == berry
    assert counts() == (0, 0, 3, 0, 0)


def test_a_stale_succession_edit_is_409(api, family):
    Succession.objects.create(
        product=family["lemon"], successor=family["peach"], switch_week=week(3)
    )
    stale = api.patch(
        f"{SUCCESSIONS}TEA-LEM-05/",
        {"version": 2, "switch_week": iso_label(week(6))},
        format="json",
    )
    assert stale.status_code == 409
    assert api.delete(f"{SUCCESSIONS}TEA-LEM-05/?version=2").status_code == 409
    assert Succession.objects.get().switch_week == week(3)
    assert counts() == (0, 0, 1, 0, 0)
