"""The home page: per role, what needs the user now, with counts linking to the lists."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from coordination import home
from coordination.weeks import add_weeks, current_week
from tests.factories import (
    CustomerRequestFactory,
    LineFactory,
    PromotionFactory,
    PromotionItemFactory,
    QuotaRecommendationFactory,
    RecomputeRunFactory,
    SalesActualFactory,
    SpecificationFactory,
)

pytestmark = pytest.mark.django_db


def todos(user) -> dict[str, dict[str, tuple[int, str]]]:
    """{panel title: {label: (count, url)}} as the home page shows them."""
    return {
        panel["title"]: {todo.label: (todo.count, todo.url) for todo in panel["todos"]}
        for panel in home.panels_for(user)
    }


def test_production_sees_spec_reviews_shortages_and_weeks_to_accept(production_user):
    SpecificationFactory(status="proposed", reviewed_by=None, reviewed_at=None)
    SpecificationFactory(status="approved")
    short = QuotaRecommendationFactory(week=current_week(), shortage_units=40.0)
    QuotaRecommendationFactory(week=current_week(), shortage_units=0.2)  # rounding, not short

    shown = todos(production_user)

    assert shown["Product specifications"] == {
        "Spec proposals to review": (1, reverse("review_queue"))
    }
    plan = shown["Production plan"]
    dashboard = f"{reverse('production_dashboard')}?line={short.line_id}"
    assert plan["Products the plan cannot fully supply"] == (1, dashboard)
    assert plan[f"{short.line.name}: weeks to accept"] == (1, dashboard)
    assert "Products on hold (stop-ship)" not in plan
    assert "Lines whose last recompute failed" not in plan  # zero counts are not shown


def test_production_sees_the_lines_whose_latest_recompute_failed(production_user):
    """Counted by each line's newest run: a failure followed by a success is over."""
    now = timezone.now()
    broken, mended, fine = LineFactory(), LineFactory(), LineFactory()
    RecomputeRunFactory(line=broken, state="done", started_at=now - dt.timedelta(hours=2))
    RecomputeRunFactory(line=broken, state="failed", started_at=now - dt.timedelta(hours=1))
    RecomputeRunFactory(line=mended, state="failed", started_at=now - dt.timedelta(hours=2))
    RecomputeRunFactory(line=mended, state="done", started_at=now - dt.timedelta(hours=1))
    RecomputeRunFactory(line=fine, state="done", started_at=now)

    plan = todos(production_user)["Production plan"]

    assert plan["Lines whose last recompute failed"] == (1, reverse("run_list"))


def test_sales_sees_overdue_requests_and_quotes_but_no_promotion_panel(sales_user):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    CustomerRequestFactory(created_by=sales_user, due_date=yesterday, department="sales")
    CustomerRequestFactory(created_by=sales_user, status="resolved", due_date=yesterday)
    CustomerRequestFactory(
        status="quoted",
        department="sales",
        kind="customization",
        quoted_unit_price="2.40",
        quantity=500,
        wanted_week=add_weeks(current_week(), 6),
    )

    shown = todos(sales_user)

    requests = shown["Customer requests"]
    assert requests["Your requests past their due date"] == (1, reverse("my_requests"))
    assert requests["Overdue in the Sales inbox"] == (
        1,
        f"{reverse('request_list')}?department=sales&overdue=on",
    )
    assert requests["Open in the Sales inbox"][0] == 2
    assert requests["Quotes awaiting the customer's answer"] == (
        1,
        f"{reverse('request_list')}?status=quoted",
    )
    assert "Promotions" not in shown
    assert "Product specifications" not in shown


def test_marketing_sees_promotions_at_risk_and_soon_drafts(marketing_user):
    at_risk = PromotionFactory(status="planned", at_risk_reason="Stop-ship RC-1: caps")
    PromotionFactory(status="draft", start_week=add_weeks(current_week(), 3))
    PromotionFactory(status="draft", start_week=add_weeks(current_week(), 20))
    PromotionFactory(status="cancelled", at_risk_reason="Old reason")

    panel = {
        todo.label: todo
        for p in home.panels_for(marketing_user)
        if p["title"] == "Promotions"
        for todo in p["todos"]
    }

    assert panel["Promotions at risk"].count == 1
    assert panel["Promotions at risk"].url == reverse("promotion_detail", args=[at_risk.pk])
    assert panel["Promotions at risk"].hint == "Stop-ship RC-1: caps"
    assert panel["Draft promotions starting within 6 weeks"].count == 1
    assert "Expected lifts far from what past promotions show" not in panel  # no history


