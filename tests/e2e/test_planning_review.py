"""The planning review in a real browser: the gap the snapshot names, then each
department signs its part and the cycle is agreed."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from coordination.weeks import add_weeks, current_week, iso_label
from planning import services
from planning.models import PlanningCycle
from tests.planning.planning_world import build_world

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def cycle(admin_user, marketing_user, sales_user):
    """A cycle in review over the planning world (80 units short in week 2), the demand
    already signed by Marketing."""
    build_world(sales_user)
    opened = services.planning_cycle_open(
        actor=admin_user, period_start=timezone.localdate().replace(day=1)
    )
    cycle = services.planning_cycle_start_review(
        actor=admin_user, cycle_id=opened.pk, expected_version=opened.version
    )
    services.cycle_sign_off(actor=marketing_user, cycle_id=cycle.pk, part="demand")
    return cycle


def test_production_and_sales_sign_and_the_cycle_is_agreed(
    new_page, login, production_user, sales_user, cycle
):
    production = login(new_page(), production_user)
    production.goto(f"/planning/{cycle.pk}/")

    # The shortage of week 2 closes with 68 more hours then and 12 the week before.
    gap = production.get_by_role("table", name=re.compile("Where the plan is short"))
    rows = gap.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text(iso_label(add_weeks(current_week(), 2)))
    expect(rows.nth(0)).to_contain_text("68.0")
    expect(rows.nth(1)).to_contain_text(iso_label(add_weeks(current_week(), 1)))
    expect(rows.nth(1)).to_contain_text("12.0")

    production.get_by_label("Note (optional)").fill("Overtime in week 2 agreed with the plant.")
    production.get_by_role("button", name="Sign off the supply").click()
    expect(production.get_by_text("“Overtime in week 2 agreed with the plant.”")).to_be_visible()
    cycle.refresh_from_db()
    assert cycle.status == PlanningCycle.Status.IN_REVIEW  # Sales has not signed yet

    sales = login(new_page(), sales_user)
    sales.goto(f"/planning/{cycle.pk}/")
    sales.get_by_role("button", name="Sign off the firm orders and key commitments").click()

    expect(sales.get_by_text("Agreed", exact=True).first).to_be_visible()
    cycle.refresh_from_db()
    assert cycle.status == PlanningCycle.Status.AGREED
    assert sorted(cycle.sign_offs.values_list("part", flat=True)) == ["demand", "orders", "supply"]
