"""Planning review pages: every role reads, only the owners act, bad input is answered
at the field, and the report and its CSV show the snapshot, not the live data."""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse

from coordination.weeks import add_weeks, current_week
from demand.models import DemandForecast
from planning import services
from planning.models import CycleDecision, CycleSignOff, PlanningCycle, PlanningScenario
from planning.selectors import cycles as selectors
from tests.factories import ProductFactory
from tests.planning.planning_world import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def cycle(admin_user, sales_user):
    build_world(sales_user)
    opened = services.planning_cycle_open(actor=admin_user, period_start=dt.date(2026, 12, 1))
    return services.planning_cycle_start_review(
        actor=admin_user, cycle_id=opened.pk, expected_version=opened.version
    )


def test_every_role_reads_every_page(
    client, cycle, marketing_user, sales_user, production_user, quality_user, admin_user
):
    scenario = services.planning_scenario_run(
        actor=production_user,
        cycle_id=cycle.pk,
        line_id=selectors.latest_snapshot(cycle).data["lines"][0]["id"],
        first_week=selectors.latest_snapshot(cycle).first_week,
        last_week=selectors.latest_snapshot(cycle).first_week,
        extra_hours=8,
    )
    pages = [
        reverse("planning_list"),
        reverse("planning_detail", args=[cycle.pk]),
        reverse("planning_report", args=[cycle.pk]),
        reverse("planning_report_csv", args=[cycle.pk]),
        reverse("planning_actions"),
        reverse("planning_scenario", args=[cycle.pk, scenario.pk]),
    ]
    for user in (marketing_user, sales_user, production_user, quality_user, admin_user):
        client.force_login(user)
        assert [client.get(page).status_code for page in pages] == [200] * 6, user
    # Quality reads everything and is offered nothing to change.
    client.force_login(quality_user)
    html = client.get(reverse("planning_detail", args=[cycle.pk])).content.decode()
    for action in (
        reverse("planning_decision_add", args=[cycle.pk]),
        reverse("planning_scenario_run", args=[cycle.pk]),
        reverse("planning_adjust", args=[cycle.pk]),
        reverse("planning_action", args=[cycle.pk, "refresh"]),
        *(
            reverse("planning_sign", args=[cycle.pk, part])
            for part in ("demand", "supply", "orders")
        ),
    ):
        assert f'action="{action}"' not in html


