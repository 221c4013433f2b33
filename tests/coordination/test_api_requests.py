"""REST API: customer requests (/api/v1/customer-requests/...)."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from coordination.models import ActivityEvent, CustomerRequest
from coordination.services import customer_requests as services
from coordination.weeks import add_weeks, current_week, iso_label
from tests.api_errors import NOT_ALLOWED, NOT_SIGNED_IN, invalid, refused
from tests.factories import CustomerRequestFactory, ProductFactory, QuotedOrderFactory

pytestmark = pytest.mark.django_db

REQUESTS = "/api/v1/customer-requests/"


def iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def url(pk: int, action: str | None = None) -> str:
    return f"{REQUESTS}{pk}/" + (f"{action}/" if action else "")


def ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


def events(obj: CustomerRequest) -> list[tuple]:
    return list(
        ActivityEvent.objects.filter(object_id=obj.pk, content_type__model="customerrequest")
        .order_by("id")
        .values_list("actor__username", "verb", "data__action")
    )


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def as_user(api):
    def sign_in(user):
        api.force_login(user)
        return api

    return sign_in


@pytest.fixture
def lemon():
    return ProductFactory(sku="TEA-LEM-05", unit_price=Decimal("1.60"))


def body_of(obj: CustomerRequest, allowed: list[str]) -> dict:
    obj.refresh_from_db()
    return {
        "id": obj.pk,
        "customer_name": obj.customer_name,
        "customer_account": obj.customer_account,
        "channel": obj.channel,
        "kind": obj.kind,
        "product": obj.product.sku if obj.product else None,
        "summary": obj.summary,
        "details": obj.details,
        "quantity": obj.quantity,
        "wanted_week": obj.wanted_week.isoformat() if obj.wanted_week else None,
        "preference": obj.preference,
        "priority": obj.priority,
        "status": obj.status,
        "department": obj.department,
        "assignee": obj.assignee.username if obj.assignee else None,
        "due_date": obj.due_date.isoformat(),
        "is_overdue": obj.is_overdue,
        "created_by": obj.created_by.username,
        "feasibility": None
        if obj.feasible is None
        else {
            "feasible": obj.feasible,
            "extra_unit_cost": None
            if obj.extra_unit_cost is None
            else f"{obj.extra_unit_cost:.2f}",
            "lead_time_weeks": obj.feasibility_lead_time_weeks,
            "note": obj.feasibility_note,
        },
        "quoted_unit_price": None
        if obj.quoted_unit_price is None
        else f"{obj.quoted_unit_price:.2f}",
        "quote_floor_reason": obj.quote_floor_reason,
        "resolution": obj.resolution,
        "allowed_actions": allowed,
        "version": obj.version,
        "created_at": iso(obj.created_at),
        "updated_at": iso(obj.updated_at),
    }


# ------------------------------------------------------------------------ create

CUSTOMIZATION = {
    "customer_name": "Greenway Grocers",
    "customer_account": "GG-1",
    "channel": "phone",
    "kind": "customization",
    "product": "tea-lem-05",
    "summary": "Private label for a festival",
    "details": "Their logo on the label.",
    "quantity": 5000,
    "wanted_week": iso_label(add_weeks(current_week(), 8)),
    "preference": "quality_first",
    "priority": "high",
}


def test_sales_logs_a_customization_routed_to_production(as_user, sales_user, lemon):
    response = as_user(sales_user).post(REQUESTS, CUSTOMIZATION, format="json")
    assert response.status_code == 201
    logged = CustomerRequest.objects.get()
    assert response.json() == {
        "id": logged.pk,
        "customer_name": "Greenway Grocers",
        "customer_account": "GG-1",
        "channel": "phone",
        "kind": "customization",
        "product": "TEA-LEM-05",
        "summary": "Private label for a festival",
        "details": "Their logo on the label.",
        "quantity": 5000,
        "wanted_week": add_weeks(current_week(), 8).isoformat(),
        "preference": "quality_first",
        "priority": "high",
        "status": "triaged",
        "department": "production",
        "assignee": None,
        "due_date": (timezone.localdate() + dt.timedelta(days=3)).isoformat(),
        "is_overdue": False,
        "created_by": "sam",
        "feasibility": None,
        "quoted_unit_price": None,
        "quote_floor_reason": "",
        "resolution": "",
        "allowed_actions": ["route", "decline"],
        "version": 1,
        "created_at": iso(logged.created_at),
        "updated_at": iso(logged.updated_at),
    }
    assert (logged.product, logged.created_by, logged.version) == (lemon, sales_user, 1)
    assert events(logged) == [("sam", "created", None)]


def test_quality_logs_a_minimal_request_with_defaults_and_an_explicit_department(
    as_user, quality_user
):
    response = as_user(quality_user).post(
        REQUESTS,
        {
            "customer_name": "Kiosk 7",
            "channel": "visit",
            "kind": "concern",
            "summary": "Caps hard to open",
            "department": "quality",
            "wanted_week": None,
            "quantity": None,
        },
        format="json",
    )
    assert response.status_code == 201
    logged = CustomerRequest.objects.get()
    assert (
        logged.department,
        logged.priority,
        logged.preference,
        logged.product,
        logged.quantity,
        logged.wanted_week,
    ) == ("quality", "normal", "balanced", None, None, None)
    # Routed when logged; Quality works in that department, so it may route, start the
    # review and resolve.
    assert response.json() == body_of(logged, ["route", "start_review", "resolve"])


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"quantity": -5}, {"quantity": ["The quantity must be at least 1 unit."]}),
        ({"quantity": 0}, {"quantity": ["The quantity must be at least 1 unit."]}),
        (
            {"wanted_week": iso_label(add_weeks(current_week(), -1))},
            {
                "wanted_week": [
                    f"{iso_label(add_weeks(current_week(), -1))} is in the past: "
                    "choose a future week."
                ]
            },
        ),
        ({"product": "NOPE-0001"}, {"product": ["No product with SKU NOPE-0001."]}),
        ({"product": None}, {"product": ["Say which product the customer wants customized."]}),
        ({"channel": "pigeon"}, {"channel": ['"pigeon" is not a valid choice.']}),
        ({"department": "legal"}, {"department": ['"legal" is not a valid choice.']}),
        ({"customer_name": "  "}, {"customer_name": ["This field may not be blank."]}),
        (
            {"wanted_week": "2026-W54"},
            {"wanted_week": ["2026-W54 is not a week of 2026."]},
        ),
        # Wrong types: strings for numbers, lists for strings, numbers for weeks.
        ({"quantity": "lots"}, {"quantity": ["A valid integer is required."]}),
        ({"quantity": 12.5}, {"quantity": ["A valid integer is required."]}),
        (
            {"quantity": 10**30},
            {"quantity": ["Ensure this value is less than or equal to 2147483647."]},
        ),
        ({"summary": ["one", "two"]}, {"summary": ["Not a valid string."]}),
        ({"product": 42}, {"product": ["Give the product's SKU as text, e.g. BEV-1001."]}),
        (
            {"wanted_week": 202650},
            {"wanted_week": ["Enter a week as 2026-W48 or a date as 2026-11-23."]},
        ),
        (
            {"kind": None, "channel": None},
            {"kind": ["This field may not be null."], "channel": ["This field may not be null."]},
        ),
    ],
)
def test_log_answers_400_at_the_field_and_saves_nothing(
    as_user, sales_user, lemon, changes, fields
):
    response = as_user(sales_user).post(REQUESTS, {**CUSTOMIZATION, **changes}, format="json")
    assert response.status_code == 400
    assert response.json() == invalid(fields)
    assert CustomerRequest.objects.count() == 0
    assert ActivityEvent.objects.count() == 0


def test_customizing_a_discontinued_product_is_refused(as_user, sales_user, lemon):
    lemon.lifecycle = "discontinued"
    lemon.save()
    response = as_user(sales_user).post(REQUESTS, CUSTOMIZATION, format="json")
    assert response.status_code == 400
    assert response.json() == invalid(
        {"product": ["TEA-LEM-05 is discontinued: it cannot be customized."]}
    )
    assert CustomerRequest.objects.count() == 0


def test_production_may_not_log_requests(as_user, production_user, lemon):
    response = as_user(production_user).post(REQUESTS, CUSTOMIZATION, format="json")
    assert response.status_code == 403
    assert response.json() == NOT_ALLOWED
    assert CustomerRequest.objects.count() == 0


# ---------------------------------------------------------------- reads per role


@pytest.fixture
def inbox(sales_user, production_user, quality_user, marketing_user, lemon):
    """One request per department, plus one assigned to Production's user in another
    department, and one Quality's user logged for Sales."""
    make = CustomerRequestFactory
    return {
        "marketing": make(kind="need", department="marketing", created_by=sales_user),
        "production": make(kind="customization", department="production", created_by=sales_user),
        "quality": make(kind="quality_issue", department="quality", created_by=sales_user),
        "sales": make(kind="complaint", department="sales", created_by=marketing_user),
        "assigned": make(
            kind="concern", department="sales", assignee=production_user, created_by=sales_user
        ),
        "logged_by_quality": make(kind="concern", department="sales", created_by=quality_user),
    }


