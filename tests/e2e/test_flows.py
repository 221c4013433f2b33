"""The main flows end to end: a real Chromium against a live server, recomputes run
in-process (eager) so no worker is needed."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction
from playwright.sync_api import expect
from rest_framework.authtoken.models import Token

from coordination import roles
from coordination.models import CustomerRequest
from coordination.services import recompute as recompute_services
from coordination.weeks import add_weeks, current_week, iso_label
from demand.models import Promotion, SalesActual
from demand.services.promotions import promotion_create
from production.models import QuotaRecommendation, RunRate, ScheduleEntry, ScheduleRevision
from production.services import pipeline
from recalls.models import RecallIncident
from tests.factories import LineFactory, ProductFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SKU = "TEA-LEM-05"
WEEKS_OF_HISTORY = 156


def week(offset: int) -> str:
    return iso_label(add_weeks(current_week(), offset))


@pytest.fixture
def world():
    """One product selling exactly 60 a week for three years, on a line of 100 hours a
    week where a unit takes an hour, made and sold in the same week (lead time 0)."""
    line = LineFactory(name="Bottling", weekly_capacity_hours=Decimal("100"))
    product = ProductFactory(
        sku=SKU, name="Lemon tea 0.5 l", production_line=line, lead_time_weeks=0
    )
    RunRate.objects.create(product=product, hours_per_unit=Decimal("1"))
    start = add_weeks(current_week(), -WEEKS_OF_HISTORY)
    SalesActual.objects.bulk_create(
        SalesActual(product=product, week=add_weeks(start, k), units=60)
        for k in range(WEEKS_OF_HISTORY)
    )
    return {"line": line, "product": product}


def recompute(product) -> None:
    with transaction.atomic():
        request = recompute_services.recompute_request(
            product_ids=[product.pk], source="manual", reason="e2e", enqueue_after_commit=False
        )
    pipeline.process_request(request.pk)


def test_marketing_logs_a_promotion_and_sees_productions_answer(page, login, marketing_user, world):
    login(page, marketing_user)
    page.goto("/promotions/new/")
    page.get_by_label("Name").fill("Summer lemon push")
    page.get_by_label("Discount %").fill("25")
    page.get_by_label("First week").fill(week(8))
    page.get_by_label("Last week").fill(week(8))
    page.get_by_label("Product SKU, row 1").fill(SKU)
    page.get_by_label("Expected lift %, row 1").fill("250")
    page.get_by_role("button", name="Save and confirm").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Summer lemon push")
    promotion = Promotion.objects.get()
    assert (promotion.status, promotion.start_week, promotion.end_week) == (
        "confirmed",
        add_weeks(current_week(), 8),
        add_weeks(current_week(), 8),
    )
    progress = page.locator("#recompute-progress")
    # The impact arrives through htmx once the (eager) recompute is done.
    expect(progress.locator(".badge")).to_have_text(["Up to date", "Pre-build", "Covered"])
    # +250% on 60 wants 210 in week 8; the line makes 100 a week, so 110 are built
    # ahead in the latest earlier weeks with room: 30 + 40 + 40, and nothing is short.
    expect(progress).to_contain_text(
        "During the promotion: demand 210 units, of which 150 from the promotion."
    )
    expect(progress).to_contain_text(
        f"Pre-build 110 units built ahead in {week(5)} (30), {week(6)} (40), {week(7)} (40), "
        "because Bottling lacks capacity later."
    )
    expect(progress).to_contain_text("Covered Production can supply the full demand.")


def test_production_accepts_quotas_and_the_schedule_api_serves_them(
    page, login, marketing_user, production_user, world
):
    promotion_create(
        actor=marketing_user,
        name="Big push",
        discount_pct=Decimal("25"),
        start_week=add_weeks(current_week(), 8),
        end_week=add_weeks(current_week(), 8),
        status=Promotion.Status.CONFIRMED,
        items=[{"product": world["product"], "expected_lift_pct": Decimal("250")}],
    )  # eager: the recompute has run when this returns
    assert QuotaRecommendation.objects.filter(product=world["product"]).count() == 26

    login(page, production_user)
    page.goto("/production/")
    grid = page.locator("#quota-grid")
    expect(grid.get_by_role("link", name=f"{SKU} {week(5)}: 90 units", exact=True)).to_be_visible()
    grid.get_by_label("From").fill(week(5))
    grid.get_by_label("to", exact=True).fill(week(8))
    grid.get_by_role("button", name="Accept these weeks").click()

    message = page.locator("ul.messages li")
    expect(message).to_have_count(1)
    revision = ScheduleRevision.objects.get()
    expect(message).to_have_text(f"{revision.summary} (schedule version {revision.pk}).")
    for offset, units in [(5, 90), (6, 100), (7, 100), (8, 100)]:
        expect(
            grid.get_by_role(
                "link", name=f"{SKU} {week(offset)}: {units} units, accepted {units}", exact=True
            )
        ).to_be_visible()
    expect(grid.get_by_role("link", name=f"{SKU} {week(4)}: 60 units", exact=True)).to_be_visible()

    token = Token.objects.create(user=production_user)
    response = page.request.get(
        "/api/v1/schedules/?line=Bottling", headers={"Authorization": f"Token {token.key}"}
    )
    assert response.status == 200
    body = response.json()
    assert response.headers["x-schedule-version"] == str(revision.pk)
    assert body["schedule_version"] == revision.pk
    assert [
        (e["product"], e["line"], e["week"], e["units"], e["kind"], e["accepted_by"])
        for e in body["results"]
    ] == [
        (SKU, "Bottling", week(5), 90, "accepted", "petra"),
        (SKU, "Bottling", week(6), 100, "accepted", "petra"),
        (SKU, "Bottling", week(7), 100, "accepted", "petra"),
        (SKU, "Bottling", week(8), 100, "accepted", "petra"),
    ]
    assert body["next"] is None
    assert list(ScheduleEntry.objects.order_by("week").values_list("units", flat=True)) == [
        90,
        100,
        100,
        100,
    ]


def test_the_explanation_opened_on_its_own_accepts_and_overrides(
    page, login, production_user, world
):
    recompute(world["product"])
    login(page, production_user)
    # A shared link to one cell: the explanation is the whole page, not a dashboard panel.
    page.goto(f"/production/quota/{SKU}/{week(3)}/")
    panel = page.locator("#explanation")

    panel.get_by_role("button", name="Accept 60 units").click()

    expect(panel.locator("ul.messages li")).to_have_text(
        f"Accepted 60 units of {SKU} in {week(3)}."
    )
    expect(panel).to_contain_text("accepted quota: 60.")
    panel.get_by_text("Override with another quota").click()
    panel.get_by_label("Quota (units)").fill("55")
    panel.get_by_label("Why").fill("Line trial")
    panel.get_by_role("button", name="Override").click()

    expect(panel.locator("ul.messages li")).to_have_text(
        f"Set {SKU} in {week(3)} to 55 units (override)."
    )
    current = ScheduleEntry.objects.get(superseded_at__isnull=True)
    assert (current.units, current.kind, current.reason) == (55, "overridden", "Line trial")
    assert ScheduleEntry.objects.count() == 2  # the accept, superseded by the override


@pytest.mark.parametrize(
    ("path", "region", "first_column"),
    [
        ("/production/", "Recommended units per product (rows) and week (columns)", SKU),
        ("/promotions/", "Each bar is a promotion", "Spring push"),
    ],
)
def test_week_tables_scroll_sideways_from_the_keyboard_keeping_their_row_names(
    page, login, marketing_user, production_user, world, path, region, first_column
):
    promotion_create(
        actor=marketing_user,
        name="Spring push",
        discount_pct=Decimal("20"),
        start_week=add_weeks(current_week(), 20),
        end_week=add_weeks(current_week(), 21),
        status=Promotion.Status.PLANNED,
        items=[{"product": world["product"], "expected_lift_pct": Decimal("40")}],
    )
    login(page, production_user)
    page.set_viewport_size({"width": 800, "height": 900})
    page.goto(path)
    wrap = page.get_by_role("region", name=region)
    row_name = wrap.get_by_role("rowheader").filter(has_text=first_column).first
    before = row_name.bounding_box()
    assert wrap.evaluate("w => w.scrollWidth > w.clientWidth")  # wider than the page

    wrap.focus()
    for _ in range(10):
        page.keyboard.press("ArrowRight")

    expect(wrap).to_be_focused()
    page.wait_for_function("w => w.scrollLeft > 200", arg=wrap.element_handle())
    assert row_name.bounding_box()["x"] == pytest.approx(wrap.bounding_box()["x"] + 1, abs=1)
    assert row_name.bounding_box()["x"] <= before["x"]


def test_sales_logs_a_customization_that_production_answers(
    new_page, login, sales_user, production_user, world
):
    """Log -> production reviews with the plan's promise -> quote with the margin in
    sight -> the customer accepts -> the plan carries the order."""
    recompute(world["product"])  # the line's current plan, which the promise answers from
    sales = login(new_page(), sales_user)
    sales.goto("/requests/new/")
    sales.get_by_label("Customer name").fill("Greenway Grocers")
    sales.get_by_label("Kind").select_option("customization")
    sales.get_by_label("Product SKU").fill(SKU)
    sales.get_by_label("Summary").fill("Lemon tea in 1 l glass bottles")
    sales.get_by_text("Details, quantity and wanted week").click()
    sales.get_by_label("Quantity").fill("300")
    sales.get_by_label("Wanted week").fill(week(12))
    sales.get_by_role("button", name="Log request").click()

    logged = sales.locator("#log-panel .messages")
    expect(logged).to_be_visible()
    request = CustomerRequest.objects.get()
    assert (request.kind, request.department, request.quantity, request.created_by) == (
        "customization",
        "production",
        300,
        sales_user,
    )
    expect(logged).to_have_text(
        f"Logged request #{request.pk} (Customization), routed to Production, "
        f"due {request.due_date:%d %b}. — open #{request.pk}"
    )

    production = login(new_page(), production_user)
    production.goto(f"/requests/{request.pk}/")
    # Routed to Production when logged: the status says so and Production answers.
    expect(production.locator(".page-head .badge").first).to_have_text("Triaged")
    expect(production.locator("dd", has_text="Waiting for production")).to_be_visible()
    # The plan's answer, computed on open: 40 spare hours a week cover 300 units by week 12.
    promise = production.locator("#promise")
    expect(promise.locator(".badge")).to_have_text(f"All 300 units by {week(12)}")
    expect(promise).to_contain_text(f"12 weeks (delivery of everything from {week(12)})")
    expect(promise.locator("dd").nth(2)).to_have_text("no other demand")
    production.locator("summary", has_text="Answer feasibility").click()
    form = production.locator("form", has=production.get_by_label("Explanation"))
    # Production starts from the plan's answer and confirms it.
    expect(form.get_by_label("Feasible", exact=True)).to_be_checked()
    expect(form.get_by_label("Lead time (weeks)")).to_have_value("12")
    form.get_by_label("Extra cost per unit").fill("0.35")
    form.get_by_label("Explanation").fill("Glass line runs it on Tuesdays.")
    form.get_by_role("button", name="Answer feasibility").click()
    expect(production.locator("ul.messages li")).to_have_text(
        f"#{request.pk}: Answer feasibility — done."
    )

    # Back with sales: the request page shows production's answer.
    sales.goto(f"/requests/{request.pk}/")
    expect(sales.locator(".page-head .badge").first).to_have_text("In review")
    facts = sales.locator("section", has=sales.get_by_role("heading", name="Customization"))
    expect(facts.locator(".badge-ok")).to_have_text("Feasible")
    expect(facts).to_contain_text("Glass line runs it on Tuesdays.")
    expect(facts.locator("dd").nth(2)).to_have_text("0.35 EUR")
    expect(facts.locator("dd").nth(3)).to_have_text("12 weeks")
    request.refresh_from_db()
    assert (request.status, request.feasible, request.department) == ("in_review", True, "sales")
    assert (request.extra_unit_cost, request.feasibility_lead_time_weeks) == (Decimal("0.35"), 12)

    # Sales quotes 200 units with the margin in sight (cost 1.20 + 0.35 extra); a price
    # below the 10 % floor needs a confirmation with a reason.
    sales.locator("summary", has_text="Quote").click()
    quote = sales.locator("form", has=sales.get_by_label("Quoted unit price"))
    margin = quote.locator("#quote-margin")
    expect(margin).to_have_text(
        "Cost 1.55 EUR per unit (1.20 + 0.35 extra). At 2.35 EUR: margin 0.80 EUR per unit "
        "(34.0 %), 240.00 EUR in total. Floor 10 % (at least 1.73 EUR)."
    )
    quote.get_by_label("Quantity").fill("200")
    quote.get_by_label("Quoted unit price").fill("1.60")
    expect(margin).to_have_text(
        "Cost 1.55 EUR per unit (1.20 + 0.35 extra). At 1.60 EUR: margin 0.05 EUR per unit "
        "(3.1 %), 10.00 EUR in total. 1.60 EUR earns 3.1 %, below the 10 % margin floor "
        "(at least 1.73 EUR)."
    )
    quote.get_by_role("button", name="Quote").click()
    quote = sales.locator("form", has=sales.get_by_label("Quoted unit price"))
    expect(quote).to_contain_text("Confirm to quote it anyway, and say why.")
    expect(sales.locator(".page-head .badge").first).to_have_text("In review")
    quote.get_by_label("Quote below cost or the margin floor anyway").check()
    quote.get_by_label("Why (only below the floor)").fill("Trial order for a new chain.")
    quote.get_by_role("button", name="Quote").click()
    expect(sales.locator(".page-head .badge").first).to_have_text("Quoted")
    expect(facts).to_contain_text("Below the margin floor: Trial order for a new chain.")
    sales.locator("summary", has_text="Customer accepted").click()
    sales.locator("#actions").get_by_role("button", name="Customer accepted").click()
    expect(sales.locator(".page-head .badge").first).to_have_text("Accepted")
    # The plan carries the order (the re-plan ran at once: tasks run inline here).
    replan = sales.locator("#recompute-progress")
    expect(replan.get_by_role("heading")).to_have_text("What changed in the plan")
    expect(replan.locator(".badge")).to_have_text("Up to date")
    expect(replan.locator("li").first).to_contain_text(
        f"Firm orders in {week(12)}: 200 units of 260 demand;"
    )
    expect(sales.locator("dd", has_text="200 units in")).to_have_text(
        f"200 units in {week(12)}, in the plan"
    )
    expect(sales.locator("#promise")).to_have_count(0)


def test_a_stop_ship_puts_a_banner_on_the_dashboard_and_zeroes_the_quotas(
    new_page, login, make_user, production_user, world
):
    recompute(world["product"])
    assert set(
        QuotaRecommendation.objects.filter(product=world["product"]).values_list(
            "recommended_units", flat=True
        )
    ) == {60}
    quality_user = make_user(roles.QUALITY, username="quinn")

    quality = login(new_page(), quality_user)
    quality.goto("/recalls/new/")
    quality.get_by_label("Title").fill("Glass fragments in lemon tea")
    quality.get_by_label("Class *", exact=True).select_option("class_i")
    quality.get_by_label("Source").select_option("internal_test")
    quality.get_by_label("Affected products").select_option(SKU)
    quality.get_by_label("Hazard").fill("Cuts to the mouth.")
    quality.get_by_label("Stop shipping now").check()
    quality.get_by_role("button", name="Open the recall").click()
    incident = RecallIncident.objects.get()
    expect(quality.get_by_role("heading", level=1)).to_contain_text(incident.code)
    assert incident.stop_ship is True

    production = login(new_page(), production_user)
    production.goto("/production/")
    banner = production.locator(".alert.banner[role=alert]")
    expect(banner).to_have_text(
        f"Danger: Stop-ship {incident.code} (Class I — serious harm likely): Glass fragments "
        "in lemon tea. Production of the affected products is held. Details"
    )
    expect(banner.get_by_role("link", name="Details")).to_have_attribute(
        "href", f"/recalls/{incident.code}/"
    )
    grid = production.locator("#quota-grid")
    row = grid.locator("tbody tr", has=production.get_by_role("link", name=SKU, exact=True))
    expect(row.locator("th .badge-err")).to_have_text("Hold")
    # Every one of the 26 weeks: 0 units (60 before the recall), flagged as on hold and,
    # since the weekly demand of 60 now goes unmet, as short.
    expect(row.locator("td")).to_have_text(["0!❚❚"] * 26)
    expect(grid.get_by_role("link", name=f"{SKU} {week(0)}: 0 units", exact=True)).to_be_visible()
    assert set(
        QuotaRecommendation.objects.filter(product=world["product"]).values_list(
            "recommended_units", "hold_reason"
        )
    ) == {(0, f"Stop-ship {incident.code}: Glass fragments in lemon tea")}