def test_signed_out_visitors_go_to_sign_in(client, cycle):
    response = client.get(reverse("planning_detail", args=[cycle.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_only_admins_open_cycles(client, marketing_user, admin_user):
    client.force_login(marketing_user)
    response = client.post(reverse("planning_open"), {"period_start": "2026-12"})
    assert response.status_code == 403
    assert PlanningCycle.objects.count() == 0
    list_page = client.get(reverse("planning_list"))
    assert "Open a cycle" not in list_page.content.decode()
    assert "No planning cycle yet. An admin opens each cycle." in list_page.content.decode()

    client.force_login(admin_user)
    response = client.post(reverse("planning_open"), {"period_start": "2026-13"})
    assert response.status_code == 400
    assert response.context["open_form"].errors == {
        "period_start": ["Enter a month as YYYY-MM, e.g. 2026-12."]
    }
    assert PlanningCycle.objects.count() == 0
    response = client.post(reverse("planning_open"), {"period_start": "2026-12"})
    cycle = PlanningCycle.objects.get()
    assert response["Location"] == reverse("planning_detail", args=[cycle.pk])
    assert (cycle.name, cycle.snapshots.count()) == ("December 2026", 1)


def test_a_department_signs_its_part_from_the_page(client, cycle, marketing_user):
    client.force_login(marketing_user)
    page = client.get(reverse("planning_detail", args=[cycle.pk])).content.decode()
    assert reverse("planning_sign", args=[cycle.pk, "demand"]) in page
    assert reverse("planning_sign", args=[cycle.pk, "supply"]) not in page
    demand_hash = selectors.sign_off_state(cycle)[0]["hash"]

    refused = client.post(
        reverse("planning_sign", args=[cycle.pk, "supply"]),
        {"part_hash": selectors.sign_off_state(cycle)[1]["hash"]},
    )
    assert refused.status_code == 403
    stale = client.post(
        reverse("planning_sign", args=[cycle.pk, "demand"]), {"part_hash": "0" * 64}
    )
    assert stale.status_code == 302
    assert CycleSignOff.objects.count() == 0
    signed = client.post(
        reverse("planning_sign", args=[cycle.pk, "demand"]),
        {"part_hash": demand_hash, "note": "Agreed with the promotions team"},
        follow=True,
    )
    assert "Signed off the demand." in signed.content.decode()
    assert CycleSignOff.objects.get().note == "Agreed with the promotions team"


def test_an_unknown_part_or_cycle_is_not_found(client, cycle, marketing_user):
    client.force_login(marketing_user)
    assert client.post(reverse("planning_sign", args=[cycle.pk, "budget"])).status_code == 404
    assert client.get(reverse("planning_detail", args=[999999])).status_code == 404
    assert client.post(reverse("planning_action", args=[cycle.pk, "explode"])).status_code == 404


def test_decisions_are_recorded_with_htmx_and_errors_shown_at_the_field(
    client, cycle, production_user
):
    client.force_login(production_user)
    url = reverse("planning_decision_add", args=[cycle.pk])
    bad = client.post(url, {"kind": "action", "text": "Book shifts", "department": "production"})
    assert bad.status_code == 400
    assert bad.context["decision_form"].errors == {
        "owner": ["An action item needs an owner."],
        "due_date": ["An action item needs a due date."],
    }
    # With htmx the section comes back with its errors as a 200, so htmx swaps it in.
    swapped = client.post(
        url,
        {"kind": "action", "text": "Book shifts", "department": "production"},
        HTTP_HX_REQUEST="true",
    )
    assert swapped.status_code == 200
    assert swapped.content.decode().lstrip().startswith('<section class="card" id="items">')
    assert "An action item needs an owner." in swapped.content.decode()
    assert CycleDecision.objects.count() == 0

    due = dt.date.today() + dt.timedelta(days=5)
    response = client.post(
        url,
        {
            "kind": "action",
            "text": "Book two Saturday shifts",
            "department": "production",
            "owner": production_user.pk,
            "due_date": due.isoformat(),
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card" id="items">')
    assert "Book two Saturday shifts" in html
    item = CycleDecision.objects.get()
    assert (item.kind, item.owner, item.due_date) == ("action", production_user, due)


def test_a_decision_names_its_product_by_sku(client, cycle, production_user):
    product = ProductFactory(sku="TEA-LEM-05")
    client.force_login(production_user)
    url = reverse("planning_decision_add", args=[cycle.pk])
    body = {"kind": "decision", "text": "Push lemon tea", "department": "production"}

    unknown = client.post(url, {**body, "product": "TEA-XXX-99"})
    assert unknown.status_code == 400
    assert unknown.context["decision_form"].errors == {
        "product": ["No product has the SKU TEA-XXX-99."]
    }
    assert CycleDecision.objects.count() == 0

    client.post(url, {**body, "product": "TEA-LEM-05"})
    item = CycleDecision.objects.get()
    assert item.product == product
    edit = client.get(reverse("planning_decision_edit", args=[item.pk]))
    assert 'value="TEA-LEM-05"' in edit.content.decode()


def test_editing_a_stale_item_says_so_and_keeps_it(client, cycle, production_user, sales_user):
    item = services.cycle_decision_create(
        actor=sales_user,
        cycle_id=cycle.pk,
        kind="decision",
        text="Keep the plan",
        department="sales",
    )
    client.force_login(production_user)
    response = client.post(
        reverse("planning_decision_edit", args=[item.pk]),
        {"version": 7, "kind": "decision", "text": "Change the plan", "department": "sales"},
    )
    assert response.status_code == 400
    assert "changed by someone else" in response.content.decode()
    item.refresh_from_db()
    assert item.text == "Keep the plan"


def test_the_owner_marks_an_action_done_from_the_action_list(
    client, cycle, production_user, sales_user
):
    item = services.cycle_decision_create(
        actor=sales_user,
        cycle_id=cycle.pk,
        kind="action",
        text="Confirm the Harbour Gyms order",
        department="sales",
        owner_id=production_user.pk,
        due_date=dt.date.today(),
    )
    client.force_login(production_user)
    listing = client.get(reverse("planning_actions"), {"mine": "on"})
    assert [i.pk for i in listing.context["page"].object_list] == [item.pk]
    response = client.post(
        reverse("planning_decision_status", args=[item.pk]),
        {"version": item.version, "status": "done", "next": "https://evil.example/"},
    )
    assert response["Location"] == f"{reverse('planning_detail', args=[cycle.pk])}#items"
    item.refresh_from_db()
    assert item.status == "done"
    assert (
        client.get(reverse("planning_actions"), {"mine": "on"}).context["page"].paginator.count == 0
    )


def test_a_scenario_from_the_page_and_its_refusals(client, cycle, production_user, marketing_user):
    url = reverse("planning_scenario_run", args=[cycle.pk])
    line = selectors.latest_snapshot(cycle).data["lines"][0]["id"]
    client.force_login(marketing_user)
    assert client.post(url, {"line": line}).status_code == 403
    client.force_login(production_user)
    bad = client.post(
        url, {"line": line, "first_week": "2020-W01", "last_week": "2020-W02", "extra_hours": "8"}
    )
    assert bad.status_code == 400
    assert (
        "is over: choose this week or a later one."
        in bad.context["scenario_form"].errors["first_week"][0]
    )
    assert PlanningScenario.objects.count() == 0
    week = selectors.latest_snapshot(cycle).first_week
    label = f"{week:%G-W%V}"
    ok = client.post(
        url, {"line": line, "first_week": label, "last_week": label, "extra_hours": "16"}
    )
    scenario = PlanningScenario.objects.get()
    assert ok["Location"] == reverse("planning_scenario", args=[cycle.pk, scenario.pk])
    page = client.get(ok["Location"]).content.decode()
    assert "The live recommendations and the accepted schedule were not changed" in page


def test_the_report_and_csv_show_the_snapshot_not_the_live_data(client, cycle, quality_user):
    snapshot = selectors.latest_snapshot(cycle).data
    DemandForecast.objects.update(baseline=999.0, final=999.0)  # live data moves on

    client.force_login(quality_user)
    report = client.get(reverse("planning_report", args=[cycle.pk]))
    expected_total = sum(r["final"] for r in snapshot["demand"]["rows"])
    assert report.context["summary"]["demand"] == expected_total == 26 * 60 + 355
    assert [t["final"] for t in report.context["demand_totals"]] == [
        sum(r["final"] for r in snapshot["demand"]["rows"] if r["month"] == m)
        for m in snapshot["months"]
    ]
    html = report.content.decode()
    assert "Planning review December 2026" in html
    assert html.count('class="chart-figure"') == 2  # demand, and the one line's capacity
    assert "The chart as a table" in html

    response = client.get(reverse("planning_report_csv", args=[cycle.pk]))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="planning-2026-12.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["section", "subject", "period", "measure", "value"]
    finals = [float(r[4]) for r in rows if r[0] == "demand" and r[3] == "final"]
    assert sum(finals) == expected_total
    gaps = [r for r in rows if r[0] == "capacity_gap"]
    assert [(r[1], r[3], r[4]) for r in gaps] == [
        ("Bottling", "extra_hours", "68.0"),
        ("Bottling", "extra_hours", "12.0"),
    ]
    assert ["sign_off", "marketing", "", "demand", "missing"] in rows


def test_the_csv_never_hands_a_spreadsheet_a_formula(client, cycle, marketing_user):
    services.cycle_decision_create(
        actor=marketing_user,
        cycle_id=cycle.pk,
        kind="decision",
        text='=HYPERLINK("http://evil.example")',
        department="marketing",
    )
    client.force_login(marketing_user)

    response = client.get(reverse("planning_report_csv", args=[cycle.pk]))

    rows = list(csv.reader(io.StringIO(response.content.decode())))
    texts = [cell for row in rows if row[0] == "decision" for cell in row]
    assert '\'=HYPERLINK("http://evil.example")' in texts
    assert not any(cell.startswith("=") for row in rows for cell in row)


def test_the_cycle_list_filters_by_who_must_sign(client, cycle, marketing_user, sales_user):
    services.cycle_sign_off(actor=marketing_user, cycle_id=cycle.pk, part="demand")
    client.force_login(sales_user)
    waiting = client.get(reverse("planning_list"), {"awaiting": "marketing"})
    assert list(waiting.context["page"].object_list) == []
    waiting = client.get(reverse("planning_list"), {"awaiting": "sales"})
    assert [c.pk for c in waiting.context["page"].object_list] == [cycle.pk]
    ignored = client.get(reverse("planning_list"), {"awaiting": "nobody", "status": "bogus"})
    assert ignored.status_code == 200
    assert [c.pk for c in ignored.context["page"].object_list] == [cycle.pk]


def test_cycle_actions_from_the_page(client, cycle, production_user, admin_user):
    refresh = reverse("planning_action", args=[cycle.pk, "refresh"])
    client.force_login(production_user)
    assert client.post(refresh, {"version": cycle.version}).status_code == 403
    assert cycle.snapshots.count() == 1

    client.force_login(admin_user)
    stale = client.post(refresh, {"version": cycle.version + 5}, follow=True)
    assert "changed by someone else" in stale.content.decode()
    assert cycle.snapshots.count() == 1
    client.post(refresh, {"version": cycle.version})
    assert cycle.snapshots.count() == 2
    cycle.refresh_from_db()
    early = client.post(
        reverse("planning_action", args=[cycle.pk, "close"]),
        {"version": cycle.version},
        follow=True,
    )
    assert "only an agreed cycle can be closed" in early.content.decode()
    cycle.refresh_from_db()
    assert cycle.status == "in_review"


def test_the_demand_table_shows_the_dip_and_what_siblings_take(
    client, admin_user, sales_user, quality_user
):
    world = build_world(sales_user)
    this_week = current_week()
    # After the promotion of week 8, a dip of 30 in week 9; a sibling's promotion takes 20
    # from week 12. final = 60 + dip + taken.
    DemandForecast.objects.filter(product=world["product"], week=add_weeks(this_week, 9)).update(
        promotion_dip=-30.0, final=30.0
    )
    DemandForecast.objects.filter(product=world["product"], week=add_weeks(this_week, 12)).update(
        cannibalization=-20.0, cannibalized_by="TEA-PEA-05", final=40.0
    )
    cycle = services.planning_cycle_open(actor=admin_user, period_start=dt.date(2026, 12, 1))
    rows = selectors.latest_snapshot(cycle).data["demand"]["rows"]
    assert (sum(r["dip"] for r in rows), sum(r["taken"] for r in rows)) == (-30, -20)
    assert sum(r["final"] for r in rows) == 26 * 60 + 355 - 50

    client.force_login(quality_user)
    report = client.get(reverse("planning_report", args=[cycle.pk]))
    totals = report.context["demand_totals"]
    assert (sum(t["dip"] for t in totals), sum(t["taken"] for t in totals)) == (-30, -20)
    html = report.content.decode()
    detail = client.get(reverse("planning_detail", args=[cycle.pk])).content.decode()
    for page in (html, detail):
        assert page.count('<th scope="col" class="num">Dip after</th>') == 1
        assert page.count('<th scope="col" class="num">Taken by siblings</th>') == 1
        assert '<td class="num">-30</td>' in page and '<td class="num">-20</td>' in page
    csv_rows = list(
        csv.reader(io.StringIO(client.get(reverse("planning_report_csv", args=[cycle.pk])).text))
    )
    for term, units in (("dip", -30.0), ("taken", -20.0)):
        values = [float(r[4]) for r in csv_rows if r[0] == "demand" and r[3] == term]
        assert (len(values), sum(values), min(values)) == (len(rows), units, units)


def test_a_snapshot_taken_before_the_dip_terms_still_reports(client, cycle, quality_user):
    snapshot = selectors.latest_snapshot(cycle)
    for row in snapshot.data["demand"]["rows"]:
        del row["dip"], row["taken"]
    type(snapshot).objects.filter(pk=snapshot.pk).update(data=snapshot.data)

    client.force_login(quality_user)
    report = client.get(reverse("planning_report", args=[cycle.pk]))
    assert report.status_code == 200
    assert {(t["dip"], t["taken"]) for t in report.context["demand_totals"]} == {(0, 0)}
    assert client.get(reverse("planning_report_csv", args=[cycle.pk])).status_code == 200
    assert client.get(reverse("planning_detail", args=[cycle.pk])).status_code == 200