@pytest.mark.parametrize(
    ("role_user", "visible"),
    [
        (
            "sales_user",
            ["marketing", "production", "quality", "sales", "assigned", "logged_by_quality"],
        ),
        (
            "marketing_user",
            ["marketing", "production", "quality", "sales", "assigned", "logged_by_quality"],
        ),
        (
            "admin_user",
            ["marketing", "production", "quality", "sales", "assigned", "logged_by_quality"],
        ),
        ("production_user", ["production", "assigned"]),
        ("quality_user", ["quality", "logged_by_quality"]),
    ],
)
def test_each_role_lists_exactly_what_it_may_see(request, as_user, inbox, role_user, visible):
    client = as_user(request.getfixturevalue(role_user))
    response = client.get(REQUESTS, {"ordering": "created_at"})
    assert response.status_code == 200
    assert response.json()["count"] == len(visible)
    assert ids(response) == [inbox[name].pk for name in visible]
    hidden = [obj for name, obj in inbox.items() if name not in visible]
    for obj in hidden:
        missing = client.get(url(obj.pk))
        assert missing.status_code == 404
        assert missing.json() == refused("No CustomerRequest matches the given query.", "not_found")
        acted = client.post(
            url(obj.pk, "resolve"), {"version": 1, "resolution": "x"}, format="json"
        )
        assert acted.status_code == 404
    for name in visible:
        assert client.get(url(inbox[name].pk)).status_code == 200
    assert ActivityEvent.objects.count() == 0