def test_lift_far_from_history_is_not_flagged_without_past_promotions(marketing_user):
    PromotionItemFactory(promotion=PromotionFactory(status="planned"), expected_lift_pct=90)

    labels = [t.label for p in home.panels_for(marketing_user) for t in p["todos"]]

    assert "Expected lifts far from what past promotions show" not in labels


def test_an_expected_lift_far_from_past_promotions_is_flagged_a_quarter_ahead(marketing_user):
    # A past 20%-off week on a steady 100 a week sold 160: +60% learned, for the product
    # and (it being alone) its line, so Tandem suggests +60%.
    past = PromotionItemFactory(
        promotion=PromotionFactory(
            status="confirmed",
            discount_pct=20,
            start_week=add_weeks(current_week(), -20),
            end_week=add_weeks(current_week(), -20),
        )
    )
    product = past.product
    for k in range(1, 9):
        SalesActualFactory(product=product, week=add_weeks(current_week(), -20 - k), units=100)
    SalesActualFactory(product=product, week=add_weeks(current_week(), -20), units=160)
    # Coming in 10 weeks (beyond the 6-week drafts window), entered at +110%.
    upcoming = PromotionItemFactory(
        product=product,
        expected_lift_pct=110,
        promotion=PromotionFactory(
            name="New year fitness",
            status="planned",
            discount_pct=20,
            start_week=add_weeks(current_week(), 10),
            end_week=add_weeks(current_week(), 11),
        ),
    )
    # Too far ahead to matter yet, however far off.
    PromotionItemFactory(
        product=product,
        expected_lift_pct=300,
        promotion=PromotionFactory(
            status="planned",
            discount_pct=20,
            start_week=add_weeks(current_week(), 14),
            end_week=add_weeks(current_week(), 14),
        ),
    )

    panel = {
        todo.label: todo
        for p in home.panels_for(marketing_user)
        if p["title"] == "Promotions"
        for todo in p["todos"]
    }

    todo = panel["Expected lifts far from what past promotions show"]
    assert todo.count == 1
    assert todo.url == reverse("promotion_detail", args=[upcoming.promotion_id])
    assert todo.hint == f"{product.sku} in “New year fitness”: +110% entered, +60% suggested."


def test_a_user_without_a_role_sees_no_panels(make_user, client):
    user = make_user()
    client.force_login(user)

    response = client.get(reverse("home"))

    assert response.status_code == 200
    assert home.panels_for(user) == []
    assert "Your account has no role yet" in response.content.decode()


def test_home_page_lists_counts_as_links(production_user, client):
    SpecificationFactory(status="proposed", reviewed_by=None, reviewed_at=None)
    client.force_login(production_user)

    html = client.get(reverse("home")).content.decode()

    assert f'<a href="{reverse("review_queue")}">' in html
    assert "Spec proposals to review" in html
    assert "Nothing waiting here." in html  # the Recalls panel: no open recall


def test_quality_sees_open_recalls_and_its_overdue_tasks(quality_user, production_user):
    from recalls.models import RecallTask
    from recalls.services.communication import task_add
    from recalls.services.incidents import recall_open
    from tests.factories import ProductFactory

    incident = recall_open(
        actor=quality_user,
        title="Caps may not seal",
        classification="class_ii",
        hazard="Leaking caps",
        source="internal_test",
        product_ids=[ProductFactory().pk],
    )
    for owner, department in ((quality_user, "quality"), (production_user, "production")):
        task = task_add(
            actor=quality_user,
            incident_id=incident.pk,
            title="Check returns",
            department=department,
            owner_id=owner.pk,
            due_date=timezone.localdate() + dt.timedelta(days=2),
        )
        # Due dates in the past are refused when adding; the task became overdue since.
        RecallTask.objects.filter(pk=task.pk).update(
            due_date=timezone.localdate() - dt.timedelta(days=1)
        )

    shown = todos(quality_user)["Recalls"]

    tasks_url = reverse("recall_tab", args=[incident.code, "tasks"])
    assert shown["Open recalls"] == (1, reverse("recall_board"))
    assert shown["Your overdue recall tasks"] == (1, tasks_url)
    assert shown["Overdue recall tasks (all departments)"] == (2, tasks_url)
