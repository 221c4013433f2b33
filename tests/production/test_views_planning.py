"""Planning through the browser: the production dashboard per line (capacity table,
alerts, quota grid, changes since the accepted schedule), a cell's explanation, and
accepting, bulk accepting and overriding quotas. Only Production (and admins) write the
schedule; a refused or stale write leaves it as it was."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from coordination.models import ActivityEvent, RecomputeRequest
from coordination.weeks import add_weeks, current_week, iso_label
from production.models import RecomputeRun, ScheduleEntry, ScheduleRevision
from tests.factories import (
    CapacityExceptionFactory,
    LineFactory,
    ProductFactory,
    ProductionHoldFactory,
    PromotionFactory,
    PromotionItemFactory,
    QuotaRecommendationFactory,
    RecomputeRunFactory,
    RunRateFactory,
    ScheduleEntryFactory,
)
from tests.production.seen import seen_cell, seen_schedule

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
READERS = ["marketing_user", "sales_user", "quality_user"]


def week(k: int):
    return add_weeks(current_week(), k)


def squash(html: str) -> str:
    return re.sub(r">\s*\n\s*<", "><", html)


def field_errors(html: str, field: str) -> list[str]:
    return re.findall(rf'<p class="field-error" id="id_{field}_error">(.*?)</p>', html)


def shown_messages(html: str) -> list[str]:
    return re.findall(r'<li class="message message-\w+">(.*?)</li>', html)


def page_messages(client, url: str) -> list[str]:
    return shown_messages(client.get(url).content.decode())


@pytest.fixture
def plan():
    """Bottling 1 (100 h a week) makes lemon and peach tea; Canning 2 makes juice.

    lemon, next week:  100 units, accepted as is
    lemon, in 2 weeks: 100 units, 20 of them built ahead; not accepted yet
    peach, next week:   50 units, 10 short; accepted at 40
    """
    line = LineFactory(name="Bottling 1", weekly_capacity_hours=Decimal("100.0"))
    canning = LineFactory(name="Canning 2")
    lemon = ProductFactory(sku="TEA-LEM-05", name="Lemon tea", production_line=line)
    peach = ProductFactory(sku="TEA-PEA-05", name="Peach tea", production_line=line)
    juice = ProductFactory(sku="JCE-ORA-10", production_line=canning)
    RunRateFactory(product=lemon, hours_per_unit=Decimal("0.1"))
    RunRateFactory(product=peach, hours_per_unit=Decimal("0.2"))
    recs = {
        "lemon1": QuotaRecommendationFactory(product=lemon, week=week(1)),
        "lemon2": QuotaRecommendationFactory(
            product=lemon, week=week(2), baseline=80.0, prebuild_units=20.0
        ),
        "peach1": QuotaRecommendationFactory(
            product=peach, week=week(1), baseline=50.0, shortage_units=10.0
        ),
        "juice1": QuotaRecommendationFactory(product=juice, week=week(1), baseline=7.0),
    }
    ScheduleEntryFactory(product=lemon, week=week(1), units=100)
    ScheduleEntryFactory(product=peach, week=week(1), units=40, recommended_units=50.0)
    return {"line": line, "canning": canning, "lemon": lemon, "peach": peach, **recs}


def _dashboard(client, line=None, **headers):
    params = {"line": line.pk} if line is not None else {}
    return client.get(reverse("production_dashboard"), params, **headers)


# ------------------------------------------------------------------ dashboard


def test_the_dashboard_shows_the_lines_capacity_use_week_by_week(client, production_user, plan):
    CapacityExceptionFactory(line=plan["line"], week=week(2), hours=Decimal("40.0"))
    client.force_login(production_user)

    response = _dashboard(client, plan["line"])

    html = squash(response.content.decode())
    assert response.status_code == 200
    assert "<h1>Production · Bottling 1</h1>" in html
    assert f'<a href="?line={plan["line"].pk}" aria-current="page">Bottling 1</a>' in html
    rows = response.context["capacity_rows"]
    assert len(rows) == 26
    # Next week: 100 lemon x 0.1 h + 50 peach x 0.2 h = 20 h of 100; accepted: 100 lemon
    # and 40 peach, 18 h, none over.
    assert (
        f'<tr><th scope="row">{iso_label(week(1))}</th><td class="num">20</td>'
        '<td class="num">0</td><td class="num">100</td><td class="num">20%</td>'
        '<td class="num">18</td><td class="num">0</td></tr>'
    ) in html
    # In two weeks: 8 h for demand, 2 h ahead, on 40 h that week.
    assert (
        f'<tr><th scope="row">{iso_label(week(2))}</th><td class="num">8</td>'
        '<td class="num">2</td><td class="num">40</td><td class="num">25%</td>'
        '<td class="num">0</td><td class="num">0</td></tr>'
    ) in html
    chart = response.context["chart"]
    assert chart["title"] == "Bottling 1: hours recommended and accepted per week against capacity"
    assert [item["label"] for item in chart["legend"]] == [
        "Recommended: that week's demand",
        "Recommended: pre-build",
        "Accepted",
        "Accepted over capacity",
        "Capacity",
    ]


def test_the_quota_grid_flags_each_cell(client, production_user, plan):
    client.force_login(production_user)

    response = _dashboard(client, plan["line"])

    grid = response.context["grid"]
    html = response.content.decode()
    assert [row["product"].sku for row in grid] == ["TEA-LEM-05", "TEA-PEA-05"]
    lemon, peach = grid
    assert [c is not None for c in lemon["cells"][:4]] == [False, True, True, False]
    assert (lemon["cells"][1]["units"], lemon["cells"][1]["heat"]) == (100, 5)
    assert (peach["cells"][1]["units"], peach["cells"][1]["heat"]) == (50, 2)
    w1, w2 = iso_label(week(1)), iso_label(week(2))
    assert (
        f'aria-label="TEA-LEM-05 {w1}: 100 units, accepted 100">100<span class="flag">✓</span></a>'
    ) in html
    assert f'aria-label="TEA-LEM-05 {w2}: 100 units">100<span class="flag">▲</span></a>' in html
    assert (
        f'aria-label="TEA-PEA-05 {w1}: 50 units, accepted 40">50<span class="flag">≠</span>'
        '<span class="flag">!</span></a>'
    ) in html
    assert f'hx-get="{reverse("quota_explain", args=["TEA-LEM-05", w1])}"' in html
    assert "JCE-ORA-10" not in html  # another line's product


def test_a_cell_shows_the_units_accepting_it_writes(client, production_user, plan):
    rec = QuotaRecommendationFactory(product=plan["lemon"], week=week(3), baseline=80.3)
    client.force_login(production_user)

    grid_html = _dashboard(client, plan["line"]).content.decode()
    explanation = client.get(_explain_url(rec), **HTMX).content.decode()
    _accept(client, rec)

    label = iso_label(week(3))
    assert f'aria-label="TEA-LEM-05 {label}: 81 units">81</a>' in grid_html
    assert "Accept 81 units</button>" in explanation
    assert _current(plan["lemon"], week(3)).units == 81
    after = _dashboard(client, plan["line"]).content.decode()
    assert (
        f'aria-label="TEA-LEM-05 {label}: 81 units, accepted 81">81<span class="flag">✓</span>'
        in after
    )


def test_alerts_list_what_needs_production_most_serious_first(client, production_user, plan):
    ProductionHoldFactory(product=plan["peach"], reason="Stop-ship RC-1")
    summer = PromotionFactory(name="Summer", status="planned", start_week=week(3))
    PromotionItemFactory(promotion=summer, product=plan["lemon"])
    PromotionItemFactory(promotion=summer, product=plan["peach"])  # one alert, not two
    draft = PromotionFactory(name="Idea", status="draft", start_week=week(3))
    PromotionItemFactory(promotion=draft, product=plan["lemon"])
    RecomputeRunFactory(line=plan["line"], state="failed", error="no run rate for TEA-X")
    client.force_login(production_user)

    response = _dashboard(client, plan["line"])

    alerts = response.context["alerts"]
    assert [(a["level"], a["kind"], a["text"]) for a in alerts] == [
        ("err", "Recompute failed", "The last recompute failed: no run rate for TEA-X"),
        (
            "err",
            "Shortage",
            f"TEA-PEA-05: demand short by up to 10 units (worst in {iso_label(week(2))}), "
            "even with every earlier week used.",
        ),
        ("err", "Hold", "TEA-PEA-05: production held — Stop-ship RC-1"),
        ("info", "Promotion", f"“Summer” starts {iso_label(week(3))} (planned)."),
    ]
    html = response.content.decode()
    assert '<span class="count">4</span>' in html
    assert f'<a href="{reverse("promotion_detail", args=[summer.pk])}">Open</a>' in html


def test_a_full_line_building_ahead_raises_a_pre_build_alert(client, production_user, plan):
    # 20 lemon units ahead in two weeks, on a line with 10 h that week: full.
    CapacityExceptionFactory(line=plan["line"], week=week(2), hours=Decimal("10.0"))
    client.force_login(production_user)

    alerts = _dashboard(client, plan["line"]).context["alerts"]

    assert ("warn", "Pre-build") in [(a["level"], a["kind"]) for a in alerts]
    assert [a["text"] for a in alerts if a["kind"] == "Pre-build"] == [
        f"{iso_label(week(2))}: line full; 2 hours build ahead for later weeks that lack capacity."
    ]


def test_changes_since_the_accepted_schedule(client, production_user, plan):
    client.force_login(production_user)

    response = _dashboard(client, plan["line"])

    changes = response.context["changes"]
    changed = [(c["sku"], c["accepted"], c["units"], c["delta"]) for c in changes["changed"]]
    assert changed == [("TEA-PEA-05", 40, 50, 10)]
    assert changes["unaccepted_weeks"] == [week(2)]
    html = squash(response.content.decode())
    assert (
        f'<tr><th scope="row">{iso_label(week(1))}</th><td><a href="'
        f'{reverse("quota_explain", args=["TEA-PEA-05", iso_label(week(1))])}">TEA-PEA-05</a>'
        '</td><td class="num">40</td><td class="num">50</td><td class="num">+10</td></tr>'
    ) in html
    assert f"Not accepted yet: 1 week ({iso_label(week(2))})." in html


def test_each_line_has_its_tab_and_an_unknown_line_shows_the_first(client, sales_user, plan):
    client.force_login(sales_user)

    canning = _dashboard(client, plan["canning"])
    unknown = client.get(reverse("production_dashboard"), {"line": "999999"})
    garbage = client.get(reverse("production_dashboard"), {"line": "x"})

    assert canning.context["line"] == plan["canning"]
    assert [row["product"].sku for row in canning.context["grid"]] == ["JCE-ORA-10"]
    assert unknown.context["line"] == plan["line"]  # lines are ordered by name
    assert garbage.context["line"] == plan["line"]


def test_readers_see_the_plan_without_the_planning_controls(client, sales_user, plan):
    client.force_login(sales_user)

    response = _dashboard(client, plan["line"])

    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["can_plan"] is False
    assert "Accept these weeks" not in html
    assert reverse("recompute_now") not in html


def test_production_gets_the_bulk_accept_form_for_the_first_four_weeks(
    client, production_user, plan
):
    client.force_login(production_user)

    response = _dashboard(client, plan["line"])

    html = response.content.decode()
    assert response.context["can_plan"] is True
    assert f'name="week_from" value="{iso_label(week(0))}"' in html
    assert f'name="week_to" value="{iso_label(week(3))}"' in html
    assert "Recompute Bottling 1 now</button>" in html


def test_htmx_gets_the_grid_alone(client, production_user, plan):
    client.force_login(production_user)

    response = _dashboard(client, plan["line"], **HTMX)

    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card" id="quota-grid">')
    assert "Capacity use" not in html
    assert "TEA-LEM-05" in html


def test_a_line_without_recommendations_offers_a_recompute(client, production_user):
    line = LineFactory(name="Bottling 1")
    client.force_login(production_user)

    html = _dashboard(client, line).content.decode()

    assert "No recommendations for Bottling 1 yet." in html
    assert "Every accepted quota still matches its recommendation." in html


def test_without_lines_the_dashboard_says_so(client, production_user):
    client.force_login(production_user)

    response = client.get(reverse("production_dashboard"))

    assert response.status_code == 200
    assert "No production lines yet." in response.content.decode()


def test_signed_out_visitors_go_to_sign_in(client, plan):
    response = _dashboard(client, plan["line"])

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# ------------------------------------------------------------------ explanation


def _explain_url(rec) -> str:
    return reverse("quota_explain", args=[rec.product.sku, iso_label(rec.week)])


def test_the_explanation_page_builds_the_number_step_by_step(client, sales_user, plan):
    client.force_login(sales_user)

    response = client.get(_explain_url(plan["lemon2"]))

    html = squash(response.content.decode())
    assert response.status_code == 200
    assert [(s["label"], s["value"], s["start"]) for s in response.context["steps"]] == [
        ("Baseline demand", 80.0, 0.0),
        ("Built ahead for later weeks", 20.0, 80.0),
    ]
    assert "Recommended: <strong>100 units</strong> · not accepted yet." in html
    assert f"Made in {iso_label(week(2))}, available in {iso_label(week(3))}" in html
    assert (
        f'<tr><th scope="row">Demand in {iso_label(week(3))}</th><td class="num">80</td>'
        '<td class="muted">baseline 80 + promotion 0 + firm orders 0 + adjustment 0</td></tr>'
    ) in html
    assert '<tr><th scope="row">Pre-build</th><td class="num">20</td>' in html
    assert "← Bottling 1 dashboard</a>" in html
    assert "Override with another quota" not in html  # sales may not plan


def test_the_header_and_the_breakdown_state_the_same_whole_units(client, sales_user, plan):
    # 8032.4 + 2410.4 + 1606.5 = 12049.3: the schedule takes 12050 (never less than needed).
    rec = QuotaRecommendationFactory(
        product=plan["lemon"],
        week=week(3),
        baseline=8032.4,
        promotion_uplift=2410.4,
        safety_stock=1606.5,
    )
    client.force_login(sales_user)

    response = client.get(_explain_url(rec))

    html = squash(response.content.decode())
    # Each step reads as its row in the table; what rounding leaves over is its own step.
    assert [(s["label"], s["value"]) for s in response.context["steps"]] == [
        ("Baseline demand", 8032),
        ("Promotion uplift", 2410),
        ("Safety stock target", 1607),
        ("Rounding to whole units", 1),
    ]
    assert "Recommended: <strong>12050 units</strong>" in html
    assert re.findall(r'<span class="wf-value">(.*?)</span>', html) == [
        "+8032",
        "+2410",
        "+1607",
        "+1",
        "12050",
    ]
    assert '<th scope="row">Safety stock target</th><td class="num">1607</td>' in html


def test_htmx_gets_the_explanation_alone_with_the_accept_form(client, production_user, plan):
    client.force_login(production_user)

    response = client.get(_explain_url(plan["lemon1"]), **HTMX)

    html = response.content.decode()
    assert html.lstrip().startswith('<div class="explanation">')
    assert "<h1>" not in html
    assert "· accepted quota: <strong>100</strong>." in html
    assert f'<input type="hidden" name="seen_run" value="{plan["lemon1"].run_id}">' in html
    assert "Accept 100 units</button>" in html
    assert '<button type="submit" class="button primary" disabled>' in html  # already accepted
    assert 'name="units" value="100"' in html


@pytest.mark.parametrize("url", ["dashboard", "explanation"])
def test_every_htmx_target_of_a_page_is_on_that_page(client, production_user, plan, url):
    """A page opened on its own (a new tab, a shared link) must hold the element each of
    its forms and links swaps into, or htmx drops the answer (htmx:targetError)."""
    client.force_login(production_user)
    address = {
        "dashboard": reverse("production_dashboard") + f"?line={plan['line'].pk}",
        "explanation": _explain_url(plan["lemon2"]),
    }[url]

    html = client.get(address).content.decode()

    targets = set(re.findall(r'hx-target="#([\w-]+)"', html))
    assert targets >= {"explanation"}
    assert {t for t in targets if html.count(f'id="{t}"') != 1} == set()


def test_the_explanation_shows_stock_cover_cuts_and_the_frozen_plan(client, sales_user, plan):
    covered = QuotaRecommendationFactory(
        product=plan["lemon"], week=week(3), baseline=50.0, stock_before_arrival=80.0
    )
    frozen = QuotaRecommendationFactory(
        product=plan["lemon"],
        week=week(4),
        baseline=60.0,
        capacity_cut_units=10.0,
        recommended_units=70.0,
        frozen=True,
    )
    client.force_login(sales_user)

    covered_steps = client.get(_explain_url(covered)).context["steps"]
    response = client.get(_explain_url(frozen))

    assert [(s["label"], s["value"]) for s in covered_steps] == [
        ("Baseline demand", 50.0),
        ("Stock before arrival", -80.0),
        ("Nothing needed below zero", 30.0),
    ]
    assert [(s["label"], s["value"]) for s in response.context["steps"]] == [
        ("Baseline demand", 60.0),
        ("Cut: the frozen plan is kept", -10.0),
        ("Kept from the frozen plan", 20.0),
    ]
    assert "Frozen window: the accepted quota is kept by every recompute." in (
        response.content.decode()
    )


def test_an_override_and_a_hold_are_explained(client, production_user, plan):
    held = QuotaRecommendationFactory(
        product=plan["peach"], week=week(3), hold_reason="Stop-ship RC-7"
    )
    ScheduleEntryFactory(
        product=plan["lemon"], week=week(2), units=90, kind="overridden", reason="Line trial"
    )
    client.force_login(production_user)

    overridden = client.get(_explain_url(plan["lemon2"]), **HTMX).content.decode()
    on_hold = client.get(_explain_url(held), **HTMX).content.decode()

    assert "accepted quota: <strong>90</strong> (override: Line trial)." in overridden
    assert (
        "<strong>On hold:</strong> Stop-ship RC-7. Its quota is 0 until the hold is released."
        in on_hold
    )


@pytest.mark.parametrize(
    ("sku", "label"),
    [("NOPE-1", "W1"), ("TEA-LEM-05", "2026-W99"), ("TEA-LEM-05", "soon"), ("TEA-LEM-05", "W9")],
)
def test_an_unknown_cell_is_a_404(client, production_user, plan, sku, label):
    label = {"W1": iso_label(week(1)), "W9": iso_label(week(9))}.get(label, label)
    client.force_login(production_user)

    assert client.get(reverse("quota_explain", args=[sku, label])).status_code == 404
    assert (
        client.post(
            reverse("quota_accept", args=[sku, label]), {"seen_run": "1", "seen_entry": "0"}
        ).status_code
        == 404
    )
    assert ScheduleEntry.objects.count() == 2


# ------------------------------------------------------------------ accept


def _seen_entry(rec) -> str:
    """The accepted entry the explanation shows (0: none), as the page sends it."""
    entry_id = seen_cell(rec.product_id, rec.week)["seen_entry_id"]
    return str(entry_id or 0)


def _accept(client, rec, seen_run=None, **headers):
    data = {
        "seen_run": str(seen_run if seen_run is not None else rec.run_id),
        "seen_entry": _seen_entry(rec),
    }
    return client.post(
        reverse("quota_accept", args=[rec.product.sku, iso_label(rec.week)]), data, **headers
    )


def _current(product, week_):
    return ScheduleEntry.objects.get(product=product, week=week_, superseded_at__isnull=True)


def test_accepting_writes_the_whole_units_to_the_schedule(client, production_user, plan):
    rec = QuotaRecommendationFactory(product=plan["lemon"], week=week(3), baseline=80.3)
    client.force_login(production_user)

    response = _accept(client, rec)

    assert response.status_code == 302
    assert response["Location"] == reverse("production_dashboard") + f"?line={plan['line'].pk}"
    entry = _current(plan["lemon"], week(3))
    assert (entry.units, entry.kind, entry.recommended_units, entry.accepted_by) == (
        81,  # rounded up: accepting never makes less than needed
        "accepted",
        80.3,
        production_user,
    )
    assert entry.revision.summary == f"Accepted TEA-LEM-05 {iso_label(week(3))}: 81 units"
    assert ActivityEvent.objects.get().message == entry.revision.summary
    assert page_messages(client, response["Location"]) == [
        f"Accepted 81 units of TEA-LEM-05 in {iso_label(week(3))}."
    ]


def test_accepting_again_supersedes_the_earlier_quota(client, production_user, plan):
    client.force_login(production_user)

    _accept(client, plan["peach1"])

    entries = ScheduleEntry.objects.filter(product=plan["peach"], week=week(1)).order_by("id")
    assert [(e.units, e.superseded_at is None) for e in entries] == [(40, False), (50, True)]
    assert entries[0].superseded_by == entries[1]


def test_htmx_accept_answers_with_the_updated_explanation(client, production_user, plan):
    client.force_login(production_user)

    response = _accept(client, plan["lemon2"], **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div class="explanation">')
    assert shown_messages(html) == [f"Accepted 100 units of TEA-LEM-05 in {iso_label(week(2))}."]
    assert "· accepted quota: <strong>100</strong>." in html
    assert _current(plan["lemon"], week(2)).units == 100


def test_a_stale_accept_is_refused_and_nothing_is_written(client, production_user, plan):
    client.force_login(production_user)

    response = _accept(client, plan["lemon2"], seen_run=plan["lemon2"].run_id + 1000, **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert shown_messages(html) == [
        "A recompute changed this recommendation since you loaded the page. "
        "Review the new number, then accept again."
    ]
    assert "not accepted yet" in html
    assert ScheduleEntry.objects.count() == 2
    assert ScheduleRevision.objects.count() == 2


def test_an_accept_without_the_run_seen_is_refused(client, production_user, plan):
    client.force_login(production_user)

    response = client.post(reverse("quota_accept", args=["TEA-LEM-05", iso_label(week(2))]), {})

    assert response.status_code == 302
    assert page_messages(client, response["Location"]) == [
        "The form did not say which recommendation you saw. Reload the page, then accept again."
    ]
    assert ScheduleEntry.objects.count() == 2


def test_a_past_week_cannot_be_accepted(client, production_user, plan):
    past = QuotaRecommendationFactory(product=plan["lemon"], week=week(-1))
    client.force_login(production_user)

    response = _accept(client, past)

    assert page_messages(client, response["Location"]) == [
        f"{iso_label(week(-1))} is over: its quota can no longer change."
    ]
    assert ScheduleEntry.objects.count() == 2


@pytest.mark.parametrize("user", READERS)
def test_only_production_accepts_and_overrides(client, request, user, plan):
    client.force_login(request.getfixturevalue(user))
    rec = plan["lemon2"]

    assert _accept(client, rec).status_code == 403
    assert _override(client, rec).status_code == 403
    assert (
        client.post(
            reverse("quota_accept_range"),
            {
                "line": plan["line"].pk,
                "week_from": iso_label(week(0)),
                "week_to": iso_label(week(3)),
                **seen_schedule(),
            },
        ).status_code
        == 403
    )
    assert client.post(reverse("recompute_now"), {"line": plan["line"].pk}).status_code == 403

    assert ScheduleEntry.objects.count() == 2
    assert ScheduleRevision.objects.count() == 2
    assert RecomputeRequest.objects.count() == 0
    assert ActivityEvent.objects.count() == 0


def test_accept_and_override_take_a_post(client, production_user, plan):
    client.force_login(production_user)
    args = ["TEA-LEM-05", iso_label(week(2))]

    assert client.get(reverse("quota_accept", args=args)).status_code == 405
    assert client.get(reverse("quota_override", args=args)).status_code == 405
    assert client.get(reverse("quota_accept_range")).status_code == 405


# ------------------------------------------------------------------ override


def _override(client, rec, seen_run=None, headers=None, **overrides):
    data = {
        "seen_run": str(seen_run if seen_run is not None else rec.run_id),
        "seen_entry": _seen_entry(rec),
        "units": "90",
        "reason": "Line trial that week",
    }
    data.update(overrides)
    return client.post(
        reverse("quota_override", args=[rec.product.sku, iso_label(rec.week)]),
        data,
        **(headers or {}),
    )


def test_an_override_is_written_with_its_reason(client, admin_user, plan):
    client.force_login(admin_user)

    response = _override(client, plan["lemon2"], reason="  Line trial that week ")

    assert response.status_code == 302
    entry = _current(plan["lemon"], week(2))
    assert (entry.units, entry.kind, entry.reason, entry.accepted_by) == (
        90,
        "overridden",
        "Line trial that week",
        admin_user,
    )
    assert entry.revision.summary == (
        f"Overrode TEA-LEM-05 {iso_label(week(2))}: 90 units (recommended 100) — "
        "Line trial that week"
    )
    assert page_messages(client, response["Location"]) == [
        f"Set TEA-LEM-05 in {iso_label(week(2))} to 90 units (override)."
    ]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"reason": ""}, "reason", "This field is required."),
        ({"reason": "   "}, "reason", "This field is required."),
        ({"units": "-5"}, "units", "Ensure this value is greater than or equal to 0."),
        ({"units": "ninety"}, "units", "Enter a whole number."),
        ({"units": "200000000"}, "units", "A quota is at most 100,000,000 units."),
    ],
)
def test_an_invalid_override_shows_the_field_message_and_keeps_the_input(
    client, production_user, plan, overrides, field, message
):
    client.force_login(production_user)

    response = _override(client, plan["lemon2"], headers=HTMX, **overrides)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div class="explanation">')
    assert field_errors(html, field) == [message]
    assert '<details class="disclosure" open>' in html
    if field == "reason":
        assert 'name="units" value="90"' in html
    else:
        assert 'name="reason" value="Line trial that week"' in html
    assert ScheduleEntry.objects.count() == 2
    assert ScheduleRevision.objects.count() == 2


def test_an_invalid_override_without_htmx_gets_the_whole_page(client, production_user, plan):
    client.force_login(production_user)

    response = _override(client, plan["lemon2"], reason="")

    html = response.content.decode()
    assert response.status_code == 200
    assert "<!doctype html>" in html
    assert field_errors(html, "reason") == ["This field is required."]
    assert ScheduleEntry.objects.count() == 2


def test_a_held_product_can_only_be_overridden_to_zero(client, production_user, plan):
    held = QuotaRecommendationFactory(
        product=plan["peach"], week=week(3), hold_reason="Stop-ship RC-7"
    )
    client.force_login(production_user)

    refused = _override(client, held, units="10")
    accepted = _override(client, held, units="0", reason="Held")

    assert field_errors(refused.content.decode(), "units") == [
        "TEA-PEA-05 is on hold (Stop-ship RC-7): its quota stays 0."
    ]
    assert accepted.status_code == 302
    assert _current(plan["peach"], week(3)).units == 0


def test_a_stale_override_is_refused_and_nothing_is_written(client, production_user, plan):
    client.force_login(production_user)

    response = _override(client, plan["lemon2"], seen_run=plan["lemon2"].run_id + 1000)

    assert response.status_code == 200
    assert response.context["override_form"].non_field_errors() == [
        "A recompute changed this recommendation since you loaded the page. "
        "Review the new number, then accept again."
    ]
    assert 'name="units" value="90"' in response.content.decode()
    assert ScheduleEntry.objects.count() == 2


# ------------------------------------------------------------------ bulk accept


def _accept_range(client, line, week_from, week_to):
    return client.post(
        reverse("quota_accept_range"),
        {"line": line.pk, "week_from": week_from, "week_to": week_to, **seen_schedule()},
    )


def test_bulk_accept_takes_every_cell_that_differs_in_one_revision(client, production_user, plan):
    client.force_login(production_user)

    response = _accept_range(client, plan["line"], iso_label(week(0)), iso_label(week(3)))

    assert response.status_code == 302
    assert response["Location"] == reverse("production_dashboard") + f"?line={plan['line'].pk}"
    revision = ScheduleRevision.objects.order_by("-id").first()
    # lemon next week already matches; peach (40 → 50) and lemon in two weeks (new).
    assert sorted(revision.entries.values_list("product__sku", "week", "units")) == [
        ("TEA-LEM-05", week(2), 100),
        ("TEA-PEA-05", week(1), 50),
    ]
    assert revision.summary == (
        f"Accepted 2 quotas on Bottling 1 for {iso_label(week(0))}–{iso_label(week(3))}"
    )
    assert not ScheduleEntry.objects.filter(product=plan["juice1"].product).exists()
    assert page_messages(client, response["Location"]) == [
        f"{revision.summary} (schedule version {revision.pk})."
    ]


def test_bulk_accept_keeps_an_override_and_says_so(client, production_user, plan):
    peach = ScheduleEntry.objects.get(product=plan["peach"])
    ScheduleEntry.objects.filter(pk=peach.pk).update(kind="overridden", reason="Short of bottles")
    client.force_login(production_user)

    response = _accept_range(client, plan["line"], iso_label(week(0)), iso_label(week(3)))

    revision = ScheduleRevision.objects.order_by("-id").first()
    assert list(revision.entries.values_list("product__sku", "week", "units")) == [
        ("TEA-LEM-05", week(2), 100)
    ]
    assert ScheduleEntry.objects.get(pk=peach.pk).superseded_at is None
    assert page_messages(client, response["Location"]) == [
        f"{revision.summary} (schedule version {revision.pk}). Kept 1 override: TEA-PEA-05 in "
        f"{iso_label(week(1))} (40). To replace an override with the recommendation, accept "
        "that week on its own."
    ]


def test_bulk_accept_with_nothing_to_do_says_so(client, production_user, plan):
    client.force_login(production_user)

    first = _accept_range(client, plan["line"], iso_label(week(1)), iso_label(week(1)))
    assert len(page_messages(client, first["Location"])) == 1
    response = _accept_range(client, plan["line"], iso_label(week(1)), iso_label(week(1)))

    assert page_messages(client, response["Location"]) == [
        "Nothing to accept: the schedule already matches."
    ]
    assert ScheduleRevision.objects.count() == 3  # the two fixtures' and the first accept


@pytest.mark.parametrize(("first", "last"), [(-3, -1), (-1, -1)])
def test_bulk_accept_of_past_weeks_says_they_are_over(client, production_user, plan, first, last):
    for offset in (-3, -2, -1):
        QuotaRecommendationFactory(product=plan["lemon"], week=week(offset))
    client.force_login(production_user)

    response = _accept_range(client, plan["line"], iso_label(week(first)), iso_label(week(last)))

    message = (
        f"{iso_label(week(-3))}–{iso_label(week(-1))} are over: their quotas can no longer change."
        if first != last
        else f"{iso_label(week(-1))} is over: its quota can no longer change."
    )
    assert page_messages(client, response["Location"]) == [message]
    assert ScheduleEntry.objects.count() == 2
    assert ScheduleRevision.objects.count() == 2


@pytest.mark.parametrize(
    ("week_from", "week_to", "message"),
    [
        ("W3", "W1", "The last week must not be before the first."),
        ("", "W1", "This field is required."),
        (
            "soon",
            "",
            "Enter a week as 2026-W48 or a date as 2026-11-23; got &#x27;soon&#x27;. "
            "This field is required.",
        ),
    ],
)
def test_a_bad_week_range_says_why_and_accepts_nothing(
    client, production_user, plan, week_from, week_to, message
):
    labels = {"W1": iso_label(week(1)), "W3": iso_label(week(3))}
    client.force_login(production_user)

    response = _accept_range(
        client, plan["line"], labels.get(week_from, week_from), labels.get(week_to, week_to)
    )

    assert response.status_code == 302
    assert page_messages(client, response["Location"]) == [message]
    assert ScheduleEntry.objects.count() == 2
    assert ScheduleRevision.objects.count() == 2


# ------------------------------------------------------------------ recompute and impact


def test_recompute_now_asks_for_the_lines_products(client, production_user, plan):
    client.force_login(production_user)

    response = client.post(reverse("recompute_now"), {"line": plan["canning"].pk})

    assert response.status_code == 302
    assert response["Location"] == reverse("production_dashboard") + f"?line={plan['canning'].pk}"
    recompute = RecomputeRequest.objects.get()
    assert (recompute.source, recompute.product_ids, recompute.line_ids) == (
        "manual",
        [plan["juice1"].product_id],
        [plan["canning"].pk],
    )
    assert recompute.reason == f"Canning 2: recompute requested by {production_user}"
    assert RecomputeRun.objects.filter(line=plan["canning"]).count() == 1  # only the fixture's


def test_the_promotion_impact_shows_pre_build_and_shortage(client, marketing_user, plan):
    promotion = PromotionFactory(
        name="Summer", status="planned", start_week=week(2), end_week=week(3)
    )
    PromotionItemFactory(promotion=promotion, product=plan["lemon"])
    PromotionItemFactory(promotion=promotion, product=plan["peach"])
    client.force_login(marketing_user)

    page = client.get(reverse("promotion_impact", args=[promotion.pk]))
    partial = client.get(reverse("promotion_impact", args=[promotion.pk]), **HTMX)

    html = page.content.decode()
    assert page.status_code == 200
    assert "<h1>Production's answer to “Summer”</h1>" in html
    # lemon's weeks cover weeks 2 and 3: 100 + 80 demand; 20 built ahead in week 2.
    assert "During the promotion: demand 180 units, of which 0 from the promotion." in html
    assert (
        f'<span class="badge badge-warn">Pre-build</span> 20 units built ahead in '
        f"{iso_label(week(2))} (20), because Bottling 1 lacks capacity later."
    ) in html
    assert (
        f'<span class="badge badge-err">Short</span> up to 10 units cannot be supplied: '
        f"{iso_label(week(2))} (10)."
    ) in html
    assert partial.content.decode().lstrip().startswith('<div class="impact">')
    assert client.get(reverse("promotion_impact", args=[999999])).status_code == 404


def test_planning_actions_without_any_line_are_a_404(client, production_user):
    client.force_login(production_user)

    week_range = {
        "week_from": iso_label(week(0)),
        "week_to": iso_label(week(3)),
        "seen_schedule_version": "0",
    }
    assert client.post(reverse("quota_accept_range"), week_range).status_code == 404
    assert client.post(reverse("recompute_now")).status_code == 404
    assert ScheduleRevision.objects.count() == 0
    assert RecomputeRequest.objects.count() == 0