def test_a_user_without_a_role_sees_nothing(as_user, make_user, inbox):
    client = as_user(make_user(username="nobody"))
    assert client.get(REQUESTS).json() == NOT_ALLOWED
    assert client.get(url(inbox["sales"].pk)).status_code == 403


def test_anonymous_clients_are_refused_and_tokens_work(api, sales_user, inbox):
    for response in (
        api.get(REQUESTS),
        api.get(url(inbox["sales"].pk)),
        api.post(REQUESTS, CUSTOMIZATION, format="json"),
        api.post(
            url(inbox["sales"].pk, "resolve"), {"version": 1, "resolution": "x"}, format="json"
        ),
    ):
        assert response.status_code == 401  # Bearer (API-client keys) first: its challenge
        assert response["WWW-Authenticate"] == 'Bearer realm="api"'
        assert response.json() == NOT_SIGNED_IN
    assert CustomerRequest.objects.filter(status="resolved").count() == 0
    token = Token.objects.create(user=sales_user)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = api.get(REQUESTS)
    assert response.status_code == 200
    assert response.json()["count"] == 6
    logged = api.post(REQUESTS, CUSTOMIZATION, format="json")
    assert logged.status_code == 201
    assert logged.json()["created_by"] == "sam"


def test_detail_has_the_same_body_as_the_list(as_user, production_user, inbox):
    client = as_user(production_user)
    obj = inbox["production"]
    detail = client.get(url(obj.pk))
    assert detail.status_code == 200
    # Production works in the department it is routed to: it may route it on.
    assert detail.json() == body_of(obj, ["route"])
    listed = [row for row in client.get(REQUESTS).json()["results"] if row["id"] == obj.pk]
    assert listed == [detail.json()]
    assert client.get(url(999999)).status_code == 404
    assert client.get(f"{REQUESTS}abc/").json() == refused("Not found.", "not_found")


# -------------------------------------------------------- filters, order, pages


