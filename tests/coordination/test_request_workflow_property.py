"""No sequence of actions, by any role, in any order, reaches an invalid request state."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coordination import roles
from coordination.models import CustomerRequest
from coordination.services import customer_requests as services
from coordination.weeks import add_weeks, current_week
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

ROLE_NAMES = [roles.MARKETING, roles.SALES, roles.PRODUCTION, roles.QUALITY]
ACTIONS = list(services.ACTIONS)


def _kwargs(action: str, draw_feasible: bool) -> dict:
    return {
        "route": {"department": "production"},
        "start_review": {},
        "answer_feasibility": {
            "feasible": draw_feasible,
            "note": "answer",
            "extra_unit_cost": "0.10",
            "lead_time_weeks": 2,
        },
        "quote": {"unit_price": "2.50"},
        "accept": {},
        "decline": {"note": "no"},
        "change_order": {"note": "more", "quantity": 150},
        "cancel_order": {"note": "no longer needed"},
        "resolve": {"resolution": "done"},
    }[action]


SERVICE = {
    "route": services.request_route,
    "start_review": services.request_start_review,
    "answer_feasibility": services.request_answer_feasibility,
    "quote": services.request_quote,
    "accept": services.request_accept,
    "decline": services.request_decline,
    "change_order": services.request_change_order,
    "cancel_order": services.request_cancel_order,
    "resolve": services.request_resolve,
}


def assert_valid(request: CustomerRequest) -> None:
    assert request.status in CustomerRequest.Status.values
    if request.kind != "customization":
        assert request.feasible is None
        assert request.quoted_unit_price is None
        assert request.status not in ("quoted", "accepted")
    if request.status in ("quoted", "accepted"):
        assert request.feasible is True
        assert request.quoted_unit_price == Decimal("2.50")
        assert request.quantity and request.wanted_week
    if request.quoted_unit_price is not None:
        assert request.feasible is True
    if request.status == "resolved":
        assert request.resolution == "done"


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    kind=st.sampled_from(CustomerRequest.Kind.values),
    steps=st.lists(
        st.tuples(st.sampled_from(ACTIONS), st.sampled_from(ROLE_NAMES), st.booleans()),
        max_size=12,
    ),
)
def test_no_sequence_of_actions_reaches_an_invalid_state(kind, steps):
    users = {
        role: UserFactory(username=f"prop-{role.lower()}", roles=[role]) for role in ROLE_NAMES
    }
    product = ProductFactory(sku="PROP-0001")
    request = services.request_log(
        actor=users[roles.SALES],
        customer_name="Prop Co",
        channel="email",
        kind=kind,
        summary="property",
        product=product,
        quantity=100 if kind == "customization" else None,
        wanted_week=add_weeks(current_week(), 6) if kind == "customization" else None,
    )
    for action, role, feasible in steps:
        before = CustomerRequest.objects.get(pk=request.pk)
        allowed = services.action_refusal(users[role], before, action) is None
        try:
            SERVICE[action](
                actor=users[role],
                request_id=request.pk,
                expected_version=before.version,
                **_kwargs(action, feasible),
            )
        except (ValidationError, PermissionDenied):
            after = CustomerRequest.objects.get(pk=request.pk)
            # A refused action changes nothing at all.
            assert (after.status, after.version) == (before.status, before.version)
            assert not allowed or action in ("answer_feasibility", "quote", "resolve")
        else:
            assert allowed
            after = CustomerRequest.objects.get(pk=request.pk)
            assert after.version == before.version + 1
            target = services.ACTIONS[action].target
            assert after.status == (target or before.status)
            assert before.status in services.ACTIONS[action].sources
        assert_valid(CustomerRequest.objects.get(pk=request.pk))
