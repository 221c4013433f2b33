"""The specification change workflow: draft -> proposed -> approved/rejected."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from coordination import roles
from coordination.errors import StaleEditError
from coordination.models import ActivityEvent, Specification
from coordination.selectors import products as selectors
from coordination.services import specifications as services
from coordination.services.locking import UNCHECKED
from coordination.weeks import add_weeks, current_week
from tests.factories import CustomerRequestFactory, ProductFactory, SpecificationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def product():
    product = ProductFactory(sku="TEA-LEM-05")
    SpecificationFactory(product=product, number=1, colours=["Yellow label"], features=["Vegan"])
    return product


def draft(actor, product, **overrides):
    data = {
        "colours": ["Yellow label", "Green cap"],
        "package_sizes": ["500 ml"],
        "features": ["Vegan", "Less sugar"],
        "materials": ["PET"],
        "effective_from": add_weeks(current_week(), 4),
        "rationale": "Customers ask for less sugar.",
    }
    data.update(overrides)
    return services.specification_create(actor=actor, product_id=product.pk, **data)


def test_draft_gets_the_next_number_and_cleans_its_lists(marketing_user, product):
    spec = draft(
        marketing_user, product, colours=[" Yellow  label ", "yellow label", "", "Green cap"]
    )
    assert (spec.number, spec.status, spec.version) == (2, "draft", 1)
    assert spec.colours == ["Yellow label", "Green cap"]
    assert spec.author == marketing_user


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        (
            {"rationale": " "},
            {"rationale": ["Say why this change is needed: what customers or the market ask."]},
        ),
        (
            {"colours": [], "package_sizes": [], "features": [], "materials": []},
            {"colours": ["A specification needs at least one colour, size, feature or material."]},
        ),
        (
            {"effective_from": None},
            {"effective_from": ["Choose the week the change takes effect."]},
        ),
        ({"colours": ["x" * 81]}, {"colours": [f"“{'x' * 20}…” is longer than 80 characters."]}),
        ({"features": "Vegan"}, {"features": ["Give a list of entries, one per item."]}),
    ],
)
def test_draft_refuses_bad_input(marketing_user, product, overrides, errors):
    with pytest.raises(ValidationError) as info:
        draft(marketing_user, product, **overrides)
    assert info.value.message_dict == errors
    assert product.specifications.count() == 1


def test_effective_week_in_the_past_is_refused(sales_user, product):
    last_week = add_weeks(current_week(), -1)
    with pytest.raises(ValidationError) as info:
        draft(sales_user, product, effective_from=last_week)
    year, week, _ = last_week.isocalendar()
    assert info.value.message_dict == {
        "effective_from": [
            f"{year}-W{week:02d} has already started: choose this week or a later one."
        ]
    }


@pytest.mark.parametrize("role", [roles.PRODUCTION, roles.QUALITY])
def test_only_marketing_and_sales_propose(make_user, product, role):
    with pytest.raises(PermissionDenied):
        draft(make_user(role), product, propose=True)
    assert product.specifications.count() == 1


def test_proposal_identical_to_the_current_spec_is_refused(marketing_user, product):
    current = product.specifications.get(number=1)
    spec = draft(marketing_user, product, **current.as_dict())
    with pytest.raises(ValidationError, match=r"identical to the specification in force \(v1\)"):
        services.specification_propose(actor=marketing_user, spec_id=spec.pk, expected_version=1)
    spec.refresh_from_db()
    assert spec.status == "draft"


def test_cited_requests_must_concern_the_product(marketing_user, product):
    about_it = CustomerRequestFactory(product=product)
    about_other = CustomerRequestFactory(product=ProductFactory(sku="TEA-PEA-05"))
    with pytest.raises(ValidationError) as info:
        draft(marketing_user, product, cited_request_ids=[about_it.pk, about_other.pk, 99999])
    assert info.value.message_dict == {"cited_requests": ["No customer request with id 99999."]}
    with pytest.raises(ValidationError) as info:
        draft(marketing_user, product, cited_request_ids=[about_it.pk, about_other.pk])
    assert info.value.message_dict == {
        "cited_requests": [f"Requests #{about_other.pk} are about another product, not TEA-LEM-05."]
    }
    spec = draft(marketing_user, product, cited_request_ids=[about_it.pk])
    assert list(spec.cited_requests.all()) == [about_it]


def test_approval_supersedes_the_version_in_force_from_its_week(
    marketing_user, production_user, product
):
    week = add_weeks(current_week(), 4)
    spec = draft(marketing_user, product, propose=True)
    assert spec.status == "proposed"
    approved = services.specification_approve(
        actor=production_user,
        spec_id=spec.pk,
        expected_version=spec.version,
        feasibility_note="New syrup dosing, no new equipment.",
        unit_cost_impact="-0.03",
    )
    assert (approved.status, approved.effective_from, approved.unit_cost_impact) == (
        "approved",
        week,
        Decimal("-0.03"),
    )
    v1 = product.specifications.get(number=1)
    assert v1.effective_until == add_weeks(week, -1)
    # v1 stays in force until then; v2 takes over from its week.
    assert selectors.current_specification(product) == v1
    assert selectors.current_specification(product, week=week) == approved


def test_a_later_approval_supersedes_a_scheduled_version_that_never_took_effect(
    marketing_user, production_user, product
):
    later = draft(
        marketing_user, product, effective_from=add_weeks(current_week(), 8), propose=True
    )
    services.specification_approve(
        actor=production_user,
        spec_id=later.pk,
        expected_version=UNCHECKED,
        feasibility_note="OK",
        unit_cost_impact="0",
    )
    earlier = draft(
        marketing_user,
        product,
        colours=["Blue label"],
        effective_from=add_weeks(current_week(), 3),
        propose=True,
    )
    services.specification_approve(
        actor=production_user,
        spec_id=earlier.pk,
        expected_version=UNCHECKED,
        feasibility_note="OK",
        unit_cost_impact="0",
    )
    statuses = dict(product.specifications.values_list("number", "status"))
    assert statuses == {1: "approved", 2: "superseded", 3: "approved"}
    assert product.specifications.get(number=1).effective_until == add_weeks(current_week(), 2)


def test_review_requires_a_note_and_a_cost_impact(marketing_user, production_user, product):
    spec = draft(marketing_user, product, propose=True)
    with pytest.raises(ValidationError) as info:
        services.specification_reject(
            actor=production_user,
            spec_id=spec.pk,
            expected_version=spec.version,
            feasibility_note="",
            unit_cost_impact=None,
        )
    assert info.value.message_dict == {
        "feasibility_note": ["Explain whether and how production can make this."],
        "unit_cost_impact": ["Give the change in unit cost (0 if none)."],
    }
    spec.refresh_from_db()
    assert (spec.status, spec.reviewed_by) == ("proposed", None)


@pytest.mark.parametrize("role", [roles.MARKETING, roles.SALES, roles.QUALITY])
def test_only_production_reviews(make_user, marketing_user, product, role):
    spec = draft(marketing_user, product, propose=True)
    with pytest.raises(PermissionDenied, match="Only Production"):
        services.specification_approve(
            actor=make_user(role),
            spec_id=spec.pk,
            expected_version=UNCHECKED,
            feasibility_note="x",
            unit_cost_impact="0",
        )
    spec.refresh_from_db()
    assert spec.status == "proposed"


def test_reject_records_the_answer(marketing_user, production_user, product):
    spec = draft(marketing_user, product, propose=True)
    rejected = services.specification_reject(
        actor=production_user,
        spec_id=spec.pk,
        expected_version=spec.version,
        feasibility_note="The filler cannot dose less syrup.",
        unit_cost_impact="0.05",
    )
    assert (rejected.status, rejected.reviewed_by, rejected.feasibility_note) == (
        "rejected",
        production_user,
        "The filler cannot dose less syrup.",
    )
    with pytest.raises(ValidationError, match="Only a proposal can be approved"):
        services.specification_approve(
            actor=production_user,
            spec_id=spec.pk,
            expected_version=UNCHECKED,
            feasibility_note="x",
            unit_cost_impact="0",
        )


def test_withdraw_and_edit_then_propose_again(marketing_user, product):
    spec = draft(marketing_user, product, propose=True)
    spec = services.specification_withdraw(
        actor=marketing_user, spec_id=spec.pk, expected_version=spec.version
    )
    assert (spec.status, spec.proposed_at) == ("draft", None)
    spec = services.specification_update(
        actor=marketing_user, spec_id=spec.pk, expected_version=spec.version, colours=["Red"]
    )
    assert spec.colours == ["Red"]
    with pytest.raises(StaleEditError):
        services.specification_update(
            actor=marketing_user, spec_id=spec.pk, expected_version=1, colours=["Blue"]
        )
    spec.refresh_from_db()
    assert spec.colours == ["Red"]
    spec = services.specification_propose(
        actor=marketing_user, spec_id=spec.pk, expected_version=spec.version
    )
    assert spec.status == "proposed"


def test_only_drafts_can_be_edited(marketing_user, product):
    spec = draft(marketing_user, product, propose=True)
    with pytest.raises(ValidationError, match="only drafts can be edited"):
        services.specification_update(
            actor=marketing_user, spec_id=spec.pk, expected_version=UNCHECKED, colours=["Blue"]
        )


def test_discontinued_products_take_no_new_specifications(marketing_user):
    product = ProductFactory(lifecycle="discontinued")
    with pytest.raises(ValidationError, match="discontinued"):
        draft(marketing_user, product)
    assert product.specifications.count() == 0


def test_every_step_is_on_the_timeline(marketing_user, production_user, product):
    spec = draft(marketing_user, product, propose=True)
    services.specification_approve(
        actor=production_user,
        spec_id=spec.pk,
        expected_version=UNCHECKED,
        feasibility_note="OK",
        unit_cost_impact="0.02",
    )
    messages = list(
        ActivityEvent.objects.filter(object_id=spec.pk, content_type__model="specification")
        .order_by("id")
        .values_list("actor__username", "message")
    )
    week = add_weeks(current_week(), 4).isocalendar()
    label = f"{week[0]}-W{week[1]:02d}"
    assert messages == [
        ("mara", "Drafted v2."),
        ("mara", f"Proposed v2 effective from {label}."),
        ("petra", f"Approved v2 effective from {label}; unit cost impact +0.02. OK"),
    ]


def test_diff_lists_added_removed_and_kept(product, marketing_user):
    spec = draft(marketing_user, product)
    diff = {
        row["field"]: row
        for row in selectors.specification_diff(product.specifications.get(number=1), spec)
    }
    assert diff["colours"]["added"] == ["Green cap"]
    assert diff["colours"]["kept"] == ["Yellow label"]
    assert diff["features"]["added"] == ["Less sugar"]
    assert diff["package_sizes"]["removed"] == []
    assert Specification.objects.filter(product=product).count() == 2


def test_the_diff_marks_removed_items_as_deleted_text(client, product, marketing_user):
    # Was <span aria-label="removed">: a label on a generic span is ignored by screen
    # readers (axe aria-prohibited-attr); <del> says "deleted" and keeps the strike.
    spec = draft(marketing_user, product, features=["Less sugar"])
    client.force_login(marketing_user)
    html = client.get(reverse("specification_detail", args=[product.sku, spec.number])).content
    html = html.decode()
    assert '<td class="diff-removed"><del>− Vegan</del><br></td>' in html
    assert 'aria-label="removed"' not in html