@pytest.fixture
def mixed(sales_user, lemon):
    peach = ProductFactory(sku="TEA-PEA-05")
    make = CustomerRequestFactory
    return {
        "a": make(kind="need", department="marketing", product=lemon, priority="low"),
        "b": make(kind="complaint", department="sales", product=peach, priority="urgent"),
        "c": make(
            kind="customization",
            department="production",
            product=lemon,
            status="triaged",
            priority="normal",
        ),
        "d": make(kind="need", department="marketing", product=None, priority="high"),
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "triaged", "ordering": "created_at"}, ["c"]),
        ({"status": "new", "ordering": "created_at"}, ["a", "b", "d"]),
        ({"kind": "need", "ordering": "created_at"}, ["a", "d"]),
        ({"product": "TEA-LEM-05", "ordering": "created_at"}, ["a", "c"]),
        ({"department": "marketing", "kind": "need", "ordering": "created_at"}, ["a", "d"]),
        ({"department": "quality"}, []),
        ({"ordering": "priority"}, ["a", "c", "d", "b"]),
        ({"ordering": "-priority"}, ["b", "d", "c", "a"]),
        ({"ordering": "-created_at"}, ["d", "c", "b", "a"]),
        ({}, ["d", "c", "b", "a"]),
    ],
)
def test_request_list_filters_and_orders(as_user, sales_user, mixed, params, expected):
    response = as_user(sales_user).get(REQUESTS, params)
    assert response.status_code == 200
    assert ids(response) == [mixed[name].pk for name in expected]


def test_request_list_orders_by_due_date_then_id(as_user, sales_user, mixed):
    today = timezone.localdate()
    CustomerRequest.objects.filter(pk=mixed["b"].pk).update(due_date=today)
    CustomerRequest.objects.filter(pk=mixed["d"].pk).update(due_date=today + dt.timedelta(days=1))
    response = as_user(sales_user).get(REQUESTS, {"ordering": "due_date"})
    assert ids(response) == [mixed[name].pk for name in ("b", "d", "a", "c")]


def test_updated_since_returns_what_changed_since(as_user, sales_user, mixed):
    moment = timezone.now()
    CustomerRequest.objects.filter(pk=mixed["a"].pk).update(
        updated_at=moment + dt.timedelta(minutes=5)
    )
    CustomerRequest.objects.exclude(pk=mixed["a"].pk).update(
        updated_at=moment - dt.timedelta(minutes=5)
    )
    client = as_user(sales_user)
    response = client.get(REQUESTS, {"updated_since": moment.isoformat()})
    assert response.status_code == 200
    assert ids(response) == [mixed["a"].pk]
    utc = client.get(REQUESTS, {"updated_since": moment.strftime("%Y-%m-%dT%H:%M:%SZ")})
    assert ids(utc) == [mixed["a"].pk]
    everything = client.get(
        REQUESTS, {"updated_since": (moment - dt.timedelta(hours=1)).isoformat()}
    )
    assert everything.json()["count"] == 4


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({"updated_since": "yesterday"}, {"updated_since": ["Enter a valid date/time."]}),
        ({"updated_since": "2026-13-45T99:00"}, {"updated_since": ["Enter a valid date/time."]}),
        (
            {"status": "lost"},
            {"status": ["Select a valid choice. lost is not one of the available choices."]},
        ),
        (
            {"kind": "praise"},
            {"kind": ["Select a valid choice. praise is not one of the available choices."]},
        ),
        (
            {"product": "NOPE-0001"},
            {
                "product": [
                    "Select a valid choice. That choice is not one of the available choices."
                ]
            },
        ),
        (
            {"department": "legal"},
            {"department": ["Select a valid choice. legal is not one of the available choices."]},
        ),
        (
            {"ordering": "customer_name"},
            {
                "ordering": [
                    "Select a valid choice. customer_name is not one of the available choices."
                ]
            },
        ),
    ],
)
def test_bad_filter_values_are_400_not_500(as_user, sales_user, mixed, params, fields):
    response = as_user(sales_user).get(REQUESTS, params)
    assert response.status_code == 400
    assert response.json() == invalid(fields)


def test_request_list_paginates(as_user, sales_user, mixed):
    client = as_user(sales_user)
    first = client.get(REQUESTS, {"ordering": "created_at", "page_size": 3})
    assert first.json()["count"] == 4
    assert first.json()["next"] == (
        "http://testserver/api/v1/customer-requests/?ordering=created_at&page=2&page_size=3"
    )
    assert first.json()["previous"] is None
    assert ids(first) == [mixed[name].pk for name in ("a", "b", "c")]
    second = client.get(REQUESTS, {"ordering": "created_at", "page_size": 3, "page": 2})
    assert second.json()["next"] is None
    assert ids(second) == [mixed["d"].pk]
    assert client.get(REQUESTS, {"page": 0}).json() == refused("Invalid page.", "not_found")


