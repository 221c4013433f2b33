"""Decisions and action items of the planning review: validation, optimistic locking,
who may change them, and open items on the owner's home page and the next cycle."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from coordination import home
from coordination.errors import StaleEditError
from planning import services
from planning.models import CycleDecision
from planning.selectors import cycles as selectors
from tests.factories import LineFactory, ProductFactory, PromotionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cycle(admin_user):
    return services.planning_cycle_open(actor=admin_user, period_start=dt.date(2026, 12, 1))


def action(cycle, actor, owner, **extra):
    fields = {
        "kind": "action",
        "text": "Book two Saturday shifts on Bottling",
        "department": "production",
        "owner_id": owner.pk,
        "due_date": timezone.localdate() + dt.timedelta(days=7),
        **extra,
    }
    return services.cycle_decision_create(actor=actor, cycle_id=cycle.pk, **fields)


def test_a_decision_links_what_it_concerns(cycle, marketing_user):
    product, line = ProductFactory(), LineFactory()
    promotion = PromotionFactory()
    item = services.cycle_decision_create(
        actor=marketing_user,
        cycle_id=cycle.pk,
        kind="decision",
        text="  Move the spring promotion one week later.  ",
        department="marketing",
        product_id=product.pk,
        promotion_id=promotion.pk,
        line_id=line.pk,
    )
    assert (item.kind, item.text, item.status, item.owner, item.created_by) == (
        "decision",
        "Move the spring promotion one week later.",
        "open",
        None,
        marketing_user,
    )
    assert (item.product, item.promotion, item.line) == (product, promotion, line)


def test_an_action_item_needs_an_owner_and_a_due_date(cycle, sales_user):
    with pytest.raises(ValidationError) as invalid:
        services.cycle_decision_create(
            actor=sales_user,
            cycle_id=cycle.pk,
            kind="action",
            text="",
            department="finance",
            product_id=999999,
        )
    assert invalid.value.message_dict == {
        "text": ["Write what was decided or what must be done."],
        "department": ["Choose the department it concerns."],
        "owner": ["An action item needs an owner."],
        "due_date": ["An action item needs a due date."],
        "product": ["No such product."],
    }
    assert CycleDecision.objects.count() == 0


def test_quality_reads_but_does_not_record(cycle, quality_user):
    with pytest.raises(PermissionDenied):
        action(cycle, quality_user, quality_user)
    assert CycleDecision.objects.count() == 0


def test_a_closed_cycle_takes_no_new_items(cycle, admin_user, production_user):
    cycle.status = "closed"
    cycle.agreed_at = cycle.closed_at = timezone.now()
    cycle.save()
    with pytest.raises(ValidationError, match="is closed"):
        action(cycle, production_user, production_user)
    assert CycleDecision.objects.count() == 0


def test_editing_with_a_stale_version_changes_nothing(cycle, production_user, sales_user):
    item = action(cycle, production_user, production_user)
    services.cycle_decision_update(
        actor=sales_user,
        decision_id=item.pk,
        expected_version=item.version,
        text="Book three Saturday shifts",
        department="production",
        owner_id=production_user.pk,
        due_date=item.due_date,
    )
    with pytest.raises(StaleEditError):
        services.cycle_decision_update(
            actor=production_user,
            decision_id=item.pk,
            expected_version=item.version,
            text="Book one shift",
            department="production",
            owner_id=production_user.pk,
            due_date=item.due_date,
        )
    item.refresh_from_db()
    assert (item.text, item.version) == ("Book three Saturday shifts", 2)


def test_the_owner_completes_an_action_item(cycle, production_user, marketing_user, quality_user):
    item = action(cycle, marketing_user, quality_user)
    outsider = UserFactory(username="visitor")  # no role: not a member of the review
    with pytest.raises(PermissionDenied):
        services.action_item_set_status(
            actor=outsider,
            decision_id=item.pk,
            expected_version=item.version,
            status="done",
        )
    item.refresh_from_db()
    assert (item.status, item.version) == ("open", 1)
    done = services.action_item_set_status(
        actor=quality_user, decision_id=item.pk, expected_version=item.version, status="done"
    )
    assert (done.status, done.completed_at is not None, done.version) == ("done", True, 2)
    reopened = services.action_item_set_status(
        actor=production_user, decision_id=item.pk, expected_version=2, status="open"
    )
    assert (reopened.status, reopened.completed_at) == ("open", None)


def test_decisions_have_no_progress(cycle, marketing_user):
    item = services.cycle_decision_create(
        actor=marketing_user,
        cycle_id=cycle.pk,
        kind="decision",
        text="Keep the plan.",
        department="marketing",
    )
    with pytest.raises(ValidationError, match="only action items are done"):
        services.action_item_set_status(
            actor=marketing_user, decision_id=item.pk, expected_version=1, status="done"
        )
    item.refresh_from_db()
    assert item.status == "open"


def test_open_action_items_come_back_on_the_next_cycle(cycle, admin_user, production_user):
    open_item = action(cycle, production_user, production_user)
    done_item = action(cycle, production_user, production_user, text="Check the labels")
    services.action_item_set_status(
        actor=production_user, decision_id=done_item.pk, expected_version=1, status="done"
    )
    following = services.planning_cycle_open(actor=admin_user, period_start=dt.date(2027, 1, 1))
    assert list(selectors.carried_actions(following)) == [open_item]
    assert list(selectors.carried_actions(cycle)) == []


def test_open_action_items_show_on_the_owners_home_page(cycle, production_user, sales_user):
    action(cycle, sales_user, production_user)
    action(
        cycle,
        sales_user,
        production_user,
        text="Overdue one",
        due_date=timezone.localdate() - dt.timedelta(days=1),
    )
    action(cycle, sales_user, sales_user, text="Not petra's")
    url = f"{reverse('planning_actions')}?mine=on"

    panels = {p["title"]: p for p in home.panels_for(production_user)}
    shown = {todo.label: (todo.count, todo.url) for todo in panels["Planning review"]["todos"]}

    assert shown == {
        "Your planning action items past their due date": (1, f"{url}&overdue=on"),
        "Your open planning action items": (2, url),
    }


def test_cycles_waiting_for_a_sign_off_show_on_the_signers_home_page(
    cycle, admin_user, marketing_user, quality_user
):
    services.planning_cycle_start_review(actor=admin_user, cycle_id=cycle.pk, expected_version=1)
    panels = {p["title"]: p for p in home.panels_for(marketing_user)}
    todos = {todo.label: (todo.count, todo.url) for todo in panels["Planning review"]["todos"]}
    assert todos == {
        "Planning cycles waiting for your sign-off": (
            1,
            f"{reverse('planning_list')}?awaiting=marketing",
        )
    }
    services.cycle_sign_off(actor=marketing_user, cycle_id=cycle.pk, part="demand")
    panels = {p["title"]: p for p in home.panels_for(marketing_user)}
    assert panels["Planning review"]["todos"] == []
    quality_panels = {p["title"]: p for p in home.panels_for(quality_user)}
    assert quality_panels["Planning review"]["todos"] == []


def test_the_database_refuses_an_action_item_without_owner_or_due_date(cycle, sales_user):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        CycleDecision.objects.create(
            cycle=cycle, kind="action", text="Call them", department="sales", created_by=sales_user
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        CycleDecision.objects.create(
            cycle=cycle,
            kind="decision",
            text="Keep it",
            department="sales",
            status="done",
            created_by=sales_user,
        )
    assert CycleDecision.objects.count() == 0
