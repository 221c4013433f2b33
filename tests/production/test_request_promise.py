"""The customer request page asks the plan: production reviews a customization with the
line's capable-to-promise on screen, confirms or changes the lead time it suggests (the
timeline keeps both), and sales quotes with the margin in sight, confirming with a reason
below cost or the margin floor."""

from __future__ import annotations

import re
from decimal import Decimal
from html import unescape

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from coordination.models import ActivityEvent, CustomerRequest, Product
from coordination.services import customer_requests as services
from coordination.weeks import current_week, iso_label
from tests.api_errors import invalid
from tests.factories import CustomerRequestFactory, ProductionHoldFactory
from tests.production.test_api_promises import (  # noqa: F401 - _four_weeks is autouse
    _four_weeks,
    api,
    label,
    two_product_line,
    week,
)
from tests.tables import rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def line():
    return two_product_line()


def customization(quantity=5, offset=2, **kwargs):
    fields = {
        "kind": "customization",
        "product": Product.objects.get(sku="BEV-A"),
        "quantity": quantity,
        "wanted_week": week(offset) if offset is not None else None,
        "status": "triaged",
        "department": "production",
        **kwargs,
    }
    return CustomerRequestFactory(**fields)


def to_quote(**kwargs):
    """Feasible (no lead time, +0.10 a unit): sales may quote. BEV-A costs 1.20."""
    return customization(
        status="in_review",
        department="sales",
        feasible=True,
        extra_unit_cost=Decimal("0.10"),
        feasibility_lead_time_weeks=0,
        **kwargs,
    )


def page(user, request: CustomerRequest) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(f"/requests/{request.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def text(html: str, element_id: str) -> str:
    """The words of the element with this id, spaces collapsed."""
    match = re.search(rf'<(\w+)[^>]*id="{element_id}"[^>]*>(.*?)</\1>', html, re.S)
    assert match, f"no #{element_id}"
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", match.group(2))).split())


# --- production reviews with the promise --------------------------------------------------


def test_production_sees_what_the_plan_can_promise_and_the_lead_time_it_allows(
    line, production_user
):
    request = customization(quantity=35)
    html = page(production_user, request)
    run = line.recompute_runs.get().pk
    assert text(html, "promise") == (
        f"What the plan can promise 30 of 35 units by {label(2)} — all of them by {label(3)} "
        f"Lead time the plan allows 3 weeks (delivery of everything from {label(3)}) "
        f"Uses production of {label(1)}: 5, {label(2)}: 5, {label(3)}: 5 "
        f"Displaces BEV-A: up to 20 units short, in {label(3)}; "
        f"BEV-B: up to 15 units short, {label(1)} to {label(3)} "
        f"From line Canning 2's current plan (run #{run}); nothing is reserved until the "
        "customer accepts."
    )
    # The feasibility form starts from the plan's answer.
    assert 'name="lead_time_weeks" value="3"' in html
    assert re.search(r'name="feasible" value="yes"[^>]*checked', html)


def test_a_request_the_plan_covers_by_its_week_suggests_the_weeks_until_then(line, production_user):
    html = page(production_user, customization(quantity=5))
    assert text(html, "promise").startswith(
        f"What the plan can promise All 5 units by {label(2)} Lead time the plan allows 2 weeks"
    )
    assert 'name="lead_time_weeks" value="2"' in html


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"quantity": None}, "Give the product, the quantity and the wanted week to ask the plan."),
        ({"offset": None}, "Give the product, the quantity and the wanted week to ask the plan."),
        (
            {"offset": 0},
            f"The week is inside line Canning 2's frozen window of 1 week; the first week open "
            f"to new orders is {iso_label(week(1))}.",
        ),
    ],
)
def test_a_request_the_plan_cannot_answer_says_why(line, production_user, fields, said):
    html = page(production_user, customization(**fields))
    assert text(html, "promise") == f"What the plan can promise {said}"
    assert 'name="lead_time_weeks" value=' not in html


def test_a_held_product_is_named_with_its_hold(line, production_user):
    ProductionHoldFactory(product=Product.objects.get(sku="BEV-A"), reason="Recall R-7 stop-ship")
    html = page(production_user, customization())
    assert text(html, "promise") == (
        "What the plan can promise BEV-A cannot be promised: on hold (Recall R-7 stop-ship)."
    )


def test_an_accepted_order_is_in_the_plan_and_not_promised_again(line, sales_user):
    html = page(sales_user, customization(status="accepted", **_quoted()))
    assert 'id="promise"' not in html