def test_request_list_queries_do_not_grow_with_rows(
    as_user, production_user, lemon, django_assert_max_num_queries
):
    client = as_user(production_user)
    CustomerRequestFactory(department="production", kind="customization", assignee=production_user)
    client.get(REQUESTS)
    with CaptureQueriesContext(connection) as one_row:
        assert client.get(REQUESTS).json()["count"] == 1
    for n in range(19):
        CustomerRequestFactory(
            department="production",
            kind="customization",
            product=ProductFactory(sku=f"TEA-X{n:02d}-05"),
            assignee=production_user,
        )
    with django_assert_max_num_queries(len(one_row.captured_queries)):
        body = client.get(REQUESTS).json()
    assert body["count"] == 20
    assert all(row["allowed_actions"] == ["route"] for row in body["results"])
    assert len({row["created_by"] for row in body["results"]}) == 20


# --------------------------------------------------------------------- workflow


@pytest.fixture
def customization(sales_user, lemon):
    return services.request_log(
        actor=sales_user,
        customer_name="Greenway Grocers",
        channel="phone",
        kind="customization",
        summary="Private label for a festival",
        product=lemon,
        quantity=5000,
        wanted_week=add_weeks(current_week(), 8),
    )


def test_a_customization_goes_from_log_to_firm_demand(
    as_user, api, sales_user, production_user, customization
):
    pk = customization.pk
    sales = as_user(sales_user)
    routed = sales.post(
        url(pk, "route"),
        {"version": 1, "department": "production", "assignee": "petra", "priority": "urgent"},
        format="json",
    )
    assert routed.status_code == 200
    assert (
        routed.json()["status"],
        routed.json()["assignee"],
        routed.json()["priority"],
        routed.json()["version"],
    ) == ("triaged", "petra", "urgent", 2)
    assert routed.json()["allowed_actions"] == ["route", "decline"]

    production = as_user(production_user)
    started = production.post(url(pk, "start-review"), {"version": 2}, format="json")
    assert started.status_code == 200
    assert started.json()["allowed_actions"] == ["route", "answer_feasibility"]
    answered = production.post(
        url(pk, "answer-feasibility"),
        {
            "version": 3,
            "feasible": True,
            "extra_unit_cost": "0.25",
            "lead_time_weeks": 3,
            "note": "Labels printed in-house.",
        },
        format="json",
    )
    assert answered.status_code == 200
    customization.refresh_from_db()
    # Back to Sales: Production no longer works on it, and may take no further action.
    assert answered.json() == body_of(customization, [])
    assert answered.json()["feasibility"] == {
        "feasible": True,
        "extra_unit_cost": "0.25",
        "lead_time_weeks": 3,
        "note": "Labels printed in-house.",
    }
    assert (answered.json()["department"], answered.json()["assignee"]) == ("sales", "sam")

    sales = as_user(sales_user)
    quoted = sales.post(
        url(pk, "quote"),
        {"version": 4, "unit_price": "1.95", "quantity": 6000},
        format="json",
    )
    assert quoted.status_code == 200
    assert (
        quoted.json()["status"],
        quoted.json()["quoted_unit_price"],
        quoted.json()["quantity"],
    ) == (
        "quoted",
        "1.95",
        6000,
    )
    assert quoted.json()["allowed_actions"] == ["accept", "decline"]
    accepted = sales.post(url(pk, "accept"), {"version": 5}, format="json")
    assert accepted.status_code == 200
    customization.refresh_from_db()
    # An accepted order can still be cancelled by the customer.
    assert accepted.json() == body_of(customization, ["change_order", "cancel_order"])
    assert (customization.status, customization.version) == ("accepted", 6)
    assert events(customization) == [
        ("sam", "created", None),
        ("sam", "updated", "route"),  # routed to production when logged
        ("petra", "transitioned", "start_review"),
        ("petra", "updated", "answer_feasibility"),
        ("sam", "transitioned", "quote"),
        ("sam", "transitioned", "accept"),
    ]


