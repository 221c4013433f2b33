"""The customer request workflow: every transition allowed and refused, per role."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from coordination import roles
from coordination.errors import StaleEditError
from coordination.models import ActivityEvent, CustomerRequest
from coordination.selectors import customer_requests as selectors
from coordination.services import customer_requests as services
from coordination.services.locking import UNCHECKED
from coordination.weeks import add_weeks, current_week
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def product():
    return ProductFactory(sku="TEA-LEM-05", unit_price=Decimal("1.60"))


def log(actor, item, **overrides):
    data = {
        "customer_name": "Greenway Grocers",
        "channel": "phone",
        "kind": "customization",
        "summary": "Private label for a festival",
        "product": item,
        "quantity": 5000,
        "wanted_week": add_weeks(current_week(), 8),
    }
    data.update(overrides)
    return services.request_log(actor=actor, **data)


def events_of(request):
    return list(
        ActivityEvent.objects.filter(object_id=request.pk)
        .order_by("id")
        .values_list("verb", "data__action")
    )


def test_log_routes_by_kind_and_derives_the_due_date(sales_user, product):
    request = log(sales_user, product, priority="high")
    # Routed when logged: the status says so.
    assert request.status == "triaged"
    assert request.department == "production"
    assert request.due_date == timezone.localdate() + dt.timedelta(days=3)
    assert request.version == 1
    assert events_of(request) == [("created", None)]
    quality = log(sales_user, product, kind="quality_issue", quantity=None, wanted_week=None)
    assert quality.department == "quality"
    assert quality.due_date == timezone.localdate() + dt.timedelta(days=7)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"quantity": -5}, "quantity", "The quantity must be at least 1 unit."),
        ({"quantity": 0}, "quantity", "The quantity must be at least 1 unit."),
        ({"wanted_week": add_weeks(current_week(), -1)}, "wanted_week", "is in the past"),
        ({"product": None}, "product", "Say which product the customer wants customized."),
        ({"customer_name": "  "}, "customer_name", "This field cannot be blank."),
        ({"channel": "pigeon"}, "channel", "is not a valid choice"),
    ],
)
def test_log_refuses_bad_input_and_saves_nothing(sales_user, product, overrides, field, message):
    with pytest.raises(ValidationError) as info:
        log(sales_user, product, **overrides)
    assert field in info.value.message_dict
    assert message in " ".join(info.value.message_dict[field])
    assert CustomerRequest.objects.count() == 0
    assert ActivityEvent.objects.count() == 0


def test_log_refuses_customizing_a_discontinued_product(sales_user):
    product = ProductFactory(lifecycle="discontinued")
    with pytest.raises(ValidationError, match="discontinued"):
        log(sales_user, product)
    assert CustomerRequest.objects.count() == 0


def test_production_may_not_log_requests(production_user, product):
    with pytest.raises(PermissionDenied):
        log(production_user, product)
    assert CustomerRequest.objects.count() == 0


def test_full_customization_path_becomes_firm_demand(sales_user, production_user, product):
    request = log(sales_user, product)
    # Routed to Production when logged: Production starts the review, no re-routing.
    assert (request.status, request.department, request.version) == ("triaged", "production", 1)
    assert [a.name for a in services.allowed_actions(production_user, request)] == [
        "route",
        "start_review",
        "answer_feasibility",
    ]
    request = services.request_start_review(
        actor=production_user, request_id=request.pk, expected_version=1
    )
    assert (request.status, request.assignee) == ("in_review", production_user)
    request = services.request_answer_feasibility(
        actor=production_user,
        request_id=request.pk,
        expected_version=2,
        feasible=True,
        note="Sleeve on the canning line.",
        extra_unit_cost="0.12",
        lead_time_weeks=3,
    )
    assert request.feasible is True
    assert request.extra_unit_cost == Decimal("0.12")
    assert request.feasibility_lead_time_weeks == 3
    assert (request.status, request.department, request.assignee) == (
        "in_review",
        "sales",
        sales_user,
    )
    request = services.request_quote(
        actor=sales_user, request_id=request.pk, expected_version=3, unit_price="1.85"
    )
    assert (request.status, request.quoted_unit_price) == ("quoted", Decimal("1.85"))
    request = services.request_accept(actor=sales_user, request_id=request.pk, expected_version=4)
    assert request.status == "accepted"
    assert request.version == 5
    assert selectors.firm_orders() == [
        {
            "product_id": product.pk,
            "week": add_weeks(current_week(), 8),
            "units": 5000,
            "request_id": request.pk,
        }
    ]
    assert [verb for verb, _ in events_of(request)] == [
        "created",
        "transitioned",
        "updated",  # the feasibility answer keeps the request in review
        "transitioned",
        "transitioned",
    ]
    assert [action for _, action in events_of(request)][1:] == [
        "start_review",
        "answer_feasibility",
        "quote",
        "accept",
    ]


def _in_review(sales_user, production_user, product):
    request = log(sales_user, product)
    services.request_route(
        actor=sales_user, request_id=request.pk, expected_version=UNCHECKED, department="production"
    )
    return services.request_start_review(
        actor=production_user, request_id=request.pk, expected_version=UNCHECKED
    )


@pytest.mark.parametrize("role", [roles.MARKETING, roles.SALES, roles.QUALITY])
def test_only_production_answers_feasibility(make_user, sales_user, production_user, product, role):
    request = _in_review(sales_user, production_user, product)
    with pytest.raises(PermissionDenied, match="Your role may not"):
        services.request_answer_feasibility(
            actor=make_user(role),
            request_id=request.pk,
            expected_version=request.version,
            feasible=True,
            note="x",
            extra_unit_cost=0,
            lead_time_weeks=1,
        )
    request.refresh_from_db()
    assert (request.feasible, request.version) == (None, 3)


def test_feasible_answer_needs_cost_and_lead_time(sales_user, production_user, product):
    request = _in_review(sales_user, production_user, product)
    with pytest.raises(ValidationError) as info:
        services.request_answer_feasibility(
            actor=production_user,
            request_id=request.pk,
            expected_version=request.version,
            feasible=True,
            note="",
        )
    assert info.value.message_dict == {
        "note": ["Explain the answer: how it would be made, or why it cannot."],
        "extra_unit_cost": ["Give the extra cost per unit (0 if none)."],
        "lead_time_weeks": ["Give the weeks production needs before delivery."],
    }
    request.refresh_from_db()
    assert request.feasible is None


def test_quote_needs_a_feasible_answer(sales_user, production_user, product):
    request = _in_review(sales_user, production_user, product)
    with pytest.raises(ValidationError, match="only after production has found"):
        services.request_quote(
            actor=sales_user, request_id=request.pk, expected_version=UNCHECKED, unit_price="2.00"
        )
    services.request_answer_feasibility(
        actor=production_user,
        request_id=request.pk,
        expected_version=UNCHECKED,
        feasible=False,
        note="Cannot print that sleeve.",
    )
    with pytest.raises(ValidationError, match="only after production has found"):
        services.request_quote(
            actor=sales_user, request_id=request.pk, expected_version=UNCHECKED, unit_price="2.00"
        )
    declined = services.request_decline(
        actor=sales_user,
        request_id=request.pk,
        expected_version=UNCHECKED,
        note="Told the customer.",
    )
    assert (declined.status, declined.quoted_unit_price) == ("declined", None)


def test_quote_respects_production_lead_time(sales_user, production_user, product):
    request = _in_review(sales_user, production_user, product)
    services.request_answer_feasibility(
        actor=production_user,
        request_id=request.pk,
        expected_version=UNCHECKED,
        feasible=True,
        note="OK",
        extra_unit_cost="0",
        lead_time_weeks=10,
    )
    with pytest.raises(ValidationError) as info:
        services.request_quote(
            actor=sales_user, request_id=request.pk, expected_version=UNCHECKED, unit_price="2.00"
        )
    earliest = add_weeks(current_week(), 10).isocalendar()
    assert info.value.message_dict["wanted_week"] == [
        f"Production needs 10 weeks: the earliest delivery week is "
        f"{earliest[0]}-W{earliest[1]:02d}."
    ]
    request.refresh_from_db()
    assert (request.status, request.quoted_unit_price) == ("in_review", None)


@pytest.mark.parametrize("price", ["0", "-1", "abc"])
def test_quote_refuses_a_price_that_is_not_positive(sales_user, production_user, product, price):
    request = _in_review(sales_user, production_user, product)
    services.request_answer_feasibility(
        actor=production_user,
        request_id=request.pk,
        expected_version=UNCHECKED,
        feasible=True,
        note="OK",
        extra_unit_cost="0",
        lead_time_weeks=1,
    )
    with pytest.raises(ValidationError) as info:
        services.request_quote(
            actor=sales_user, request_id=request.pk, expected_version=UNCHECKED, unit_price=price
        )
    assert list(info.value.message_dict) == ["unit_price"]


def test_accept_is_refused_before_a_quote(sales_user, product):
    request = log(sales_user, product)
    with pytest.raises(ValidationError, match="not possible while the request is triaged"):
        services.request_accept(actor=sales_user, request_id=request.pk, expected_version=1)
    request.refresh_from_db()
    assert (request.status, request.version) == ("triaged", 1)


def test_resolve_applies_to_everything_but_customizations(sales_user, marketing_user, product):
    need = log(sales_user, product, kind="need", quantity=None, wanted_week=None)
    custom = log(sales_user, product)
    with pytest.raises(ValidationError, match="does not apply to a customization"):
        services.request_resolve(
            actor=sales_user, request_id=custom.pk, expected_version=UNCHECKED, resolution="done"
        )
    with pytest.raises(ValidationError) as info:
        services.request_resolve(
            actor=marketing_user, request_id=need.pk, expected_version=UNCHECKED, resolution=" "
        )
    assert info.value.message_dict == {"resolution": ["Say how the request was resolved."]}
    resolved = services.request_resolve(
        actor=marketing_user,
        request_id=need.pk,
        expected_version=UNCHECKED,
        resolution="Added to range review.",
    )
    assert (resolved.status, resolved.resolution) == ("resolved", "Added to range review.")


def test_start_review_only_by_the_routed_department(
    sales_user, quality_user, production_user, product
):
    request = log(sales_user, product, kind="quality_issue", quantity=None, wanted_week=None)
    services.request_route(
        actor=sales_user, request_id=request.pk, expected_version=UNCHECKED, department="quality"
    )
    with pytest.raises(PermissionDenied):
        services.request_start_review(
            actor=production_user, request_id=request.pk, expected_version=UNCHECKED
        )
    started = services.request_start_review(
        actor=quality_user, request_id=request.pk, expected_version=UNCHECKED
    )
    assert (started.status, started.assignee) == ("in_review", quality_user)


def test_route_checks_the_assignee_works_in_the_department(
    sales_user, production_user, marketing_user, product
):
    request = log(sales_user, product)
    with pytest.raises(ValidationError) as info:
        services.request_route(
            actor=sales_user,
            request_id=request.pk,
            expected_version=1,
            department="production",
            assignee_id=marketing_user.pk,
        )
    assert info.value.message_dict == {
        "assignee": [f"{marketing_user} does not work in Production."]
    }
    routed = services.request_route(
        actor=sales_user,
        request_id=request.pk,
        expected_version=1,
        department="production",
        assignee_id=production_user.pk,
        priority="urgent",
    )
    assert routed.assignee == production_user
    assert routed.due_date == routed.created_at.date() + dt.timedelta(days=1)


def test_a_stale_edit_is_refused_and_changes_nothing(sales_user, product):
    request = log(sales_user, product)
    services.request_route(
        actor=sales_user, request_id=request.pk, expected_version=1, department="production"
    )
    with pytest.raises(StaleEditError, match="changed by someone else"):
        services.request_route(
            actor=sales_user, request_id=request.pk, expected_version=1, department="marketing"
        )
    request.refresh_from_db()
    assert (request.department, request.version) == ("production", 2)
    assert ActivityEvent.objects.filter(object_id=request.pk).count() == 2


def test_allowed_actions_follow_role_and_state(
    sales_user, production_user, marketing_user, product
):
    request = log(sales_user, product)
    assert [a.name for a in services.allowed_actions(sales_user, request)] == ["route", "decline"]
    assert [a.name for a in services.allowed_actions(production_user, request)] == [
        "route",
        "start_review",
        "answer_feasibility",
    ]
    assert services.allowed_actions(marketing_user, request) == []
    request = services.request_route(
        actor=sales_user, request_id=request.pk, expected_version=UNCHECKED, department="production"
    )
    assert [a.name for a in services.allowed_actions(production_user, request)] == [
        "route",
        "start_review",
        "answer_feasibility",
    ]
    assert [a.name for a in services.allowed_actions(sales_user, request)] == ["route", "decline"]


def test_overdue_flag(sales_user, product):
    request = log(sales_user, product, kind="need", quantity=None, wanted_week=None)
    CustomerRequest.objects.filter(pk=request.pk).update(
        due_date=timezone.localdate() - dt.timedelta(days=1)
    )
    request.refresh_from_db()
    assert request.is_overdue is True
    assert list(selectors.filter_requests(CustomerRequest.objects.all(), overdue=True)) == [request]
    services.request_resolve(
        actor=sales_user, request_id=request.pk, expected_version=UNCHECKED, resolution="Done"
    )
    request.refresh_from_db()
    assert request.is_overdue is False
    assert list(selectors.filter_requests(CustomerRequest.objects.all(), overdue=True)) == []


def test_visibility_per_role(sales_user, marketing_user, production_user, quality_user, product):
    custom = log(sales_user, product)  # routed to production
    issue = log(sales_user, product, kind="quality_issue", quantity=None, wanted_week=None)
    need = log(sales_user, product, kind="need", quantity=None, wanted_week=None)
    assert set(selectors.visible_requests(sales_user)) == {custom, issue, need}
    assert set(selectors.visible_requests(marketing_user)) == {custom, issue, need}
    assert set(selectors.visible_requests(production_user)) == {custom}
    assert set(selectors.visible_requests(quality_user)) == {issue}


def test_firm_orders_filter_by_product_and_week(sales_user, production_user, product):
    other = ProductFactory(sku="TEA-PEA-05")
    accepted = []
    for item, weeks_ahead in ((product, 8), (other, 12)):
        request = _in_review(sales_user, production_user, item)
        services.request_answer_feasibility(
            actor=production_user,
            request_id=request.pk,
            expected_version=UNCHECKED,
            feasible=True,
            note="OK",
            extra_unit_cost="0",
            lead_time_weeks=1,
        )
        services.request_quote(
            actor=sales_user,
            request_id=request.pk,
            expected_version=UNCHECKED,
            unit_price="2",
            wanted_week=add_weeks(current_week(), weeks_ahead),
        )
        accepted.append(
            services.request_accept(
                actor=sales_user, request_id=request.pk, expected_version=UNCHECKED
            )
        )
    assert [row["request_id"] for row in selectors.firm_orders(product_ids=[other.pk])] == [
        accepted[1].pk
    ]
    assert [
        row["request_id"] for row in selectors.firm_orders(end=add_weeks(current_week(), 10))
    ] == [accepted[0].pk]