def _quoted():
    return {
        "feasible": True,
        "extra_unit_cost": Decimal("0.10"),
        "feasibility_lead_time_weeks": 0,
        "quoted_unit_price": Decimal("2.00"),
    }


def _answer(actor, request, lead_time):
    return services.request_answer_feasibility(
        actor=actor,
        request_id=request.pk,
        expected_version=request.version,
        feasible=True,
        note="Sleeve labels from our usual printer.",
        extra_unit_cost="0.10",
        lead_time_weeks=lead_time,
    )


def test_the_answer_keeps_what_the_plan_offered_beside_what_production_confirmed(
    line, production_user
):
    request = customization(quantity=35)
    _answer(production_user, request, 3)
    run = line.recompute_runs.get().pk
    assert ActivityEvent.objects.filter(verb="transitioned").get().message == (
        f"Feasible: +0.10 per unit, 3 weeks lead time (delivery from {label(3)}). The plan "
        f"(run #{run}) could deliver 30 of 35 units by {label(2)}, all by {label(3)}. "
        "Sleeve labels from our usual printer. Back to Sales to quote."
    )


def test_a_lead_time_shorter_than_the_plans_is_recorded_as_such(line, production_user):
    request = customization(quantity=35)
    _answer(production_user, request, 1)
    assert (
        ActivityEvent.objects.filter(verb="transitioned")
        .get()
        .message.endswith(
            f"all by {label(3)}. Production confirmed 2 week(s) less than the plan. "
            "Sleeve labels from our usual printer. Back to Sales to quote."
        )
    )


def test_the_confirmed_lead_time_bounds_the_delivery_week_sales_can_quote(
    line, production_user, sales_user
):
    request = _answer(production_user, customization(quantity=35), 3)
    before = rows()
    with pytest.raises(ValidationError) as refused:
        services.request_quote(
            actor=sales_user,
            request_id=request.pk,
            expected_version=request.version,
            unit_price="2.00",
            wanted_week=week(2),
        )
    assert refused.value.message_dict == {
        "wanted_week": [
            f"Production needs 3 weeks: the earliest delivery week is {label(3)}.",
        ]
    }
    assert rows() == before


# --- sales quotes with the margin in sight ------------------------------------------------


def test_the_quote_form_shows_cost_and_margin_of_the_suggested_price(line, sales_user):
    html = page(sales_user, to_quote(quantity=100))
    # Suggested: list price 2.00 + 0.10 extra. Cost: 1.20 + 0.10.
    assert text(html, "quote-margin") == (
        "Cost 1.30 EUR per unit (1.20 + 0.10 extra). At 2.10 EUR: margin 0.80 EUR per unit "
        "(38.1 %), 80.00 EUR in total. Floor 10 % (at least 1.45 EUR)."
    )


def test_the_margin_follows_the_price_being_typed(line, sales_user, production_user):
    request = to_quote(quantity=100)
    client = Client()
    client.force_login(sales_user)
    url = f"/requests/{request.pk}/quote-margin/"
    html = client.get(url, {"unit_price": "1.40", "quantity": "50"}).content.decode()
    assert text(html, "quote-margin") == (
        "Cost 1.30 EUR per unit (1.20 + 0.10 extra). At 1.40 EUR: margin 0.10 EUR per unit "
        "(7.1 %), 5.00 EUR in total. 1.40 EUR earns 7.1 %, below the 10 % margin floor "
        "(at least 1.45 EUR)."
    )
    html = client.get(url, {"unit_price": "1.00"}).content.decode()
    assert text(html, "quote-margin").endswith("1.00 EUR is below the cost of 1.30 EUR per unit.")
    for junk in ("", "abc", "-2", "1e400", "0"):
        response = client.get(url, {"unit_price": junk})
        assert response.status_code == 200
        assert text(response.content.decode(), "quote-margin") == (
            "Type a price to see its margin."
        )
    # Production may not quote: no margin for it.
    client.force_login(production_user)
    html = client.get(url, {"unit_price": "1.40"}).content.decode()
    assert text(html, "quote-margin") == "Type a price to see its margin."


@pytest.mark.parametrize("price", ["1.20", "1.44"])
def test_a_quote_below_the_floor_without_a_confirmation_changes_nothing(line, sales_user, price):
    request = to_quote(quantity=100)
    before = rows()
    with pytest.raises(ValidationError) as refused:
        services.request_quote(
            actor=sales_user, request_id=request.pk, expected_version=1, unit_price=price
        )
    warning = (
        "1.20 EUR is below the cost of 1.30 EUR per unit."
        if price == "1.20"
        else "1.44 EUR earns 9.7 %, below the 10 % margin floor (at least 1.45 EUR)."
    )
    assert refused.value.message_dict == {
        "confirm_below_floor": [f"{warning} Confirm to quote it anyway, and say why."],
        "floor_reason": ["Say why this price is below the floor (kept on the record)."],
    }
    assert rows() == before
    request.refresh_from_db()
    assert (request.status, request.version, request.quoted_unit_price) == ("in_review", 1, None)