def test_an_accepted_order_is_changed_then_cancelled_over_the_api(as_user, sales_user, lemon):
    customization = QuotedOrderFactory(product=lemon, created_by=sales_user)
    sales = as_user(sales_user)
    pk = customization.pk
    assert sales.post(url(pk, "accept"), {"version": 1}, format="json").status_code == 200
    refused_change = sales.post(
        url(pk, "change-order"), {"version": 2, "quantity": 0, "note": ""}, format="json"
    )
    assert refused_change.status_code == 400
    assert refused_change.json()["error"]["fields"] == {
        "quantity": ["The quantity must be at least 1 unit."],
        "note": ["Say what the customer changed."],
    }
    changed = sales.post(
        url(pk, "change-order"),
        {"version": 2, "quantity": 4000, "wanted_week": iso_label(add_weeks(current_week(), 9))},
        format="json",
    )
    assert changed.status_code == 400
    assert changed.json()["error"]["fields"] == {"note": ["Say what the customer changed."]}
    changed = sales.post(
        url(pk, "change-order"),
        {"version": 2, "quantity": 4000, "note": "Smaller festival"},
        format="json",
    )
    assert changed.status_code == 200
    assert (changed.json()["status"], changed.json()["quantity"], changed.json()["version"]) == (
        "accepted",
        4000,
        3,
    )
    cancelled = sales.post(
        url(pk, "cancel-order"), {"version": 3, "note": "Festival called off"}, format="json"
    )
    assert cancelled.status_code == 200
    customization.refresh_from_db()
    assert cancelled.json() == body_of(customization, [])
    assert (customization.status, customization.resolution) == (
        "declined",
        "Order cancelled: Festival called off",
    )
    assert [e[2] for e in events(customization)] == ["accept", "change_order", "cancel_order"]


def test_decline_and_resolve(as_user, sales_user, quality_user, customization, lemon):
    sales = as_user(sales_user)
    sales.post(
        url(customization.pk, "route"), {"version": 1, "department": "production"}, format="json"
    )
    declined = sales.post(
        url(customization.pk, "decline"),
        {"version": 2, "note": "Too late for them."},
        format="json",
    )
    assert declined.status_code == 200
    assert (declined.json()["status"], declined.json()["resolution"]) == (
        "declined",
        "Too late for them.",
    )
    issue = CustomerRequestFactory(kind="quality_issue", department="quality", product=lemon)
    resolved = as_user(quality_user).post(
        url(issue.pk, "resolve"),
        {"version": 1, "resolution": "Batch checked: fine."},
        format="json",
    )
    assert resolved.status_code == 200
    issue.refresh_from_db()
    assert resolved.json() == body_of(issue, [])
    assert (issue.status, issue.resolution, issue.version) == (
        "resolved",
        "Batch checked: fine.",
        2,
    )


def route(customization, actor):
    return services.request_route(
        actor=actor,
        request_id=customization.pk,
        expected_version=customization.version,
        department="production",
    )


