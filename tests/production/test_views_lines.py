"""Lines and capacity pages: the list, a line's normal hours and frozen window (with
optimistic locking), single-week capacity exceptions, and the recompute history. Every
successful change asks for a recompute of the line; a refused one writes nothing."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from coordination.models import ActivityEvent, Line, RecomputeRequest
from coordination.weeks import add_weeks, current_week, iso_label
from production.models import CapacityException
from tests.factories import (
    CapacityExceptionFactory,
    LineFactory,
    ProductFactory,
    RecomputeRunFactory,
    RunRateFactory,
)

pytestmark = pytest.mark.django_db

ALL_ROLES = ["marketing_user", "sales_user", "production_user", "quality_user", "admin_user"]


def week(k: int):
    return add_weeks(current_week(), k)


def squash(html: str) -> str:
    return re.sub(r">\s*\n\s*<", "><", html)


def field_errors(html: str, field: str) -> list[str]:
    return re.findall(rf'<p class="field-error" id="id_{field}_error">(.*?)</p>', html)


def page_messages(client, url: str) -> list[str]:
    html = client.get(url).content.decode()
    return re.findall(r'<li class="message message-\w+">(.*?)</li>', html)


@pytest.fixture
def line():
    line = LineFactory(name="Bottling 1", weekly_capacity_hours=Decimal("100.0"))
    lemon = ProductFactory(sku="TEA-LEM-05", name="Lemon tea", production_line=line)
    ProductFactory(sku="TEA-PEA-05", name="Peach tea", production_line=line, lead_time_weeks=2)
    RunRateFactory(product=lemon, hours_per_unit=Decimal("0.004"))
    return line


def _product_ids(line) -> list[int]:
    return sorted(line.products.values_list("pk", flat=True))


# ------------------------------------------------------------------ list


def test_the_line_list_shows_hours_window_and_product_count(client, sales_user, line):
    LineFactory(name="Canning 2", weekly_capacity_hours=Decimal("37.5"))
    client.force_login(sales_user)

    response = client.get(reverse("line_list"))

    html = squash(response.content.decode())
    assert response.status_code == 200
    assert (
        f'<th scope="row"><a href="{reverse("line_detail", args=[line.pk])}">Bottling 1</a></th>'
        '<td class="num">100.0</td><td class="num">2 weeks</td><td class="num">2</td>'
    ) in html
    assert '>Canning 2</a></th><td class="num">37.5</td>' in html
    assert html.index("Bottling 1") < html.index("Canning 2")


def test_the_line_list_says_when_there_are_none(client, production_user):
    client.force_login(production_user)

    html = client.get(reverse("line_list")).content.decode()

    assert '<td colspan="5" class="empty">No lines yet.</td>' in html


@pytest.mark.parametrize("user", ALL_ROLES)
def test_every_role_reads_lines_and_runs(client, request, user, line):
    client.force_login(request.getfixturevalue(user))

    for url in (reverse("line_list"), reverse("line_detail", args=[line.pk]), reverse("run_list")):
        assert client.get(url).status_code == 200


# ------------------------------------------------------------------ detail


def test_production_sees_the_forms_and_the_coming_exceptions(client, production_user, line):
    CapacityExceptionFactory(line=line, week=week(4), hours=Decimal("0.0"), note="Shutdown")
    CapacityExceptionFactory(line=line, week=week(-1), hours=Decimal("50.0"), note="Last week")
    client.force_login(production_user)

    response = client.get(reverse("line_detail", args=[line.pk]))

    html = squash(response.content.decode())
    assert response.status_code == 200
    assert 'name="weekly_capacity_hours" value="100.0"' in html
    assert 'name="frozen_window_weeks" value="2"' in html
    assert '<input type="hidden" name="version" value="1" id="id_version">' in html
    assert f"<li>{iso_label(week(4))}: <strong>0.0 h</strong> — Shutdown" in html
    assert "Last week" not in html  # past weeks are history
    assert ">Remove</button>" in html
    assert "Set hours for that week" in html
    # Products with their run rates; one is missing.
    assert '<td class="num">0.00400</td><td class="num">250</td><td class="num">1 wk</td>' in html
    assert (
        '<td class="num"><span class="badge badge-warn">missing</span></td>'
        '<td class="num">—</td><td class="num">2 wk</td>'
    ) in html


def test_readers_see_the_hours_without_forms(client, marketing_user, line):
    CapacityExceptionFactory(line=line, week=week(4))
    client.force_login(marketing_user)

    html = squash(client.get(reverse("line_detail", args=[line.pk])).content.decode())

    assert (
        '<dl class="facts"><dt>Hours per week</dt><dd>100.0</dd><dt>Frozen window</dt>'
        "<dd>2 weeks</dd><dt>Holding cost rate</dt><dd>the company's (20 % a year)</dd></dl>"
    ) in html
    assert '<form method="post" novalidate>' not in html
    assert ">Remove</button>" not in html
    assert "Save and re-plan" not in html


def test_a_line_without_exceptions_says_every_week_is_normal(client, production_user, line):
    client.force_login(production_user)

    html = client.get(reverse("line_detail", args=[line.pk])).content.decode()

    assert "Every coming week has the normal 100.0 hours." in html


def test_an_unknown_line_is_a_404(client, production_user):
    client.force_login(production_user)

    assert client.get(reverse("line_detail", args=[999999])).status_code == 404
    assert (
        client.post(
            reverse("line_detail", args=[999999]),
            {
                "form": "line",
                "version": "1",
                "weekly_capacity_hours": "1",
                "frozen_window_weeks": "1",
            },
        ).status_code
        == 404
    )


# ------------------------------------------------------------------ normal capacity


def _save_line(client, line, **overrides):
    data = {
        "form": "line",
        "version": str(line.version),
        "weekly_capacity_hours": "120",
        "frozen_window_weeks": "3",
    }
    data.update(overrides)
    return client.post(reverse("line_detail", args=[line.pk]), data)


def test_saving_capacity_bumps_the_version_and_replans_the_line(client, production_user, line):
    client.force_login(production_user)

    response = _save_line(client, line)

    assert response.status_code == 302
    assert response["Location"] == reverse("line_detail", args=[line.pk])
    line.refresh_from_db()
    assert (line.weekly_capacity_hours, line.frozen_window_weeks, line.version) == (
        Decimal("120.0"),
        3,
        2,
    )
    recompute = RecomputeRequest.objects.get()
    assert recompute.source == "capacity"
    assert recompute.product_ids == _product_ids(line)
    assert recompute.line_ids == [line.pk]
    assert recompute.reason == (
        "Bottling 1: Changed capacity 100.0 → 120.0 h/week; frozen window 2 → 3 weeks."
    )
    assert ActivityEvent.objects.get().message == (
        "Changed capacity 100.0 → 120.0 h/week; frozen window 2 → 3 weeks."
    )
    assert page_messages(client, response["Location"]) == [
        "Saved Bottling 1; the line is being re-planned."
    ]


def test_saving_unchanged_capacity_asks_for_no_recompute(client, admin_user, line):
    client.force_login(admin_user)

    response = _save_line(client, line, weekly_capacity_hours="100", frozen_window_weeks="2")

    assert response.status_code == 302
    line.refresh_from_db()
    assert line.version == 1
    assert RecomputeRequest.objects.count() == 0
    page = client.get(response["Location"]).content.decode()
    assert "Bottling 1 already had these values: nothing changed." in page
    assert "being re-planned" not in page


def test_a_capacity_edit_without_its_version_says_so_and_saves_nothing(
    client, production_user, line
):
    client.force_login(production_user)

    response = _save_line(client, line, version="")

    assert response.status_code == 200
    assert response.context["line_form"].non_field_errors() == [
        "This form is out of date or incomplete. Reload the page and try again."
    ]
    assert "This form is out of date or incomplete." in response.content.decode()
    line.refresh_from_db()
    assert line.version == 1
    assert RecomputeRequest.objects.count() == 0


def test_a_stale_capacity_edit_is_refused_and_nothing_is_saved(client, production_user, line):
    Line.objects.filter(pk=line.pk).update(version=2, weekly_capacity_hours=Decimal("90.0"))
    client.force_login(production_user)

    response = _save_line(client, line)

    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["line_form"].non_field_errors() == [
        "Line Bottling 1 was changed by someone else while you were editing it. "
        "Reload to see the current version, then apply your change again."
    ]
    assert "Line Bottling 1 was changed by someone else" in html
    assert 'name="weekly_capacity_hours" value="120"' in html  # the input is kept
    line.refresh_from_db()
    assert (line.weekly_capacity_hours, line.frozen_window_weeks, line.version) == (
        Decimal("90.0"),
        2,
        2,
    )
    assert RecomputeRequest.objects.count() == 0
    assert ActivityEvent.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"weekly_capacity_hours": "200"},
            "weekly_capacity_hours",
            "Ensure this value is less than or equal to 168.",
        ),
        ({"weekly_capacity_hours": "lots"}, "weekly_capacity_hours", "Enter a number."),
        (
            {"frozen_window_weeks": "27"},
            "frozen_window_weeks",
            "Ensure this value is less than or equal to 26.",
        ),
        ({"frozen_window_weeks": ""}, "frozen_window_weeks", "This field is required."),
    ],
)
def test_invalid_capacity_shows_the_field_message_and_saves_nothing(
    client, production_user, line, overrides, field, message
):
    client.force_login(production_user)

    response = _save_line(client, line, **overrides)

    html = response.content.decode()
    assert response.status_code == 200
    assert field_errors(html, field) == [message]
    value = overrides[field]
    if value:
        assert f'name="{field}" value="{value}"' in html
    line.refresh_from_db()
    assert (line.weekly_capacity_hours, line.frozen_window_weeks, line.version) == (
        Decimal("100.0"),
        2,
        1,
    )
    assert RecomputeRequest.objects.count() == 0


# ------------------------------------------------------------------ exceptions


def _set_exception(client, line, **overrides):
    data = {"form": "exception", "week": iso_label(week(5)), "hours": "0", "note": "Shutdown"}
    data.update(overrides)
    return client.post(reverse("line_detail", args=[line.pk]), data)


def test_a_capacity_exception_is_saved_and_replans_the_line(client, production_user, line):
    client.force_login(production_user)

    response = _set_exception(client, line, hours="37.5", note=" Saturday shift ")

    assert response.status_code == 302
    exception = CapacityException.objects.get()
    assert (exception.line, exception.week, exception.hours, exception.note) == (
        line,
        week(5),
        Decimal("37.5"),
        "Saturday shift",
    )
    assert exception.created_by == production_user
    recompute = RecomputeRequest.objects.get()
    assert recompute.source == "capacity"
    assert recompute.product_ids == _product_ids(line)
    assert recompute.reason == f"Bottling 1 capacity {iso_label(week(5))}: 37.5 h (Saturday shift)."
    assert page_messages(client, response["Location"]) == [
        "Capacity exception saved; re-planning the line."
    ]


def test_a_second_exception_for_the_week_replaces_the_first(client, production_user, line):
    CapacityExceptionFactory(line=line, week=week(5), hours=Decimal("0.0"), note="Shutdown")
    client.force_login(production_user)

    _set_exception(client, line, hours="50", note="Half shutdown")

    exception = CapacityException.objects.get()
    assert (exception.hours, exception.note) == (Decimal("50.0"), "Half shutdown")


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"week": "PAST"}, "week", "PAST is over: change this week or a later one."),
        ({"week": ""}, "week", "This field is required."),
        ({"week": "2026-W99"}, "week", "2026-W99 is not a week of 2026."),
        ({"hours": "169"}, "hours", "Ensure this value is less than or equal to 168."),
        ({"hours": "-1"}, "hours", "Ensure this value is greater than or equal to 0."),
        ({"note": "   "}, "note", "This field is required."),
    ],
)
def test_an_invalid_exception_shows_the_field_message_and_writes_nothing(
    client, production_user, line, overrides, field, message
):
    past = iso_label(week(-1))
    overrides = {k: past if v == "PAST" else v for k, v in overrides.items()}
    message = message.replace("PAST", past)
    client.force_login(production_user)

    response = _set_exception(client, line, **overrides)

    html = response.content.decode()
    assert response.status_code == 200
    assert field_errors(html, field) == [message]
    assert 'value="exception"' in html
    if field != "note":
        assert 'name="note" value="Shutdown"' in html  # the rest of the input is kept
    assert CapacityException.objects.count() == 0
    assert RecomputeRequest.objects.count() == 0
    assert ActivityEvent.objects.count() == 0


@pytest.mark.parametrize("user", ["marketing_user", "sales_user", "quality_user"])
def test_only_production_and_admins_change_capacity(client, request, user, line):
    client.force_login(request.getfixturevalue(user))

    assert _save_line(client, line).status_code == 403
    assert _set_exception(client, line).status_code == 403

    line.refresh_from_db()
    assert (line.weekly_capacity_hours, line.version) == (Decimal("100.0"), 1)
    assert CapacityException.objects.count() == 0
    assert RecomputeRequest.objects.count() == 0


# ------------------------------------------------------------------ removing an exception


def _delete(client, line, exception):
    return client.post(reverse("capacity_exception_delete", args=[line.pk, exception.pk]))


def test_removing_an_exception_restores_normal_hours_and_replans(client, production_user, line):
    exception = CapacityExceptionFactory(line=line, week=week(4))
    client.force_login(production_user)

    response = _delete(client, line, exception)

    assert response.status_code == 302
    assert response["Location"] == reverse("line_detail", args=[line.pk])
    assert CapacityException.objects.count() == 0
    assert RecomputeRequest.objects.get().reason == (
        f"Bottling 1 capacity {iso_label(week(4))} back to the normal 100.0 h."
    )
    assert page_messages(client, response["Location"]) == [
        "Back to normal hours that week; re-planning the line."
    ]


def test_a_past_exception_cannot_be_removed(client, production_user, line):
    exception = CapacityExceptionFactory(line=line, week=week(-1))
    client.force_login(production_user)

    response = _delete(client, line, exception)

    assert response.status_code == 302
    assert page_messages(client, response["Location"]) == [
        f"{iso_label(week(-1))} is over: its hours are history."
    ]
    assert CapacityException.objects.count() == 1
    assert RecomputeRequest.objects.count() == 0


def test_removing_needs_the_permission_and_the_exception_of_that_line(
    client, marketing_user, production_user, line
):
    exception = CapacityExceptionFactory(line=line, week=week(4))
    other = LineFactory(name="Canning 2")
    client.force_login(marketing_user)
    assert _delete(client, line, exception).status_code == 403
    client.force_login(production_user)
    assert _delete(client, other, exception).status_code == 404
    assert (
        client.get(reverse("capacity_exception_delete", args=[line.pk, exception.pk])).status_code
        == 405
    )
    assert CapacityException.objects.count() == 1
    assert RecomputeRequest.objects.count() == 0


# ------------------------------------------------------------------ recompute history


def test_the_run_history_pages_by_30(client, production_user, line):
    for k in range(31):
        RecomputeRunFactory(line=line, trigger=f"Trigger {k:02d}")
    RecomputeRunFactory(line=line, trigger="Broke", state="failed", error="No run rate")
    client.force_login(production_user)

    first = client.get(reverse("run_list"))
    second = client.get(reverse("run_list"), {"page": 2})

    assert len(first.context["page"]) == 30
    assert len(second.context["page"]) == 2
    html = first.content.decode()
    assert "Page 1 of 2 · 32 in all" in html
    assert '<span class="field-error">No run rate</span>' in html


def test_the_run_history_says_when_nothing_ran(client, production_user):
    client.force_login(production_user)

    html = client.get(reverse("run_list")).content.decode()

    assert '<p class="card empty">No recompute has run yet.</p>' in html
