"""REST: lines and capacity exceptions; recompute runs and requests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from coordination import roles
from coordination.models import Line, RecomputeRequest
from production.models import CapacityException, RecomputeRun
from tests.factories import (
    CapacityExceptionFactory,
    LineFactory,
    ProductFactory,
    RecomputeRunFactory,
)
from tests.production.test_api_quotas import api, json_time, label, week

pytestmark = pytest.mark.django_db

LINES = "/api/v1/lines/"


@pytest.fixture
def line():
    bottling = LineFactory(name="Bottling 1", weekly_capacity_hours=Decimal("100.0"))
    ProductFactory(sku="BEV-1002", production_line=bottling)
    ProductFactory(sku="BEV-1001", production_line=bottling)
    return bottling


def line_url(line: Line) -> str:
    return f"{LINES}{line.pk}/"


def exceptions_url(line: Line) -> str:
    return f"{LINES}{line.pk}/capacity-exceptions/"


def product_ids(line: Line) -> list[int]:
    return sorted(line.products.values_list("pk", flat=True))


def line_state(line: Line) -> tuple:
    """What a refused capacity write must leave alone."""
    line.refresh_from_db()
    return (
        line.version,
        line.weekly_capacity_hours,
        line.frozen_window_weeks,
        list(CapacityException.objects.order_by("id").values_list("id", "week", "hours", "note")),
        RecomputeRequest.objects.count(),
    )


# --- lines -----------------------------------------------------------------------------


def test_lines_list_and_detail(marketing_user, line):
    LineFactory(name="Canning", weekly_capacity_hours=Decimal("37.5"), frozen_window_weeks=0)
    client = api(marketing_user)
    body = client.get(LINES).json()
    assert body["count"] == 2
    assert [
        (r["name"], r["weekly_capacity_hours"], r["frozen_window_weeks"]) for r in body["results"]
    ] == [("Bottling 1", 100.0, 2), ("Canning", 37.5, 0)]
    detail = client.get(line_url(line))
    assert detail.status_code == 200
    assert detail.json() == {
        "id": line.pk,
        "name": "Bottling 1",
        "weekly_capacity_hours": 100.0,
        "frozen_window_weeks": 2,
        "holding_cost_rate_pct": None,
        "version": 1,
        "updated_at": json_time(line.updated_at),
    }
    missing = client.get(f"{LINES}999999/")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


def test_patch_changes_the_line_and_asks_for_a_replan(
    production_user, line, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api(production_user).patch(
            line_url(line),
            {"version": 1, "weekly_capacity_hours": "120.5", "frozen_window_weeks": 3},
            format="json",
        )
    assert response.status_code == 200
    line.refresh_from_db()
    assert response.json() == {
        "id": line.pk,
        "name": "Bottling 1",
        "weekly_capacity_hours": 120.5,
        "frozen_window_weeks": 3,
        "holding_cost_rate_pct": None,
        "version": 2,
        "updated_at": json_time(line.updated_at),
    }
    assert (line.weekly_capacity_hours, line.frozen_window_weeks, line.version) == (
        Decimal("120.5"),
        3,
        2,
    )
    request = RecomputeRequest.objects.get()
    assert (request.source, request.status, request.product_ids, request.line_ids) == (
        "capacity",
        "pending",
        product_ids(line),
        [line.pk],
    )
    assert request.reason == (
        "Bottling 1: Changed capacity 100.0 → 120.5 h/week; frozen window 2 → 3 weeks."
    )
    assert request.requested_by == production_user
    assert len(callbacks) == 1  # the enqueue, after commit


def test_patch_with_nothing_new_keeps_the_version_and_asks_nothing(
    production_user, line, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api(production_user).patch(
            line_url(line), {"version": 1, "weekly_capacity_hours": 100}, format="json"
        )
    assert response.status_code == 200
    assert response.json()["version"] == 1
    assert RecomputeRequest.objects.count() == 0
    assert callbacks == []


def test_a_stale_patch_is_409_and_changes_nothing(
    production_user, line, django_capture_on_commit_callbacks
):
    client = api(production_user)
    client.patch(line_url(line), {"version": 1, "frozen_window_weeks": 4}, format="json")
    before = line_state(line)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.patch(
            line_url(line), {"version": 1, "weekly_capacity_hours": 80}, format="json"
        )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "stale_edit"
    assert response.json()["error"]["message"].startswith("Line Bottling 1 was changed by someone")
    assert line_state(line) == before
    assert before[0] == 2 and before[1] == Decimal("100.0")
    assert callbacks == []


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"weekly_capacity_hours": 80}, {"version": ["This field is required."]}),
        (
            {"version": 1, "weekly_capacity_hours": 200},
            {"weekly_capacity_hours": ["Hours must be between 0 and 168 a week."]},
        ),
        (
            {"version": 1, "weekly_capacity_hours": -1},
            {"weekly_capacity_hours": ["Hours must be between 0 and 168 a week."]},
        ),
        (
            {"version": 1, "frozen_window_weeks": 27},
            {"frozen_window_weeks": ["The frozen window is 0 to 26 weeks."]},
        ),
        ({"version": "one"}, {"version": ["A valid integer is required."]}),
        ({"version": True}, {"version": ["A valid integer is required."]}),
        (
            {"version": 1, "weekly_capacity_hours": "lots"},
            {"weekly_capacity_hours": ["A valid number is required."]},
        ),
        (
            {"version": 1, "weekly_capacity_hours": [80]},
            {"weekly_capacity_hours": ["A valid number is required."]},
        ),
        (
            {"version": 1, "weekly_capacity_hours": "NaN"},
            {"weekly_capacity_hours": ["A valid number is required."]},
        ),
        (
            {"version": 1, "weekly_capacity_hours": "1e999999"},
            {"weekly_capacity_hours": ["Enter hours as a number, e.g. 120 or 37.5."]},
        ),
        (
            {"version": 1, "frozen_window_weeks": 2.5},
            {"frozen_window_weeks": ["A valid integer is required."]},
        ),
        (
            {"version": 1, "frozen_window_weeks": True},
            {"frozen_window_weeks": ["A valid integer is required."]},
        ),
        (
            {"version": 1, "frozen_window_weeks": 10**30},
            {
                "frozen_window_weeks": [
                    "Ensure this value is less than or equal to 9223372036854775807."
                ]
            },
        ),
    ],
)
def test_bad_patches_are_400_and_change_nothing(production_user, line, body, fields):
    before = line_state(line)
    response = api(production_user).patch(line_url(line), body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == fields
    assert line_state(line) == before


@pytest.mark.parametrize("raw", ['{"version": 1,', "[]", '"x"', "null", "7"])
def test_patch_bodies_that_are_not_a_json_object_are_400(production_user, line, raw):
    before = line_state(line)
    response = api(production_user).patch(line_url(line), raw, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] in ("parse_error", "invalid")
    assert line_state(line) == before


@pytest.mark.parametrize("role", [roles.MARKETING, roles.SALES, roles.QUALITY])
def test_only_production_changes_lines(make_user, line, role):
    user = make_user(role)
    before = line_state(line)
    client = api(user)
    patch = client.patch(line_url(line), {"version": 1, "frozen_window_weeks": 4}, format="json")
    assert patch.status_code == 403
    body = {"week": label(3), "hours": 0, "note": "Shutdown"}
    assert client.post(exceptions_url(line), body, format="json").status_code == 403
    exception = CapacityExceptionFactory(line=line)
    before = line_state(line)
    url = f"{exceptions_url(line)}{exception.pk}/"
    assert client.delete(url).status_code == 403
    # Nobody may PUT a line (PATCH only): a 405, whatever the role.
    assert client.put(line_url(line), {"version": 1}, format="json").status_code == 405
    assert line_state(line) == before
    assert client.get(line_url(line)).status_code == 200
    assert client.get(exceptions_url(line)).status_code == 200


def test_anonymous_reads_nothing(line):
    for response in (api().get(LINES), api().patch(line_url(line), {"version": 1}, format="json")):
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "not_authenticated"


# --- capacity exceptions ---------------------------------------------------------------


def test_set_list_replace_and_delete_a_capacity_exception(
    production_user, marketing_user, line, django_capture_on_commit_callbacks
):
    client = api(production_user)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            exceptions_url(line),
            {"week": label(3), "hours": "0", "note": " Summer shutdown "},
            format="json",
        )
    assert response.status_code == 201
    exception = CapacityException.objects.get()
    assert (exception.line, exception.week, exception.hours, exception.note) == (
        line,
        week(3),
        Decimal("0.0"),
        "Summer shutdown",
    )
    assert exception.created_by == production_user
    assert response.json() == {
        "id": exception.pk,
        "line": line.pk,
        "week": label(3),
        "week_start": week(3).isoformat(),
        "hours": 0.0,
        "note": "Summer shutdown",
        "created_at": json_time(exception.created_at),
    }
    request = RecomputeRequest.objects.get()
    assert (request.source, request.product_ids, request.line_ids) == (
        "capacity",
        product_ids(line),
        [line.pk],
    )
    assert request.reason == f"Bottling 1 capacity {label(3)}: 0.0 h (Summer shutdown)."
    assert len(callbacks) == 1

    replaced = client.post(
        exceptions_url(line),
        {"week": (week(3) + dt.timedelta(days=4)).isoformat(), "hours": 37.55, "note": "Short"},
        format="json",
    )
    assert replaced.status_code == 200
    assert replaced.json()["id"] == exception.pk
    assert replaced.json()["hours"] == 37.6
    assert CapacityException.objects.count() == 1
    assert RecomputeRequest.objects.count() == 2

    CapacityExceptionFactory(line=line, week=week(1), hours=Decimal("140.0"), note="Extra shift")
    CapacityExceptionFactory(line=LineFactory(name="Canning"), week=week(2))
    listed = api(marketing_user).get(exceptions_url(line)).json()
    assert listed["count"] == 2
    assert [(r["week"], r["hours"], r["note"]) for r in listed["results"]] == [
        (label(1), 140.0, "Extra shift"),
        (label(3), 37.6, "Short"),
    ]

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        deleted = client.delete(f"{exceptions_url(line)}{exception.pk}/")
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert not CapacityException.objects.filter(pk=exception.pk).exists()
    assert RecomputeRequest.objects.count() == 3
    assert RecomputeRequest.objects.first().reason == (
        f"Bottling 1 capacity {label(3)} back to the normal 100.0 h."
    )
    assert len(callbacks) == 1


def test_deleting_another_lines_exception_is_404(production_user, line):
    elsewhere = CapacityExceptionFactory(line=LineFactory(name="Canning"))
    before = line_state(line)
    client = api(production_user)
    for url in (
        f"{exceptions_url(line)}{elsewhere.pk}/",
        f"{exceptions_url(line)}999999/",
        f"{LINES}999999/capacity-exceptions/{elsewhere.pk}/",
        f"{exceptions_url(line)}{10**30}/",
    ):
        response = client.delete(url)
        assert response.status_code == 404, url
        assert response.json()["error"]["code"] == "not_found"
    assert line_state(line) == before
    assert CapacityException.objects.filter(pk=elsewhere.pk).exists()


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (
            {"week": "past", "hours": 0, "note": "Shutdown"},
            {"week": ["Enter a week as 2026-W48 or a date as 2026-11-23; got 'past'."]},
        ),
        (
            {"week": -1, "hours": 0, "note": "Shutdown"},
            {"week": ["Enter a week as 2026-W48 or a date as 2026-11-23."]},
        ),
        (
            {"week": 3, "hours": 200, "note": "Shutdown"},
            {"hours": ["Hours must be between 0 and 168 a week."]},
        ),
        (
            {"week": 3, "hours": -8, "note": "Shutdown"},
            {"hours": ["Hours must be between 0 and 168 a week."]},
        ),
        (
            {"week": 3, "hours": 0},
            {"note": ["Say what happens that week, e.g. “Summer shutdown” or “Saturday shift”."]},
        ),
        (
            {"week": 3, "hours": 0, "note": "x" * 201},
            {"note": ["Ensure this field has no more than 200 characters."]},
        ),
        ({"week": 3, "hours": "many", "note": "x"}, {"hours": ["A valid number is required."]}),
        ({"week": 3, "hours": True, "note": "x"}, {"hours": ["A valid number is required."]}),
        ({"week": 3, "hours": {}, "note": "x"}, {"hours": ["A valid number is required."]}),
        (
            {"week": [3], "hours": 0, "note": "x"},
            {"week": ["Enter a week as 2026-W48 or a date as 2026-11-23."]},
        ),
        ({"week": 3, "hours": 0, "note": ["x"]}, {"note": ["Not a valid string."]}),
        ({"hours": 0, "note": "x"}, {"week": ["Choose the week, e.g. 2026-W48."]}),
    ],
)
def test_bad_capacity_exceptions_are_400_and_save_nothing(
    production_user, line, body, fields, django_capture_on_commit_callbacks
):
    if body.get("week") == 3:
        body = {**body, "week": label(3)}
    before = line_state(line)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api(production_user).post(exceptions_url(line), body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == fields
    assert line_state(line) == before
    assert callbacks == []


def test_a_capacity_exception_in_the_past_is_400(production_user, line):
    before = line_state(line)
    body = {"week": label(-1), "hours": 200, "note": "Too late"}
    response = api(production_user).post(exceptions_url(line), body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "week": [f"{label(-1)} is over: change this week or a later one."]
    }
    assert line_state(line) == before


@pytest.mark.parametrize("raw", ['{"week": ', "[]", '"x"', "null", "1.5"])
def test_capacity_bodies_that_are_not_a_json_object_are_400(production_user, line, raw):
    before = line_state(line)
    response = api(production_user).post(exceptions_url(line), raw, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] in ("parse_error", "invalid")
    assert line_state(line) == before


# --- recompute runs and requests ---------------------------------------------------------


def test_runs_newest_first_and_in_detail(marketing_user, line):
    request = RecomputeRequest.objects.create(
        source="promotion", reason="Summer promo", product_ids=product_ids(line), line_ids=[line.pk]
    )
    older = RecomputeRunFactory(line=line, trigger="Nightly recompute")
    newer = RecomputeRunFactory(
        line=line,
        trigger="Promotion “Summer promo” planned",
        product_ids=product_ids(line),
        forecast_rows=52,
        recommendation_rows=52,
        changed_cells=7,
        prebuild_units=80.0,
        shortage_units=40.0,
        timings={"forecast": 0.12, "plan": 0.05},
        plan_method="lp+rounded",
        relaxation_gap={"backlog": 0.0, "safety_shortfall": 12.5, "inventory": 340.0},
        worker="celery@plant-7 pid 4242",
    )
    RecomputeRun.objects.filter(pk=newer.pk).update(heartbeat_at=newer.started_at)
    newer.refresh_from_db()
    newer.requests.add(request)
    failed = RecomputeRunFactory(line=None, state="failed", error="Boom", finished_at=None)
    client = api(marketing_user)
    listed = client.get("/api/v1/recompute-runs/").json()
    assert [r["id"] for r in listed["results"]] == [failed.pk, newer.pk, older.pk]
    assert listed["results"][0]["line"] is None
    assert listed["results"][0]["seconds"] is None
    response = client.get(f"/api/v1/recompute-runs/{newer.pk}/")
    assert response.status_code == 200
    assert response.json() == {
        "id": newer.pk,
        "line": "Bottling 1",
        "line_id": line.pk,
        "trigger": "Promotion “Summer promo” planned",
        "state": "done",
        "error": "",
        "started_at": json_time(newer.started_at),
        "finished_at": json_time(newer.finished_at),
        "seconds": (newer.finished_at - newer.started_at).total_seconds(),
        "worker": "celery@plant-7 pid 4242",
        "heartbeat_at": json_time(newer.started_at),
        "product_ids": product_ids(line),
        "first_week": label(0),
        "horizon_weeks": 26,
        "forecast_rows": 52,
        "recommendation_rows": 52,
        "changed_cells": 7,
        "prebuild_units": 80.0,
        "shortage_units": 40.0,
        "plan_method": "lp+rounded",
        "relaxation_gap": {"backlog": 0.0, "safety_shortfall": 12.5, "inventory": 340.0},
        "timings": {"forecast": 0.12, "plan": 0.05},
        "requests": [request.pk],
    }
    assert client.get("/api/v1/recompute-runs/999999/").status_code == 404


def test_recompute_requests_show_progress_and_their_runs(marketing_user, line):
    request = RecomputeRequest.objects.create(
        source="promotion",
        reason="Summer promo",
        product_ids=product_ids(line),
        line_ids=[line.pk],
    )
    client = api(marketing_user)
    url = f"/api/v1/recompute-requests/{request.pk}/"
    assert client.get(url).json() == {
        "id": request.pk,
        "status": "pending",
        "finished": False,
        "source": "promotion",
        "reason": "Summer promo",
        "product_ids": product_ids(line),
        "line_ids": [line.pk],
        "created_at": json_time(request.created_at),
        "enqueued_at": None,
        "started_at": None,
        "finished_at": None,
        "error": "",
        "runs": [],
    }
    run = RecomputeRunFactory(line=line)
    run.requests.add(request)
    RecomputeRequest.objects.filter(pk=request.pk).update(status="done")
    body = client.get(url).json()
    assert (body["status"], body["finished"], body["runs"]) == ("done", True, [run.pk])
    second = RecomputeRequest.objects.create(
        source="manual", reason="By hand", product_ids=[1], line_ids=[]
    )
    listed = client.get("/api/v1/recompute-requests/").json()
    assert [r["id"] for r in listed["results"]] == [second.pk, request.pk]
    assert client.get("/api/v1/recompute-requests/999999/").status_code == 404


@pytest.mark.parametrize("url", ["/api/v1/recompute-runs/", "/api/v1/recompute-requests/"])
def test_runs_and_requests_are_read_only_and_need_a_sign_in(production_user, url):
    assert api().get(url).status_code == 401
    assert api(production_user).post(url, {}, format="json").status_code == 405
    assert RecomputeRequest.objects.count() == 0