@pytest.mark.parametrize(
    ("user", "action", "body", "status", "expected"),
    [
        # The role may never do this: 403.
        (
            "marketing_user",
            "answer-feasibility",
            {"version": 2, "feasible": False, "note": "No."},
            403,
            refused("Your role may not “answer feasibility” this request.", "permission_denied"),
        ),
        (
            "production_user",
            "decline",
            {"version": 2},
            403,
            refused("Your role may not “customer declined” this request.", "permission_denied"),
        ),
        (
            "marketing_user",
            "decline",
            {"version": 2},
            403,
            refused("Your role may not “customer declined” this request.", "permission_denied"),
        ),
        # The state does not allow it: 400.
        (
            "sales_user",
            "accept",
            {"version": 2},
            400,
            refused("“Customer accepted” is not possible while the request is triaged."),
        ),
        (
            "sales_user",
            "quote",
            {"version": 2, "unit_price": "2.00"},
            400,
            refused("“Quote” is not possible while the request is triaged."),
        ),
        (
            "sales_user",
            "resolve",
            {"version": 2, "resolution": "Done."},
            400,
            refused("“Resolve” does not apply to a customization."),
        ),
        # A stale version: 409.
        (
            "production_user",
            "start-review",
            {"version": 1},
            409,
            refused(
                "Customer request #{pk} Private label for a festival was changed by someone "
                "else while you were editing it. Reload to see the current version, then apply "
                "your change again.",
                "stale_edit",
            ),
        ),
        # Bad input: 400 at the field.
        (
            "production_user",
            "start-review",
            {},
            400,
            invalid({"version": ["This field is required."]}),
        ),
        (
            "production_user",
            "start-review",
            {"version": "two"},
            400,
            invalid({"version": ["A valid integer is required."]}),
        ),
        (
            "production_user",
            "answer-feasibility",
            {"version": 2, "feasible": "maybe", "note": "?"},
            400,
            invalid({"feasible": ["Must be a valid boolean."]}),
        ),
        (
            "production_user",
            "answer-feasibility",
            {"version": 2, "feasible": True, "note": " "},
            400,
            invalid(
                {
                    "note": ["Explain the answer: how it would be made, or why it cannot."],
                    "extra_unit_cost": ["Give the extra cost per unit (0 if none)."],
                    "lead_time_weeks": ["Give the weeks production needs before delivery."],
                }
            ),
        ),
        (
            "production_user",
            "answer-feasibility",
            {
                "version": 2,
                "feasible": True,
                "note": "OK",
                "extra_unit_cost": "-1",
                "lead_time_weeks": 2,
            },
            400,
            invalid({"extra_unit_cost": ["The amount cannot be negative."]}),
        ),
        (
            "production_user",
            "answer-feasibility",
            {
                "version": 2,
                "feasible": True,
                "note": "OK",
                "extra_unit_cost": "0",
                "lead_time_weeks": 60,
            },
            400,
            invalid({"lead_time_weeks": ["Lead time must be 0 to 52 weeks."]}),
        ),
        (
            "production_user",
            "answer-feasibility",
            {
                "version": 2,
                "feasible": True,
                "note": ["OK"],
                "extra_unit_cost": "x",
                "lead_time_weeks": "y",
            },
            400,
            invalid(
                {
                    "note": ["Not a valid string."],
                    "extra_unit_cost": ["A valid number is required."],
                    "lead_time_weeks": ["A valid integer is required."],
                }
            ),
        ),
        (
            "sales_user",
            "route",
            {"version": 2, "department": "legal"},
            400,
            invalid({"department": ['"legal" is not a valid choice.']}),
        ),
        (
            "sales_user",
            "route",
            {"version": 2, "department": "production", "assignee": "ghost"},
            400,
            invalid({"assignee": ["No active user named ghost."]}),
        ),
        (
            "sales_user",
            "route",
            {"version": 2, "department": "quality", "assignee": "petra"},
            400,
            invalid({"assignee": ["{petra} does not work in Quality."]}),
        ),
        (
            "sales_user",
            "route",
            {"version": 2, "department": ["production"], "assignee": 7},
            400,
            invalid(
                {
                    "department": ["\"['production']\" is not a valid choice."],
                    "assignee": ["Give the name as text."],
                }
            ),
        ),
        (
            "sales_user",
            "resolve",
            "not an object",
            400,
            refused("Invalid data. Expected a dictionary, but got str."),
        ),
    ],
)
def test_refused_actions_change_nothing_and_record_nothing(
    request,
    as_user,
    sales_user,
    production_user,
    customization,
    user,
    action,
    body,
    status,
    expected,
):
    route(customization, sales_user)  # triaged, version 2, routed to production
    customization.refresh_from_db()
    before = (customization.status, customization.version, customization.department)
    client = as_user(request.getfixturevalue(user))
    if isinstance(body, str):
        response = client.post(
            url(customization.pk, action), json.dumps(body), content_type="application/json"
        )
    else:
        response = client.post(url(customization.pk, action), body, format="json")
    assert response.status_code == status
    placeholders = {"{pk}": str(customization.pk), "{petra}": str(production_user)}
    text = json.dumps(expected, ensure_ascii=False)
    for placeholder, value in placeholders.items():
        text = text.replace(placeholder, value)
    expected = json.loads(text)
    assert response.json() == expected
    customization.refresh_from_db()
    assert (customization.status, customization.version, customization.department) == before
    # Already triaged when logged: routing it again changed the department, not the status.
    assert [e[1] for e in events(customization)] == ["created", "updated"]


