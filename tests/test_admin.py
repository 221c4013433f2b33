"""The admin, for every registered model of every Tandem app: pages answer, lists do a
bounded number of queries, derived and workflow data is read-only, and edits go through
the services (with their side effects)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from itertools import count

import pytest
from django.contrib import admin
from django.db import models
from django.urls import reverse
from django.utils import timezone

from coordination.models import (
    ActivityEvent,
    CalendarFeed,
    CustomerRequest,
    EmailNotification,
    EmailPreference,
    IdempotencyKey,
    Line,
    Notice,
    Product,
    ProductLine,
    ProductPrice,
    RecomputeRequest,
    Specification,
)
from coordination.services import api_clients, calendar_feeds
from coordination.weeks import add_weeks, current_week
from demand.models import (
    ChannelForecast,
    DemandForecast,
    ForecastFit,
    ForecastRun,
    MarketingAdjustment,
    Promotion,
    SalesActual,
    SalesImport,
    SharePriorFit,
)
from planning.models import (
    Budget,
    CycleAdjustment,
    CycleDecision,
    CycleSignOff,
    PlanningCycle,
    PlanningScenario,
    PlanningSnapshot,
)
from production.models import (
    InventoryPosition,
    ProductionHold,
    QuotaRecommendation,
    RecomputeRun,
    RunRate,
    ScheduleEntry,
    ScheduleRevision,
    WebhookDelivery,
    WebhookEndpoint,
)
from recalls.models import (
    AffectedLot,
    CustomerNotification,
    PressInquiry,
    RecallTask,
    Statement,
)
from recalls.services import incidents
from tests import factories as f

PROJECT_APPS = {"coordination", "demand", "production", "recalls", "planning"}
ROWS = 20
# Session, user, permissions, counts, filters, the page: well under ROWS, so a query per
# row (N+1) on any changelist breaks it.
MAX_CHANGELIST_QUERIES = 14

_seq = count(1)


# ------------------------------------------------------------------- row makers


def _incident(user):
    product = f.ProductFactory()
    return incidents.recall_open(
        actor=user,
        title=f"Glass in jar {next(_seq)}",
        classification="class_ii",
        hazard="Glass can cut the mouth.",
        source="internal_test",
        product_ids=[product.pk],
    )


def _endpoint(user):
    return WebhookEndpoint.objects.create(
        name=f"ERP {next(_seq)}", url="https://erp.example.com/hook", created_by=user
    )


def _calendar_feed():
    person = f.UserFactory()
    calendar_feeds.calendar_feed_new_address(user=person)
    return CalendarFeed.objects.get(user=person)


MAKERS = {
    # coordination
    "coordination.User": lambda user: f.UserFactory(),
    "coordination.ApiClient": lambda user: api_clients.client_create(
        name=f"ERP client {next(_seq)}", scopes=["schedules:read"], created_by=user
    )[0],
    "coordination.CalendarFeed": lambda user: _calendar_feed(),
    "coordination.ProductLine": lambda user: f.ProductLineFactory(),
    "coordination.Product": lambda user: f.ProductFactory(),
    "coordination.ProductPrice": lambda user: ProductPrice.objects.create(
        product=f.ProductFactory(),
        effective_from=current_week(),
        channel="online",
        unit_price=Decimal("2.40"),
        unit_cost=Decimal("1.20"),
    ),
    "coordination.Specification": lambda user: f.SpecificationFactory(),
    "coordination.CustomerRequest": lambda user: f.CustomerRequestFactory(),
    "coordination.ActivityEvent": lambda user: f.ActivityEventFactory(),
    "coordination.RecomputeRequest": lambda user: f.RecomputeRequestFactory(requested_by=user),
    "coordination.Notice": lambda user: f.NoticeFactory(),
    "coordination.EmailPreference": lambda user: EmailPreference.objects.create(
        user=f.UserFactory(), kind="daily_digest", enabled=False
    ),
    "coordination.EmailNotification": lambda user: EmailNotification.objects.create(
        user=f.UserFactory(),
        kind="stop_ship",
        key=f"RC-2026-{next(_seq):04d}",
        subject="Stop-ship",
        body_text="Held.",
        body_html="<p>Held.</p>",
        link="https://tandem.example.com/recalls/",
    ),
    "coordination.IdempotencyKey": lambda user: IdempotencyKey.objects.create(
        user=user,
        key=f"key-{next(_seq)}",
        method="POST",
        path="/api/v1/webhooks/",
        fingerprint="0" * 64,
        status_code=201,
        response_body="{}",
        expires_at=timezone.now() + dt.timedelta(hours=24),
    ),
    # demand
    "demand.SalesActual": lambda user: f.SalesActualFactory(),
    "demand.SalesImport": lambda user: f.SalesImportFactory(content="sku,week,units\n"),
    "demand.Promotion": lambda user: f.PromotionItemFactory().promotion,
    "demand.ForecastRun": lambda user: f.ForecastRunFactory(),
    "demand.SharePriorFit": lambda user: SharePriorFit.objects.create(
        lines=2, pairs=40, seconds=0.1, zero=0.8, loss_weight=0.1, loss_mean=0.3
    ),
    "demand.ForecastFit": lambda user: f.ForecastFitFactory(),
    "demand.DemandForecast": lambda user: f.DemandForecastFactory(),
    "demand.ChannelForecast": lambda user: f.ChannelForecastFactory(),
    "demand.MarketingAdjustment": lambda user: f.MarketingAdjustmentFactory(),
    "demand.LaunchPlan": lambda user: f.LaunchPlanFactory(),
    "demand.LikeProduct": lambda user: f.LikeProductFactory(),
    "demand.Succession": lambda user: f.SuccessionFactory(),
    # production
    "coordination.Line": lambda user: f.CapacityExceptionFactory().line,
    "production.RunRate": lambda user: f.RunRateFactory(),
    "production.InventoryPosition": lambda user: f.InventoryPositionFactory(),
    "production.ProductionHold": lambda user: f.ProductionHoldFactory(placed_by=user),
    "production.RecomputeRun": lambda user: f.RecomputeRunFactory(),
    "production.QuotaRecommendation": lambda user: f.QuotaRecommendationFactory(),
    "production.ScheduleRevision": lambda user: f.ScheduleEntryFactory().revision,
    "production.ScheduleEntry": lambda user: f.ScheduleEntryFactory(),
    "production.WebhookEndpoint": _endpoint,
    "production.WebhookDelivery": lambda user: WebhookDelivery.objects.create(
        endpoint=_endpoint(user), event_id=uuid.uuid4(), payload={"version": 1}
    ),
    # recalls
    "recalls.RecallIncident": _incident,
    "recalls.AffectedLot": lambda user: AffectedLot.objects.create(
        incident=_incident(user), product=f.ProductFactory(), lot_code="L1", units=10
    ),
    "recalls.RecallTask": lambda user: RecallTask.objects.create(
        incident=_incident(user),
        title="Call distributors",
        department="sales",
        owner=user,
        due_date=timezone.localdate(),
    ),
    "recalls.PressInquiry": lambda user: PressInquiry.objects.create(
        incident=_incident(user),
        outlet="Daily Post",
        contact="desk@example.com",
        question="How many jars?",
        received_at=timezone.now(),
        response_due=timezone.now() + dt.timedelta(hours=4),
    ),
    "recalls.Statement": lambda user: Statement.objects.create(
        incident=_incident(user), title="Our recall", body="We are recalling.", author=user
    ),
    "recalls.CustomerNotification": lambda user: CustomerNotification.objects.create(
        incident=_incident(user),
        consignee=f"Shop {next(_seq)}",
        channel="email",
        notified_at=timezone.now(),
        notified_by=user,
    ),
}

# Derived, imported, audit or workflow-owned: looked at in the admin, never changed there.
READ_ONLY = [
    ActivityEvent,
    EmailNotification,
    EmailPreference,
    IdempotencyKey,
    RecomputeRequest,
    Notice,
    Specification,
    CustomerRequest,
    SalesActual,
    SalesImport,
    Promotion,
    ForecastRun,
    ForecastFit,
    SharePriorFit,
    DemandForecast,
    ChannelForecast,
    InventoryPosition,
    ProductionHold,
    RecomputeRun,
    QuotaRecommendation,
    ScheduleRevision,
    ScheduleEntry,
]
# The one thing staff do to read-only rows: send failed e-mails again (through a service).
READ_ONLY_ACTIONS = {EmailNotification: {"send_again"}}
# Changed through their services in the admin; deleting them is refused (PROTECT).
SERVICE_BACKED = [ProductLine, Product, Line, RunRate, MarketingAdjustment]


# Planning review: every row is written by the planning services (snapshots are
# immutable, sign-offs fingerprinted), so the admin only looks.
def _snapshot(user):
    n = next(_seq)
    start = dt.date(2030 + n // 12, n % 12 + 1, 1)
    cycle = PlanningCycle.objects.create(
        name=f"Cycle {n}", period_start=start, period_end=start, opened_by=user
    )
    return PlanningSnapshot.objects.create(
        cycle=cycle, number=1, taken_by=user, first_week=current_week(), data={}
    )


MAKERS |= {
    "planning.PlanningCycle": lambda user: _snapshot(user).cycle,
    "planning.PlanningSnapshot": _snapshot,
    "planning.CycleSignOff": lambda user: CycleSignOff.objects.create(
        cycle=(snap := _snapshot(user)).cycle,
        part="demand",
        department="marketing",
        signed_by=user,
        snapshot=snap,
        part_hash="0" * 64,
    ),
    "planning.CycleAdjustment": lambda user: CycleAdjustment.objects.create(
        cycle=_snapshot(user).cycle,
        part="supply",
        line=f.LineFactory(),
        month=dt.date(2030, 1, 1),
        amount=8,
        reason="Saturday shift",
        created_by=user,
    ),
    "planning.CycleDecision": lambda user: CycleDecision.objects.create(
        cycle=_snapshot(user).cycle,
        kind="action",
        text="Book the crews",
        department="production",
        owner=user,
        due_date=timezone.localdate(),
        created_by=user,
    ),
    "planning.PlanningScenario": lambda user: PlanningScenario.objects.create(
        cycle=_snapshot(user).cycle,
        line=f.LineFactory(),
        name="Two shifts",
        first_week=current_week(),
        last_week=current_week(),
        extra_hours_per_week=Decimal("16"),
        result={},
        created_by=user,
    ),
    "planning.Budget": lambda user: Budget.objects.create(
        product_line=f.ProductLineFactory(),
        month=current_week().replace(day=1),
        revenue=Decimal("125000.00"),
        units=40000,
        updated_by=user,
    ),
}
READ_ONLY += [
    Budget,
    PlanningCycle,
    PlanningSnapshot,
    CycleSignOff,
    CycleAdjustment,
    CycleDecision,
    PlanningScenario,
]


def registered_models():
    return sorted(
        (model for model in admin.site._registry if model._meta.app_label in PROJECT_APPS),
        key=lambda model: model._meta.label,
    )


def url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def snapshot(obj) -> dict:
    return type(obj)._default_manager.filter(pk=obj.pk).values().get()


def form_data(response) -> dict:
    """What the browser would post back from a change form, unchanged."""
    form = response.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        data[name] = "" if value is None else value
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
    return data


# ----------------------------------------------------------- every registered model


def test_every_registered_model_has_a_row_maker():
    labels = {model._meta.label for model in registered_models()}
    assert labels - set(MAKERS) == set()
    assert {model._meta.label for model in READ_ONLY + SERVICE_BACKED} <= labels


@pytest.mark.parametrize("label", sorted(MAKERS))
def test_changelist_has_no_n_plus_one(
    label, admin_user, admin_client, django_assert_max_num_queries
):
    model = next(m for m in registered_models() if m._meta.label == label)
    for _ in range(ROWS):
        MAKERS[label](admin_user)
    with django_assert_max_num_queries(MAX_CHANGELIST_QUERIES):
        response = admin_client.get(url(model, "changelist"))
    assert response.status_code == 200
    changelist = response.context["cl"]
    total = model._default_manager.count()
    assert total >= ROWS
    assert changelist.result_count == total
    assert len(changelist.result_list) == min(total, changelist.list_per_page)


@pytest.mark.parametrize("label", sorted(MAKERS))
def test_change_page_answers(label, admin_user, admin_client):
    model = next(m for m in registered_models() if m._meta.label == label)
    obj = MAKERS[label](admin_user)
    response = admin_client.get(url(model, "change", obj.pk))
    assert response.status_code == 200
    assert response.context["original"] == obj


# ------------------------------------------------------------------ read-only


@pytest.mark.parametrize("model", READ_ONLY, ids=lambda m: m._meta.label)
def test_read_only_refuses_add_change_and_delete(model, admin_user, admin_client):
    obj = MAKERS[model._meta.label](admin_user)
    before = snapshot(obj)
    rows_before = model._default_manager.count()

    assert admin_client.get(url(model, "add")).status_code == 403
    assert admin_client.get(url(model, "delete", obj.pk)).status_code == 403
    assert admin_client.post(url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
    tampered = {
        field.name: "tampered"
        for field in model._meta.concrete_fields
        if isinstance(field, models.CharField | models.TextField) and field.editable
    }
    assert admin_client.post(url(model, "change", obj.pk), tampered).status_code == 403

    assert snapshot(obj) == before
    assert model._default_manager.count() == rows_before
    page = admin_client.get(url(model, "changelist"))
    assert page.context["has_add_permission"] is False
    actions = page.context["cl"].model_admin.get_actions(page.wsgi_request)
    assert set(actions) == READ_ONLY_ACTIONS.get(model, set())


@pytest.mark.parametrize("model", SERVICE_BACKED, ids=lambda m: m._meta.label)
def test_service_backed_refuse_delete(model, admin_user, admin_client):
    obj = MAKERS[model._meta.label](admin_user)
    assert admin_client.get(url(model, "delete", obj.pk)).status_code == 403
    assert admin_client.post(url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
    assert model._default_manager.filter(pk=obj.pk).exists()


def test_read_only_pages_link_to_where_they_are_changed(admin_client):
    spec = f.SpecificationFactory()
    response = admin_client.get(url(Specification, "change", spec.pk))
    page = reverse("specification_detail", args=[spec.product.sku, spec.number])
    assert f'href="{page}"' in response.content.decode()


# ---------------------------------------------------------- edits through services


def test_product_line_add_and_edit_save(admin_client):
    response = admin_client.post(
        url(ProductLine, "add"), {"name": "  Juices ", "description": "Cold-pressed"}
    )
    assert response.status_code == 302
    line = ProductLine.objects.get()
    assert (line.name, line.description) == ("Juices", "Cold-pressed")

    page = admin_client.get(url(ProductLine, "change", line.pk))
    data = form_data(page) | {"name": "Fresh juices"}
    assert admin_client.post(url(ProductLine, "change", line.pk), data).status_code == 302
    line.refresh_from_db()
    assert (line.name, line.description) == ("Fresh juices", "Cold-pressed")


def test_product_edit_goes_through_the_service(admin_user, admin_client):
    product = f.ProductFactory(name="Lemonade")
    page = admin_client.get(url(Product, "change", product.pk))
    data = form_data(page) | {"name": "Pink lemonade"}

    response = admin_client.post(url(Product, "change", product.pk), data)

    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.name, product.version) == ("Pink lemonade", 2)
    event = ActivityEvent.objects.get()
    assert (event.target, event.actor, event.verb) == (product, admin_user, "updated")
    assert event.message == "Changed name Lemonade → Pink lemonade."


def test_product_stale_edit_is_refused(admin_client):
    product = f.ProductFactory(name="Lemonade")
    page = admin_client.get(url(Product, "change", product.pk))
    Product.objects.filter(pk=product.pk).update(version=2)  # someone else saved meanwhile
    data = form_data(page) | {"name": "Pink lemonade"}

    response = admin_client.post(url(Product, "change", product.pk), data)

    assert response.status_code == 200
    assert "changed by someone else" in str(response.context["adminform"].form.non_field_errors())
    product.refresh_from_db()
    assert product.name == "Lemonade"
    assert ActivityEvent.objects.count() == 0


def test_a_rule_only_the_service_knows_becomes_a_message(admin_client):
    older = f.ProductFactory()
    newer = f.ProductFactory(predecessor=older)
    page = admin_client.get(url(Product, "change", older.pk))
    data = form_data(page) | {"predecessor": newer.pk}  # a cycle: older ← newer ← older

    response = admin_client.post(url(Product, "change", older.pk), data, follow=True)

    assert response.redirect_chain == [(url(Product, "change", older.pk), 302)]
    messages = [str(m) for m in response.context["messages"]]
    assert messages == ["predecessor: That would make the product its own predecessor."]
    older.refresh_from_db()
    assert (older.predecessor_id, older.version) == (None, 1)
    assert ActivityEvent.objects.count() == 0


def test_line_capacity_edit_replans_the_line(admin_user, admin_client):
    product = f.ProductFactory()
    line = product.production_line
    page = admin_client.get(url(Line, "change", line.pk))
    data = form_data(page) | {"weekly_capacity_hours": "80.0"}

    response = admin_client.post(url(Line, "change", line.pk), data)

    assert response.status_code == 302
    line.refresh_from_db()
    assert (line.weekly_capacity_hours, line.version) == (Decimal("80.0"), 2)
    request = RecomputeRequest.objects.get()
    assert (request.source, request.product_ids, request.line_ids) == (
        "capacity",
        [product.pk],
        [line.pk],
    )
    assert request.requested_by == admin_user


def test_line_capacity_out_of_range_changes_nothing(admin_client):
    line = f.ProductFactory().production_line
    page = admin_client.get(url(Line, "change", line.pk))
    data = form_data(page) | {"weekly_capacity_hours": "200"}

    response = admin_client.post(url(Line, "change", line.pk), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "weekly_capacity_hours": ["Hours must be between 0 and 168 a week."]
    }
    line.refresh_from_db()
    assert (line.weekly_capacity_hours, line.version) == (Decimal("100.0"), 1)
    assert RecomputeRequest.objects.count() == 0


def test_line_cannot_be_added_in_the_admin(admin_client):
    assert admin_client.get(url(Line, "add")).status_code == 403


def test_run_rate_edit_replans_the_line(admin_client):
    rate = f.RunRateFactory()
    page = admin_client.get(url(RunRate, "change", rate.pk))
    data = form_data(page) | {"hours_per_unit": "0.02"}

    response = admin_client.post(url(RunRate, "change", rate.pk), data)

    assert response.status_code == 302
    rate.refresh_from_db()
    assert rate.hours_per_unit == Decimal("0.020000")
    request = RecomputeRequest.objects.get()
    assert (request.source, request.product_ids) == ("capacity", [rate.product_id])
    assert request.reason == f"{rate.product.sku} now takes 0.02 h/unit"


def test_adjustment_edit_goes_through_the_service(admin_client):
    adjustment = f.MarketingAdjustmentFactory(units=50)
    page = admin_client.get(url(MarketingAdjustment, "change", adjustment.pk))
    data = form_data(page) | {"units": "-30", "reason": "Competitor launch"}

    response = admin_client.post(url(MarketingAdjustment, "change", adjustment.pk), data)

    assert response.status_code == 302
    adjustment.refresh_from_db()
    assert (adjustment.units, adjustment.reason, adjustment.version) == (
        -30,
        "Competitor launch",
        2,
    )
    request = RecomputeRequest.objects.get()
    assert (request.source, request.product_ids) == ("adjustment", [adjustment.product_id])


def test_adjustment_add_is_signed_by_the_admin(admin_user, admin_client):
    product = f.ProductFactory()
    week = add_weeks(current_week(), 2)
    response = admin_client.post(
        url(MarketingAdjustment, "add"),
        {"product": product.pk, "week": week.isoformat(), "units": "120", "reason": "Fair"},
    )
    assert response.status_code == 302
    adjustment = MarketingAdjustment.objects.get()
    assert (adjustment.product, adjustment.week, adjustment.units, adjustment.created_by) == (
        product,
        week,
        120,
        admin_user,
    )
    assert RecomputeRequest.objects.get().source == "adjustment"


def test_past_adjustment_is_history(admin_client):
    adjustment = f.MarketingAdjustmentFactory(week=add_weeks(current_week(), -2), units=50)
    before = snapshot(adjustment)

    assert admin_client.get(url(MarketingAdjustment, "change", adjustment.pk)).status_code == 200
    response = admin_client.post(
        url(MarketingAdjustment, "change", adjustment.pk), {"units": "1", "reason": "x"}
    )

    assert response.status_code == 403
    assert snapshot(adjustment) == before
    assert RecomputeRequest.objects.count() == 0