def test_a_confirmed_quote_below_cost_keeps_its_reason_on_the_timeline(line, sales_user):
    request = to_quote(quantity=100)
    quoted = services.request_quote(
        actor=sales_user,
        request_id=request.pk,
        expected_version=1,
        unit_price="1.20",
        confirm_below_floor=True,
        floor_reason="  Entry price for a new distributor.  ",
    )
    assert (quoted.status, quoted.quoted_unit_price) == ("quoted", Decimal("1.20"))
    assert quoted.quote_floor_reason == "Entry price for a new distributor."
    assert ActivityEvent.objects.get(verb="transitioned").message == (
        f"Quoted 100 units at 1.20 EUR each for {label(2)}: margin -0.10 EUR per unit (-8.3 %), "
        "-10.00 EUR in total over a cost of 1.30 EUR (1.20 + 0.10 extra). Confirmed below the "
        "floor: Entry price for a new distributor."
    )


def test_a_quote_at_the_floor_needs_no_confirmation(line, sales_user):
    request = to_quote(quantity=100)
    quoted = services.request_quote(
        actor=sales_user, request_id=request.pk, expected_version=1, unit_price="1.45"
    )
    assert (quoted.status, quoted.quote_floor_reason) == ("quoted", "")


def test_the_floor_is_a_setting(line, sales_user, settings):
    settings.QUOTE_MARGIN_FLOOR_PERCENT = 40
    request = to_quote(quantity=100)
    with pytest.raises(ValidationError) as refused:
        services.request_quote(
            actor=sales_user, request_id=request.pk, expected_version=1, unit_price="2.10"
        )
    assert refused.value.message_dict["confirm_below_floor"] == [
        "2.10 EUR earns 38.1 %, below the 40 % margin floor (at least 2.17 EUR). Confirm to "
        "quote it anyway, and say why."
    ]


def test_the_browser_asks_for_the_confirmation_at_the_fields(line, sales_user):
    request = to_quote(quantity=100)
    client = Client()
    client.force_login(sales_user)
    before = rows()
    response = client.post(
        f"/requests/{request.pk}/quote/",
        {"version": 1, "unit_price": "1.40", "quantity": "100", "wanted_week": label(2)},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "1.40 EUR earns 7.1 %, below the 10 % margin floor (at least 1.45 EUR). Confirm" in html
    assert "Say why this price is below the floor (kept on the record)." in html
    # The margin under the form is of the price typed, not of the suggestion.
    assert text(html, "quote-margin").startswith(
        "Cost 1.30 EUR per unit (1.20 + 0.10 extra). At 1.40 EUR:"
    )
    assert rows() == before
    response = client.post(
        f"/requests/{request.pk}/quote/",
        {
            "version": 1,
            "unit_price": "1.40",
            "quantity": "100",
            "wanted_week": label(2),
            "confirm_below_floor": "on",
            "floor_reason": "Matches the competitor's offer.",
        },
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert (request.status, request.quote_floor_reason) == (
        "quoted",
        "Matches the competitor's offer.",
    )


def test_the_api_refuses_below_the_floor_at_the_field_and_takes_the_confirmation(line, sales_user):
    request = to_quote(quantity=100)
    url = f"/api/v1/customer-requests/{request.pk}/quote/"
    before = rows()
    response = api(sales_user).post(url, {"version": 1, "unit_price": "1.00"}, format="json")
    assert response.status_code == 400
    assert response.json() == invalid(
        {
            "confirm_below_floor": [
                "1.00 EUR is below the cost of 1.30 EUR per unit. Confirm to quote it anyway, "
                "and say why."
            ],
            "floor_reason": ["Say why this price is below the floor (kept on the record)."],
        }
    )
    assert rows() == before
    response = api(sales_user).post(
        url,
        {
            "version": 1,
            "unit_price": "1.00",
            "confirm_below_floor": True,
            "floor_reason": "Sample run for a tender.",
        },
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["quoted_unit_price"], body["quote_floor_reason"]) == (
        "quoted",
        "1.00",
        "Sample run for a tender.",
    )


def test_this_week_is_the_lead_time_origin():
    # Guards the fixture's arithmetic above: week(0) is this week.
    assert week(0) == current_week()