def test_accept_before_a_quote_is_400(as_user, sales_user, customization):
    response = as_user(sales_user).post(
        url(customization.pk, "accept"), {"version": 1}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == refused(
        "“Customer accepted” is not possible while the request is triaged."
    )
    customization.refresh_from_db()
    assert (customization.status, customization.version) == ("triaged", 1)
    assert events(customization) == [("sam", "created", None)]


def test_a_quote_before_the_lead_time_is_refused(
    as_user, sales_user, production_user, customization
):
    route(customization, sales_user)
    services.request_answer_feasibility(
        actor=production_user,
        request_id=customization.pk,
        expected_version=2,
        feasible=True,
        note="OK",
        extra_unit_cost="0.10",
        lead_time_weeks=4,
    )
    too_soon = iso_label(add_weeks(current_week(), 2))
    response = as_user(sales_user).post(
        url(customization.pk, "quote"),
        {"version": 3, "unit_price": "2.00", "wanted_week": too_soon},
        format="json",
    )
    assert response.status_code == 400
    earliest = iso_label(add_weeks(current_week(), 4))
    assert response.json() == invalid(
        {"wanted_week": [f"Production needs 4 weeks: the earliest delivery week is {earliest}."]}
    )
    for body, fields in (
        ({"version": 3, "unit_price": "0"}, {"unit_price": ["The amount must be positive."]}),
        ({"version": 3, "unit_price": "free"}, {"unit_price": ["A valid number is required."]}),
        (
            {"version": 3, "unit_price": "2", "quantity": -1},
            {"quantity": ["The quantity must be at least 1 unit."]},
        ),
        ({"version": 3}, {"unit_price": ["This field is required."]}),
    ):
        refused_quote = as_user(sales_user).post(
            url(customization.pk, "quote"), body, format="json"
        )
        assert refused_quote.status_code == 400
        assert refused_quote.json() == invalid(fields)
    customization.refresh_from_db()
    assert (customization.status, customization.version, customization.quoted_unit_price) == (
        "in_review",
        3,
        None,
    )


def test_resolve_needs_a_resolution(as_user, quality_user, lemon):
    issue = CustomerRequestFactory(kind="quality_issue", department="quality", product=lemon)
    response = as_user(quality_user).post(url(issue.pk, "resolve"), {"version": 1}, format="json")
    assert response.status_code == 400
    assert response.json() == invalid({"resolution": ["Say how the request was resolved."]})
    issue.refresh_from_db()
    assert (issue.status, issue.version) == ("new", 1)


ACTIONS = ["route", "start-review", "answer-feasibility", "quote", "accept", "decline", "resolve"]


@pytest.mark.parametrize("action", [None, *ACTIONS])
def test_malformed_json_is_400_never_500(as_user, admin_user, customization, action):
    client = as_user(admin_user)
    target = REQUESTS if action is None else url(customization.pk, action)
    broken = client.post(target, '{"version": 1,,}', content_type="application/json")
    assert broken.status_code == 400
    assert broken.json()["error"]["code"] == "parse_error"
    assert broken.json()["error"]["fields"] == {}
    for payload in ([1], 7, None, "x"):
        response = client.post(target, json.dumps(payload), content_type="application/json")
        assert response.status_code == 400
        assert list(response.json()["error"]["fields"]) == ["non_field_errors"]
    # Every field of the wrong type at once.
    wrong = {
        "version": {"v": 1},
        "customer_name": 5,
        "channel": ["phone"],
        "kind": 1,
        "summary": {},
        "quantity": "many",
        "wanted_week": ["2026-W50"],
        "department": 3,
        "assignee": [],
        "priority": {},
        "feasible": "perhaps",
        "note": [],
        "unit_price": "cheap",
        "resolution": {},
    }
    response = client.post(target, wrong, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    customization.refresh_from_db()
    assert (customization.status, customization.version) == ("triaged", 1)
    assert CustomerRequest.objects.count() == 1
    assert events(customization) == [("sam", "created", None)]


def test_put_and_delete_are_405(as_user, admin_user, customization):
    client = as_user(admin_user)
    assert client.put(url(customization.pk), {}, format="json").status_code == 405
    response = client.delete(url(customization.pk))
    assert response.status_code == 405
    assert response.json() == refused('Method "DELETE" not allowed.', "method_not_allowed")
    assert client.get(url(customization.pk, "accept")).status_code == 405
    assert CustomerRequest.objects.count() == 1
