"""Every kind of page works under the Content-Security-Policy (no inline script, event
handler, style or eval): the new_page fixture fails a test on any violation. Here the
pages nobody's flow visits, Swagger UI and the admin, and what used to be inline: the
confirmation before irreversible steps and the promotion form's lift suggestion."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from coordination.models import EmailKind
from coordination.services.notifications import unsubscribe_token
from coordination.weeks import add_weeks, current_week
from demand.models import Promotion
from demand.services.promotions import promotion_create
from production.models import ScheduleRevision, WebhookEndpoint
from recalls.models import RecallIncident
from recalls.services import incidents
from tests.e2e.conftest import watch_csp
from tests.e2e.test_flows import SKU, week, world  # noqa: F401 (world: a fixture)
from tests.factories import CustomerRequestFactory, SpecificationFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

POLICY = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
)


def big_push(marketing_user, product) -> Promotion:
    """A confirmed promotion in week 8: quotas are computed (eager) when it returns."""
    return promotion_create(
        actor=marketing_user,
        name="Big push",
        discount_pct=Decimal("25"),
        start_week=add_weeks(current_week(), 8),
        end_week=add_weeks(current_week(), 8),
        status=Promotion.Status.CONFIRMED,
        items=[{"product": product, "expected_lift_pct": Decimal("250")}],
    )


@pytest.fixture
def everything(world, marketing_user, quality_user, admin_user):  # noqa: F811
    product, line = world["product"], world["line"]
    promotion = big_push(marketing_user, product)
    recall = incidents.recall_open(
        actor=quality_user,
        title="Loose caps",
        classification=RecallIncident.Classification.CLASS_II,
        hazard="The tea may ferment.",
        source=RecallIncident.Source.INTERNAL_TEST,
        product_ids=[product.pk],
    )
    request = CustomerRequestFactory(product=product)
    specification = SpecificationFactory(product=product, number=1)
    endpoint = WebhookEndpoint.objects.create(
        created_by=admin_user, url="https://erp.example.com/hook"
    )
    endpoint.lines.set([line])
    return {
        "promotion": promotion,
        "recall": recall,
        "request": request,
        "specification": specification,
        "endpoint": endpoint,
        **world,
    }


def test_every_kind_of_page_runs_under_the_policy(page, login, admin_user, everything):
    promotion, recall, line = everything["promotion"], everything["recall"], everything["line"]
    login(page, admin_user)
    pages = [
        "/",
        "/team/",
        "/profile/",
        f"/e-mails/unsubscribe/{unsubscribe_token(admin_user, EmailKind.DAILY_DIGEST)}/",
        "/products/",
        f"/products/{SKU}/",
        f"/products/{SKU}/specifications/1/",
        "/requests/",
        "/requests/new/",
        f"/requests/{everything['request'].pk}/",
        "/voice-of-customer/",
        "/specifications/review/",
        "/promotions/",
        f"/promotions/{promotion.pk}/",
        f"/promotions/{promotion.pk}/edit/",
        "/forecasts/",
        "/forecasts/accuracy/",
        f"/forecasts/{SKU}/",
        f"/forecasts/{SKU}/launch/",
        "/sales/import/",
        "/production/",
        f"/production/quota/{SKU}/{week(8)}/",
        "/production/lines/",
        f"/production/lines/{line.pk}/",
        "/production/runs/",
        "/inventory/",
        "/recalls/",
        "/recalls/new/",
        *(
            f"/recalls/{recall.code}/{tab}/"
            for tab in (
                "overview",
                "lots",
                "tasks",
                "press",
                "statements",
                "effectiveness",
                "notifications",
            )
        ),
        "/planning/",
        "/planning/actions/",
        "/admin/",
        "/admin/coordination/user/",
        f"/admin/production/webhookendpoint/{everything['endpoint'].pk}/change/",
        "/admin/axes/accessattempt/",
    ]
    for path in pages:
        response = page.goto(path)
        assert response.status == 200, path
        policy = response.headers["content-security-policy"]
        assert all(directive in policy for directive in POLICY), (path, policy)
        page.wait_for_load_state("networkidle")
    # The explanation's waterfall: SVG bars sized by attributes, not style.
    page.goto(f"/production/quota/{SKU}/{week(8)}/")
    bars = page.locator("svg.wf-track rect.wf-bar")
    expect(bars.first).to_be_visible()
    assert float(bars.first.get_attribute("width")) > 0
    # Error pages carry the policy too.
    missing = page.goto("/no-such-page/")
    assert missing.status == 404
    assert "script-src 'self'" in missing.headers["content-security-policy"]


def test_swagger_ui_renders_the_api_under_the_policy(page, login, admin_user):
    login(page, admin_user)
    response = page.goto("/api/docs/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    # The start-up script (served from /api/docs/?script=) fetched the schema and drew it.
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Tandem API")
    expect(page.locator(".opblock-tag-section").first).to_be_visible()
    page.locator(".opblock-summary", has_text="/api/v1/schedules/").first.click()
    expect(page.locator(".opblock-body").first).to_be_visible()


def test_the_lift_suggestion_reads_the_row_without_eval(page, login, marketing_user, world):  # noqa: F811
    login(page, marketing_user)
    page.goto("/promotions/new/")
    page.get_by_label("Discount %").fill("25")
    page.get_by_label("Product SKU, row 1").fill("NOPE-1")
    page.get_by_label("Expected lift %, row 1").focus()  # the SKU field's change event
    expect(page.locator("#suggestion-0")).to_have_text("No product NOPE-1.")
    page.get_by_label("Product SKU, row 1").fill(SKU.lower())
    page.get_by_label("Expected lift %, row 1").focus()
    expect(page.locator("#suggestion-0")).not_to_contain_text("No product")
    expect(page.locator("#suggestion-0")).not_to_be_empty()


def test_an_irreversible_step_asks_and_a_no_sends_nothing(
    page,
    login,
    production_user,
    marketing_user,
    world,  # noqa: F811
):
    big_push(marketing_user, world["product"])
    login(page, production_user)
    # A page of the same context without the fixture's "answer yes" handler.
    asking = page.context.new_page()
    asking.goto("/production/")
    grid = asking.locator("#quota-grid")
    grid.get_by_label("From").fill(week(5))
    grid.get_by_label("to", exact=True).fill(week(8))
    questions = []

    def answer(no: bool):
        def handle(dialog):
            questions.append(dialog.message)
            dialog.dismiss() if no else dialog.accept()

        return handle

    asking.once("dialog", answer(no=True))
    grid.get_by_role("button", name="Accept these weeks").click()
    asking.wait_for_timeout(500)
    assert questions == [
        "Accept every recommendation of Bottling in these weeks into the schedule?"
    ]
    assert ScheduleRevision.objects.count() == 0

    asking.once("dialog", answer(no=False))
    grid.get_by_role("button", name="Accept these weeks").click()
    expect(asking.locator("ul.messages li")).to_have_count(1)
    assert len(questions) == 2
    assert ScheduleRevision.objects.count() == 1


def test_a_violation_is_caught(browser, live_server):
    """The watcher the new_page fixture uses does see a refused inline script."""
    context = browser.new_context(base_url=live_server.url)
    violations: list[str] = []
    watch_csp(context, violations)
    try:
        page = context.new_page()
        page.goto("/accounts/login/")
        page.evaluate(
            "() => { const s = document.createElement('script');"
            " s.textContent = 'window.ran = true'; document.body.append(s); }"
        )
        page.wait_for_timeout(300)
        assert page.evaluate("() => window.ran === true") is False
        assert any(
            v.startswith("script-src-elem refused inline on /accounts/login/") for v in violations
        ), violations
    finally:
        context.close()
