"""Recall services: opening, the workflow per role, effectiveness arithmetic, lots,
tasks, press inquiries, statements (four eyes) and consignee notifications."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from coordination import roles
from coordination.errors import StaleEditError
from coordination.models import ActivityEvent, CustomerRequest
from coordination.services.locking import UNCHECKED
from coordination.weeks import add_weeks, current_week, iso_label
from demand.models import Promotion
from production.models import ProductionHold
from recalls.models import (
    AffectedLot,
    CustomerNotification,
    PressInquiry,
    RecallIncident,
    RecallTask,
    Statement,
)
from recalls.selectors import Effectiveness, effectiveness
from recalls.services import communication, incidents
from tests.factories import (
    CustomerRequestFactory,
    DemandForecastFactory,
    PromotionItemFactory,
)
from tests.recalls.task_rule import TITLE, add_samples_task, refusal

pytestmark = pytest.mark.django_db

MANAGERS = ["production_user", "quality_user", "admin_user"]
NOT_MANAGERS = ["marketing_user", "sales_user"]
STEPS = [
    ("open", "investigating"),
    ("investigating", "announced"),
    ("announced", "recovering"),
    ("recovering", "closed"),
]
NOT_MANAGER_MESSAGE = "Only Quality and Production may manage recall incidents."


def open_recall(actor, products, **overrides) -> RecallIncident:
    fields = {
        "title": "Glass fragments in lemon tea",
        "classification": RecallIncident.Classification.CLASS_I,
        "hazard": "Glass fragments can cut the mouth.",
        "source": RecallIncident.Source.INTERNAL_TEST,
    }
    fields.update(overrides)
    return incidents.recall_open(actor=actor, product_ids=[p.pk for p in products], **fields)


def fresh(incident: RecallIncident) -> RecallIncident:
    return RecallIncident.objects.get(pk=incident.pk)


def make_closable(incident: RecallIncident, actor) -> RecallIncident:
    """Everything announcing and closing need: the public notice, a root cause, figures."""
    incidents.recall_update(
        actor=actor,
        incident_id=incident.pk,
        expected_version=UNCHECKED,
        consumer_instructions="Stop using it and return it for a refund.",
        contact="0800 123 456, recall@example.com",
        root_cause="A cracked filler nozzle.",
    )
    incidents.recall_record_effectiveness(
        actor=actor,
        incident_id=incident.pk,
        expected_version=UNCHECKED,
        units_distributed=1000,
        units_returned=700,
        units_destroyed=200,
        units_corrected=0,
        consignees_to_notify=4,
    )
    return fresh(incident)


def walk_to(incident: RecallIncident, actor, status: str) -> RecallIncident:
    make_closable(incident, actor)
    for _, new in STEPS:
        if fresh(incident).status == status:
            break
        incidents.recall_transition(
            actor=actor, incident_id=incident.pk, expected_version=UNCHECKED, to=new
        )
    incident = fresh(incident)
    assert incident.status == status
    return incident


def snapshot(incident: RecallIncident) -> tuple:
    row = RecallIncident.objects.filter(pk=incident.pk).values().get()
    return row, ActivityEvent.objects.count()


def timeline(incident: RecallIncident) -> list[tuple]:
    return list(
        ActivityEvent.objects.filter(content_type__model="recallincident", object_id=incident.pk)
        .order_by("id")
        .values_list("actor__username", "verb", "message")
    )


# ---------------------------------------------------------------------------- open


def test_opening_generates_the_code_and_links_the_customer_requests(quality_user, tea, mint):
    source = CustomerRequestFactory(product=tea, kind="quality_issue", summary="Glass in tea")
    complaint = CustomerRequestFactory(product=tea, kind="complaint")
    concern = CustomerRequestFactory(product=tea, kind="concern")
    CustomerRequestFactory(product=tea, kind="need")  # not about a defect
    CustomerRequestFactory(product=mint, kind="complaint")  # another product
    old = CustomerRequestFactory(product=tea, kind="complaint")
    CustomerRequest.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - dt.timedelta(days=400)
    )

    incident = open_recall(
        quality_user,
        [tea],
        source=RecallIncident.Source.CUSTOMER,
        source_request_ids=[source.pk],
    )

    incident = fresh(incident)
    assert incident.code == f"RC-{incident.created_at:%Y}-{incident.pk:04d}"
    assert (incident.status, incident.version, incident.stop_ship) == ("open", 1, False)
    assert (incident.owner, incident.created_by) == (quality_user, quality_user)
    assert list(incident.products.all()) == [tea]
    assert list(incident.source_requests.all()) == [source]
    assert sorted(incident.related_requests.values_list("pk", flat=True)) == [
        source.pk,
        complaint.pk,
        concern.pk,
    ]
    assert timeline(incident) == [
        (
            "quinn",
            "created",
            f"Opened {incident.code} (Class I — serious harm likely) for TEA-LEM-05; "
            "3 related customer requests linked.",
        )
    ]


def test_two_recalls_get_distinct_codes(quality_user, tea):
    first = open_recall(quality_user, [tea])
    second = open_recall(quality_user, [tea])
    year = timezone.now().year
    assert [first.code, second.code] == [
        f"RC-{year}-{first.pk:04d}",
        f"RC-{year}-{second.pk:04d}",
    ]


@pytest.mark.parametrize("role", NOT_MANAGERS)
def test_marketing_and_sales_cannot_open_a_recall(role, request, tea):
    with pytest.raises(PermissionDenied, match=NOT_MANAGER_MESSAGE):
        open_recall(request.getfixturevalue(role), [tea])
    assert RecallIncident.objects.count() == 0


@pytest.mark.parametrize("role", MANAGERS)
def test_quality_production_and_admin_open_recalls(role, request, tea):
    actor = request.getfixturevalue(role)
    incident = open_recall(actor, [tea])
    assert fresh(incident).created_by == actor


def test_opening_refuses_bad_products_and_sources(quality_user, tea):
    need = CustomerRequestFactory(product=tea, kind="need")
    with pytest.raises(ValidationError) as no_products:
        open_recall(quality_user, [])
    assert no_products.value.message_dict == {"products": ["Name at least one affected product."]}
    with pytest.raises(ValidationError) as unknown:
        incidents.recall_open(
            actor=quality_user,
            title="x",
            classification="class_ii",
            hazard="y",
            source="customer",
            product_ids=[tea.pk, 999_999],
            source_request_ids=[999_999],
        )
    assert unknown.value.message_dict == {
        "products": ["Some of those products do not exist."],
        "source_requests": ["Some of those customer requests do not exist."],
    }
    with pytest.raises(ValidationError) as not_quality:
        open_recall(quality_user, [tea], source_request_ids=[need.pk])
    assert not_quality.value.message_dict == {
        "source_requests": ["Only quality issues can be escalated to a recall."]
    }
    with pytest.raises(ValidationError) as bad_class:
        open_recall(quality_user, [tea], classification="class_iv")
    assert list(bad_class.value.message_dict) == ["classification"]
    assert RecallIncident.objects.count() == 0


# ---------------------------------------------------------------------- workflow


@pytest.mark.parametrize("role", MANAGERS)
def test_quality_production_and_admin_move_a_recall_through_every_step(
    role, request, quality_user, tea
):
    actor = request.getfixturevalue(role)
    incident = make_closable(open_recall(quality_user, [tea]), quality_user)
    for _, new in STEPS:
        version = fresh(incident).version
        moved = incidents.recall_transition(
            actor=actor, incident_id=incident.pk, expected_version=version, to=new
        )
        assert (moved.status, moved.version) == (new, version + 1)
        assert fresh(incident).status == new
    incident = fresh(incident)
    assert incident.announced_at is not None
    assert incident.closed_at is not None
    transitions = list(
        ActivityEvent.objects.filter(object_id=incident.pk, verb="transitioned")
        .order_by("id")
        .values_list("actor__username", "message", "data")
    )
    assert transitions == [
        (actor.username, "Open → Investigating.", {"from": "open", "to": "investigating"}),
        (
            actor.username,
            "Investigating → Announced.",
            {"from": "investigating", "to": "announced"},
        ),
        (actor.username, "Announced → Recovering.", {"from": "announced", "to": "recovering"}),
        (actor.username, "Recovering → Closed.", {"from": "recovering", "to": "closed"}),
    ]


@pytest.mark.parametrize("role", NOT_MANAGERS)
@pytest.mark.parametrize(("start", "target"), STEPS)
def test_marketing_and_sales_cannot_move_a_recall(role, start, target, request, quality_user, tea):
    incident = walk_to(open_recall(quality_user, [tea]), quality_user, start)
    before = snapshot(incident)
    with pytest.raises(PermissionDenied, match=NOT_MANAGER_MESSAGE):
        incidents.recall_transition(
            actor=request.getfixturevalue(role),
            incident_id=incident.pk,
            expected_version=incident.version,
            to=target,
        )
    assert snapshot(incident) == before


LABEL = {s.value: s.label.lower() for s in RecallIncident.Status}
ILLEGAL = [
    (start, target)
    for start in LABEL
    for target in [*LABEL, "bogus"]
    if (start, target) not in STEPS
]


@pytest.mark.parametrize(("start", "target"), ILLEGAL)
def test_illegal_jumps_are_refused_with_a_clear_message(start, target, quality_user, tea):
    incident = walk_to(open_recall(quality_user, [tea]), quality_user, start)
    before = snapshot(incident)
    with pytest.raises(ValidationError) as refused:
        incidents.recall_transition(
            actor=quality_user, incident_id=incident.pk, expected_version=UNCHECKED, to=target
        )
    assert refused.value.message_dict == {
        "status": [f"A recall that is {LABEL[start]} cannot become {LABEL.get(target, target)}."]
    }
    assert snapshot(incident) == before


def test_announcing_needs_the_public_notice(quality_user, tea):
    incident = open_recall(quality_user, [tea])
    incidents.recall_transition(
        actor=quality_user, incident_id=incident.pk, expected_version=1, to="investigating"
    )
    before = snapshot(incident)
    with pytest.raises(ValidationError) as refused:
        incidents.recall_transition(
            actor=quality_user, incident_id=incident.pk, expected_version=2, to="announced"
        )
    assert refused.value.message_dict == {
        "consumer_instructions": ["Say what consumers should do (stop using, return…)."],
        "contact": ["Give a phone number or e-mail consumers can reach."],
    }
    assert snapshot(incident) == before


def test_closing_needs_a_root_cause_the_figures_and_no_stop_ship(quality_user, tea):
    incident = open_recall(quality_user, [tea], stop_ship=True)
    incidents.recall_update(
        actor=quality_user,
        incident_id=incident.pk,
        expected_version=UNCHECKED,
        consumer_instructions="Return it.",
        contact="0800 123 456",
    )
    for _, new in STEPS[:3]:
        incidents.recall_transition(
            actor=quality_user, incident_id=incident.pk, expected_version=UNCHECKED, to=new
        )
    before = snapshot(incident)
    with pytest.raises(ValidationError) as refused:
        incidents.recall_transition(
            actor=quality_user, incident_id=incident.pk, expected_version=UNCHECKED, to="closed"
        )
    assert refused.value.message_dict == {
        "root_cause": ["Record the root cause before closing."],
        "units_distributed": [
            "Record the effectiveness figures (units distributed and consignees to notify) "
            "before closing."
        ],
        "stop_ship": ["Release the stop-ship before closing."],
    }
    assert snapshot(incident) == before
    # With a root cause but still no figures, closing stays refused.
    incidents.recall_update(
        actor=quality_user,
        incident_id=incident.pk,
        expected_version=UNCHECKED,
        root_cause="Nozzle.",
    )
    incidents.recall_set_stop_ship(
        actor=quality_user, incident_id=incident.pk, expected_version=UNCHECKED, stop=False
    )
    with pytest.raises(ValidationError) as still:
        incidents.recall_transition(
            actor=quality_user, incident_id=incident.pk, expected_version=UNCHECKED, to="closed"
        )
    assert list(still.value.message_dict) == ["units_distributed"]
    assert fresh(incident).status == "recovering"


def test_a_stale_version_is_refused_and_changes_nothing(quality_user, production_user, tea):
    incident = open_recall(quality_user, [tea])
    incidents.recall_update(
        actor=production_user, incident_id=incident.pk, expected_version=1, title="Glass"
    )
    before = snapshot(incident)
    with pytest.raises(StaleEditError):
        incidents.recall_transition(
            actor=quality_user, incident_id=incident.pk, expected_version=1, to="investigating"
        )
    with pytest.raises(StaleEditError):
        incidents.recall_update(
            actor=quality_user, incident_id=incident.pk, expected_version=1, title="Other"
        )
    assert snapshot(incident) == before
    assert fresh(incident).title == "Glass"


def test_an_update_records_what_changed_and_a_closed_recall_is_a_record(quality_user, tea):
    incident = open_recall(quality_user, [tea])
    unchanged = incidents.recall_update(
        actor=quality_user, incident_id=incident.pk, expected_version=1, title=incident.title
    )
    assert unchanged.version == 1
    incidents.recall_update(
        actor=quality_user,
        incident_id=incident.pk,
        expected_version=1,
        title="  Glass in lemon tea ",
        root_cause="Nozzle",
    )
    assert (fresh(incident).title, fresh(incident).version) == ("Glass in lemon tea", 2)
    assert timeline(incident)[-1] == ("quinn", "updated", "Changed title, root cause.")
    closed = walk_to(incident, quality_user, "closed")
    before = snapshot(closed)
    with pytest.raises(
        ValidationError, match=re.escape("A closed recall is a record: it cannot change.")
    ):
        incidents.recall_update(
            actor=quality_user, incident_id=incident.pk, expected_version=UNCHECKED, title="New"
        )
    assert snapshot(closed) == before


# ------------------------------------------------------------------ effectiveness


def record(incident, actor, **figures):
    values = {
        "units_distributed": 0,
        "units_returned": 0,
        "units_destroyed": 0,
        "units_corrected": 0,
        "consignees_to_notify": 0,
    }
    values.update(figures)
    return incidents.recall_record_effectiveness(
        actor=actor, incident_id=incident.pk, expected_version=UNCHECKED, **values
    )


def notify(incident, actor, count: int, acknowledged: int = 0) -> None:
    CustomerNotification.objects.bulk_create(
        CustomerNotification(
            incident=incident,
            consignee=f"Shop {n:05d}",
            channel="email",
            notified_at=timezone.now(),
            notified_by=actor,
            acknowledged=n < acknowledged,
        )
        for n in range(count)
    )


def test_effectiveness_arithmetic_and_the_check_level_per_class(quality_user, tea):
    incident = open_recall(quality_user, [tea])
    assert effectiveness(fresh(incident)) == Effectiveness(
        distributed=0,
        recovered=0,
        returned=0,
        destroyed=0,
        corrected=0,
        unaccounted=0,
        recovered_pct=None,
        consignees=0,
        notified=0,
        acknowledged=0,
        notified_pct=None,
        check_level_pct=Decimal("100"),
        meets_check_level=False,
    )
    record(
        incident,
        quality_user,
        units_distributed=1200,
        units_returned=500,
        units_destroyed=250,
        units_corrected=50,
        consignees_to_notify=8,
    )
    notify(incident, quality_user, 3, acknowledged=2)
    figures = effectiveness(fresh(incident))
    assert figures == Effectiveness(
        distributed=1200,
        recovered=800,
        returned=500,
        destroyed=250,
        corrected=50,
        unaccounted=400,
        recovered_pct=Decimal("66.7"),
        consignees=8,
        notified=3,
        acknowledged=2,
        notified_pct=Decimal("37.5"),
        check_level_pct=Decimal("100"),
        meets_check_level=False,
    )
    # Reconciliation: every distributed unit is recovered or unaccounted.
    assert figures.distributed == figures.recovered + figures.unaccounted
    assert timeline(incident)[-1] == (
        "quinn",
        "updated",
        "Effectiveness: 800 of 1,200 units recovered, 400 unaccounted.",
    )
    expected = {"class_i": ("100", False), "class_ii": ("25", True), "class_iii": ("10", True)}
    for classification, (level, meets) in expected.items():
        RecallIncident.objects.filter(pk=incident.pk).update(classification=classification)
        figures = effectiveness(fresh(incident))
        assert (figures.check_level_pct, figures.meets_check_level) == (Decimal(level), meets)


def test_the_check_level_is_met_exactly_and_not_by_rounding(quality_user, tea):
    incident = open_recall(quality_user, [tea], classification="class_iii")
    record(incident, quality_user, consignees_to_notify=201)
    notify(incident, quality_user, 20)
    figures = effectiveness(fresh(incident))
    # 20 of 201 is 9.95 %: shown rounded as 10.0 but short of the 10 % class III check.
    assert (figures.notified_pct, figures.meets_check_level) == (Decimal("10.0"), False)
    CustomerNotification.objects.create(
        incident=incident,
        consignee="Shop 99999",
        channel="phone",
        notified_at=timezone.now(),
        notified_by=quality_user,
    )
    figures = effectiveness(fresh(incident))
    assert (figures.notified_pct, figures.meets_check_level) == (Decimal("10.4"), True)
    record(incident, quality_user, consignees_to_notify=210)
    figures = effectiveness(fresh(incident))
    assert (figures.notified_pct, figures.meets_check_level) == (Decimal("10.0"), True)


@pytest.mark.parametrize(
    ("figures", "errors"),
    [
        (
            {"units_distributed": 100, "units_returned": 60, "units_destroyed": 41},
            {
                "units_distributed": [
                    "101 units recovered is more than the 100 distributed: check the figures."
                ]
            },
        ),
        (
            {"units_distributed": -1, "units_corrected": -5},
            {
                "units_distributed": ["Cannot be negative."],
                "units_corrected": ["Cannot be negative."],
            },
        ),
        ({"consignees_to_notify": "many"}, {"consignees_to_notify": ["Enter a whole number."]}),
        (
            {"consignees_to_notify": 1},
            {"consignees_to_notify": ["2 consignees are already recorded as notified."]},
        ),
    ],
)
def test_invalid_figures_are_refused_and_change_nothing(figures, errors, quality_user, tea):
    incident = open_recall(quality_user, [tea])
    record(incident, quality_user, units_distributed=10, consignees_to_notify=5)
    notify(incident, quality_user, 2)
    before = snapshot(incident)
    with pytest.raises(ValidationError) as refused:
        record(incident, quality_user, **{"consignees_to_notify": 5, **figures})
    assert refused.value.message_dict == errors
    assert snapshot(incident) == before


@pytest.mark.parametrize("role", NOT_MANAGERS)
def test_marketing_and_sales_cannot_record_figures(role, request, quality_user, tea):
    incident = open_recall(quality_user, [tea])
    before = snapshot(incident)
    with pytest.raises(PermissionDenied):
        record(incident, request.getfixturevalue(role), units_distributed=5)
    assert snapshot(incident) == before


def test_the_figures_of_a_closed_recall_cannot_change(quality_user, tea):
    incident = walk_to(open_recall(quality_user, [tea]), quality_user, "closed")
    before = snapshot(incident)
    with pytest.raises(
        ValidationError, match=re.escape("A closed recall is a record: it cannot change.")
    ):
        record(incident, quality_user)
    assert snapshot(incident) == before


def test_the_database_refuses_more_recovered_than_distributed(quality_user, tea):
    incident = open_recall(quality_user, [tea])
    with pytest.raises(IntegrityError), transaction.atomic():
        RecallIncident.objects.filter(pk=incident.pk).update(units_distributed=5, units_returned=6)


# ---------------------------------------------------------------------------- lots


def test_lots_by_code_or_week_and_a_new_product_joins_the_recall(quality_user, tea, mint):
    incident = open_recall(quality_user, [tea])
    complaint = CustomerRequestFactory(product=mint, kind="complaint")
    week = add_weeks(current_week(), -3)
    by_code = incidents.lot_add(
        actor=quality_user,
        incident_id=incident.pk,
        product_id=tea.pk,
        lot_code=" L-0042 ",
        units=500,
    )
    by_week = incidents.lot_add(
        actor=quality_user,
        incident_id=incident.pk,
        product_id=mint.pk,
        production_week=week,
        units="250",
        add_product=True,
    )
    assert list(
        AffectedLot.objects.order_by("id").values_list(
            "product__sku", "lot_code", "production_week", "units"
        )
    ) == [("TEA-LEM-05", "L-0042", None, 500), ("TEA-MNT-01", "", week, 250)]
    assert (by_code.lot_code, by_week.units) == ("L-0042", 250)
    assert sorted(fresh(incident).products.values_list("sku", flat=True)) == [
        "TEA-LEM-05",
        "TEA-MNT-01",
    ]
    assert list(fresh(incident).related_requests.all()) == [complaint]
    assert timeline(incident)[-2:] == [
        ("quinn", "updated", "Affected: TEA-LEM-05 lot L-0042, 500 units."),
        (
            "quinn",
            "updated",
            f"Affected: TEA-MNT-01 lot {week}, 250 units. TEA-MNT-01 joins the recall.",
        ),
    ]


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({}, {"lot_code": ["Give a lot code or a production week."]}),
        ({"lot_code": "L-1", "units": -1}, {"units": ["Units cannot be negative."]}),
        ({"lot_code": "L-1", "units": "lots"}, {"units": ["Enter a whole number of units."]}),
    ],
)
def test_bad_lots_are_refused(fields, errors, quality_user, tea):
    incident = open_recall(quality_user, [tea])
    with pytest.raises(ValidationError) as refused:
        incidents.lot_add(actor=quality_user, incident_id=incident.pk, product_id=tea.pk, **fields)
    assert refused.value.message_dict == errors
    assert AffectedLot.objects.count() == 0


def lot_state(incident) -> tuple:
    """Everything a refused lot must leave alone."""
    return (
        snapshot(incident),
        sorted(fresh(incident).products.values_list("sku", flat=True)),
        list(AffectedLot.objects.order_by("id").values_list("id", "lot_code", "units")),
        list(ProductionHold.objects.values_list("product__sku", "released_at")),
        list(Promotion.objects.order_by("id").values_list("id", "at_risk_reason")),
    )


@pytest.mark.parametrize(
    ("stop_ship", "message"),
    [
        (
            False,
            "TEA-MNT-01 is not in this recall. Confirm adding the product to the recall "
            "(a stop-ship would then hold its production too).",
        ),
        (
            True,
            "TEA-MNT-01 is not in this recall. Adding it stops its shipping: its production "
            "is held at 0, 25,000 units of firm orders are not made and 2 promotions are put "
            "at risk. Confirm adding the product to the recall to go ahead.",
        ),
    ],
)
def test_a_product_outside_the_recall_joins_only_when_asked(
    quality_user, tea, mint, stop_ship, message
):
    incident = open_recall(quality_user, [tea], stop_ship=stop_ship)
    # A 25,000-unit rush order over the next weeks (and one already past), two promotions.
    for offset, firm in ((-1, 4000.0), (0, 10000.0), (1, 10000.0), (2, 5000.0)):
        DemandForecastFactory(
            product=mint, week=add_weeks(current_week(), offset), firm_orders=firm
        )
    for status in ("planned", "confirmed", "cancelled"):
        PromotionItemFactory(product=mint, promotion__status=status)
    before = lot_state(incident)

    with pytest.raises(ValidationError) as refused:
        incidents.lot_add(
            actor=quality_user, incident_id=incident.pk, product_id=mint.pk, lot_code="M-1"
        )

    assert refused.value.message_dict == {"product": [message]}
    assert lot_state(incident) == before


@pytest.mark.parametrize(
    ("first", "again", "errors"),
    [
        (
            {"lot_code": "L-0042"},
            {"lot_code": " L-0042 ", "units": 5},
            {"lot_code": ["Lot L-0042 of TEA-LEM-05 is already in this recall."]},
        ),
        (
            {"production_week": -2},
            {"production_week": -2, "units": 7},
            {"production_week": ["Production week W-2 of TEA-LEM-05 is already in this recall."]},
        ),
    ],
)
def test_a_lot_is_recorded_once_per_product_and_incident(
    quality_user, tea, mint, first, again, errors
):
    week = add_weeks(current_week(), -2)
    first = {k: week if k == "production_week" else v for k, v in first.items()}
    again = {k: week if k == "production_week" else v for k, v in again.items()}
    errors = {k: [m.replace("W-2", iso_label(week)) for m in v] for k, v in errors.items()}
    incident = open_recall(quality_user, [tea, mint])
    other = open_recall(quality_user, [tea], title="Another recall")
    incidents.lot_add(actor=quality_user, incident_id=incident.pk, product_id=tea.pk, **first)
    before = lot_state(incident)

    with pytest.raises(ValidationError) as refused:
        incidents.lot_add(actor=quality_user, incident_id=incident.pk, product_id=tea.pk, **again)
    assert refused.value.message_dict == errors
    assert lot_state(incident) == before
    # The same code or week of another product, or in another recall, is another lot.
    incidents.lot_add(actor=quality_user, incident_id=incident.pk, product_id=mint.pk, **again)
    incidents.lot_add(actor=quality_user, incident_id=other.pk, product_id=tea.pk, **again)
    assert AffectedLot.objects.count() == 3


@pytest.mark.parametrize(
    "fields",
    [
        {"lot_code": "L-1", "production_week": "2026-01-05"},
        {"lot_code": "", "production_week": "2026-01-05"},
    ],
)
def test_the_database_refuses_a_second_copy_of_a_lot(quality_user, tea, fields):
    incident = open_recall(quality_user, [tea])
    AffectedLot.objects.create(incident=incident, product=tea, **fields)

    with pytest.raises(IntegrityError), transaction.atomic():
        AffectedLot.objects.create(incident=incident, product=tea, units=3, **fields)

    assert AffectedLot.objects.count() == 1


def test_a_lot_is_not_produced_in_a_future_week(quality_user, tea):
    incident = open_recall(quality_user, [tea])
    next_week = add_weeks(current_week(), 1)
    before = lot_state(incident)

    with pytest.raises(ValidationError) as refused:
        incidents.lot_add(
            actor=quality_user,
            incident_id=incident.pk,
            product_id=tea.pk,
            production_week=next_week,
        )
    assert refused.value.message_dict == {
        "production_week": [
            f"{iso_label(next_week)} is in the future: a lot is produced this week or earlier."
        ]
    }
    assert lot_state(incident) == before
    this_week = incidents.lot_add(
        actor=quality_user,
        incident_id=incident.pk,
        product_id=tea.pk,
        production_week=current_week(),
    )
    assert this_week.production_week == current_week()


def test_marketing_cannot_add_lots(quality_user, marketing_user, tea):
    incident = open_recall(quality_user, [tea])
    with pytest.raises(PermissionDenied):
        incidents.lot_add(
            actor=marketing_user, incident_id=incident.pk, product_id=tea.pk, lot_code="L"
        )
    assert AffectedLot.objects.count() == 0


# --------------------------------------------------------------------------- tasks


def test_tasks_have_a_department_owner_and_due_date_and_flag_overdue(
    quality_user, production_user, tea
):
    incident = open_recall(quality_user, [tea])
    due = timezone.localdate() + dt.timedelta(days=3)
    task = communication.task_add(
        actor=quality_user,
        incident_id=incident.pk,
        title=" Quarantine stock in the warehouse ",
        department="production",
        owner_id=production_user.pk,
        due_date=due,
    )
    assert (task.title, task.department, task.owner, task.due_date, task.is_overdue) == (
        "Quarantine stock in the warehouse",
        "production",
        production_user,
        due,
        False,
    )
    RecallTask.objects.filter(pk=task.pk).update(
        due_date=timezone.localdate() - dt.timedelta(days=1)
    )
    task.refresh_from_db()
    assert task.is_overdue is True
    done = communication.task_complete(actor=production_user, task_id=task.pk)
    assert done.done_at is not None
    task.refresh_from_db()
    assert task.is_overdue is False  # done: no longer overdue
    with pytest.raises(ValidationError, match=re.escape("The task is already done.")):
        communication.task_complete(actor=production_user, task_id=task.pk)
    assert timeline(incident)[-2:] == [
        (
            "quinn",
            "updated",
            f"Task for {production_user} (Production): Quarantine stock in the warehouse",
        ),
        ("petra", "updated", "Done: Quarantine stock in the warehouse"),
    ]


def test_bad_tasks_are_refused(quality_user, production_user, sales_user, tea):
    incident = open_recall(quality_user, [tea])
    with pytest.raises(ValidationError) as refused:
        communication.task_add(
            actor=quality_user,
            incident_id=incident.pk,
            title=" ",
            department="quality",
            owner_id=production_user.pk,
            due_date=timezone.localdate() - dt.timedelta(days=1),
        )
    assert refused.value.message_dict == {
        "title": ["Say what needs doing."],
        "owner": [f"{production_user} does not work in Quality."],
        "due_date": ["The due date has passed."],
    }
    with pytest.raises(PermissionDenied, match=re.escape("Your role may not add recall tasks.")):
        communication.task_add(
            actor=sales_user,
            incident_id=incident.pk,
            title="Call shops",
            department="sales",
            owner_id=sales_user.pk,
            due_date=timezone.localdate(),
        )
    assert RecallTask.objects.count() == 0


# Every role, and someone with none, against Quality's task owned by quinn.
TASK_COMPLETERS = [
    ("quinn", roles.QUALITY, True),  # the owner
    ("quincy", roles.QUALITY, True),  # the department
    ("petra", roles.PRODUCTION, True),  # a recall manager
    ("ada", roles.ADMIN, True),
    ("sam", roles.SALES, False),
    ("mara", roles.MARKETING, False),
    ("otto", None, False),
]


@pytest.mark.parametrize(("username", "role", "allowed"), TASK_COMPLETERS)
def test_a_task_is_completed_by_its_owner_department_or_the_recall_managers(
    make_user, quality_user, tea, username, role, allowed
):
    incident = open_recall(quality_user, [tea])
    task = add_samples_task(incident, quality_user)
    actor = (
        quality_user if username == "quinn" else make_user(*filter(None, [role]), username=username)
    )
    before = snapshot(incident)

    assert communication.task_may_change(actor, task) is allowed
    if allowed:
        communication.task_complete(actor=actor, task_id=task.pk)
        task.refresh_from_db()
        assert task.done_at is not None
        assert timeline(incident)[-1] == (username, "updated", f"Done: {TITLE}")
        return
    with pytest.raises(PermissionDenied) as denied:
        communication.task_complete(actor=actor, task_id=task.pk)
    assert str(denied.value) == refusal(quality_user)
    task.refresh_from_db()
    assert task.done_at is None
    assert snapshot(incident) == before


def test_sales_completes_a_sales_task_it_does_not_own(make_user, quality_user, sales_user, tea):
    incident = open_recall(quality_user, [tea])
    task = communication.task_add(
        actor=quality_user,
        incident_id=incident.pk,
        title="Call the shops",
        department="sales",
        owner_id=sales_user.pk,
        due_date=timezone.localdate(),
    )
    colleague = make_user(roles.SALES, username="sally")

    assert communication.task_may_change(make_user(roles.MARKETING), task) is False
    done = communication.task_complete(actor=colleague, task_id=task.pk)

    assert done.done_at is not None


def test_a_closed_recall_takes_no_new_tasks_press_statements_or_notifications(
    quality_user, marketing_user, tea
):
    incident = walk_to(open_recall(quality_user, [tea]), quality_user, "closed")
    before = snapshot(incident)
    calls = [
        lambda: communication.task_add(
            actor=quality_user,
            incident_id=incident.pk,
            title="Late",
            department="quality",
            owner_id=quality_user.pk,
            due_date=timezone.localdate(),
        ),
        lambda: communication.press_inquiry_log(
            actor=marketing_user,
            incident_id=incident.pk,
            outlet="Daily",
            contact="ed@daily.example",
            question="?",
            response_due=timezone.now() + dt.timedelta(hours=2),
        ),
        lambda: communication.statement_draft(
            actor=marketing_user, incident_id=incident.pk, title="T", body="B"
        ),
        lambda: communication.notification_log(
            actor=quality_user, incident_id=incident.pk, consignee="Shop", channel="email"
        ),
    ]
    for call in calls:
        with pytest.raises(ValidationError, match=re.escape("The recall is closed.")):
            call()
    assert snapshot(incident) == before


# --------------------------------------------------------------------------- press


def test_press_inquiries_are_logged_and_answered_by_marketing(marketing_user, quality_user, tea):
    incident = open_recall(quality_user, [tea])
    received = timezone.now() - dt.timedelta(hours=1)
    due = timezone.now() + dt.timedelta(hours=3)
    inquiry = communication.press_inquiry_log(
        actor=marketing_user,
        incident_id=incident.pk,
        outlet=" Daily Courier ",
        contact="ed@courier.example",
        question="How many bottles are affected?",
        received_at=received,
        response_due=due,
    )
    assert (inquiry.outlet, inquiry.status, inquiry.is_overdue) == ("Daily Courier", "open", False)
    PressInquiry.objects.filter(pk=inquiry.pk).update(response_due=received)
    inquiry.refresh_from_db()
    assert inquiry.is_overdue is True
    with pytest.raises(ValidationError) as empty:
        communication.press_inquiry_answer(actor=marketing_user, inquiry_id=inquiry.pk, answer=" ")
    assert empty.value.message_dict == {"answer": ["Write the answer given to the outlet."]}
    answered = communication.press_inquiry_answer(
        actor=marketing_user, inquiry_id=inquiry.pk, answer="About 1,000 bottles."
    )
    assert (answered.status, answered.answer, answered.answered_by, answered.is_overdue) == (
        "answered",
        "About 1,000 bottles.",
        marketing_user,
        False,
    )
    with pytest.raises(ValidationError, match=re.escape("This inquiry has already been answered.")):
        communication.press_inquiry_answer(actor=marketing_user, inquiry_id=inquiry.pk, answer="x")
    declined = communication.press_inquiry_log(
        actor=marketing_user,
        incident_id=incident.pk,
        outlet="Tabloid",
        contact="t@tabloid.example",
        question="Who is to blame?",
        response_due=due,
    )
    declined = communication.press_inquiry_answer(
        actor=marketing_user, inquiry_id=declined.pk, answer="", decline=True
    )
    assert (declined.status, declined.answer) == ("declined", "")
    assert [m for _, _, m in timeline(incident)[-4:]] == [
        f"Press inquiry from Daily Courier, due {due:%d %b %H:%M}.",
        "Answered the inquiry from Daily Courier.",
        f"Press inquiry from Tabloid, due {due:%d %b %H:%M}.",
        "Declined to comment the inquiry from Tabloid.",
    ]


@pytest.mark.parametrize("role", ["sales_user", "production_user", "quality_user"])
def test_only_marketing_handles_the_press(role, request, quality_user, tea):
    incident = open_recall(quality_user, [tea])
    with pytest.raises(
        PermissionDenied, match=re.escape("Only Marketing handles press inquiries.")
    ):
        communication.press_inquiry_log(
            actor=request.getfixturevalue(role),
            incident_id=incident.pk,
            outlet="Daily",
            contact="ed@daily.example",
            question="?",
            response_due=timezone.now() + dt.timedelta(hours=2),
        )
    assert PressInquiry.objects.count() == 0


def test_an_answer_cannot_be_due_before_the_question(marketing_user, quality_user, tea):
    incident = open_recall(quality_user, [tea])
    now = timezone.now()
    with pytest.raises(ValidationError) as refused:
        communication.press_inquiry_log(
            actor=marketing_user,
            incident_id=incident.pk,
            outlet="Daily",
            contact="ed@daily.example",
            question="?",
            received_at=now,
            response_due=now - dt.timedelta(minutes=1),
        )
    assert refused.value.message_dict == {
        "response_due": ["The answer cannot be due before the question."]
    }
    assert PressInquiry.objects.count() == 0


# ---------------------------------------------------------------------- statements


def draft(actor, incident, title="We are recalling lemon tea") -> Statement:
    return communication.statement_draft(
        actor=actor, incident_id=incident.pk, title=title, body="Stop drinking it; return it."
    )


def test_a_statement_is_drafted_submitted_approved_by_another_role_and_published(
    marketing_user, quality_user, tea
):
    incident = open_recall(quality_user, [tea])
    statement = draft(marketing_user, incident)
    assert (statement.status, statement.version, statement.author) == ("draft", 1, marketing_user)
    statement = communication.statement_submit(
        actor=marketing_user, statement_id=statement.pk, expected_version=1
    )
    assert (statement.status, statement.version) == ("submitted", 2)
    with pytest.raises(
        ValidationError,
        match=re.escape("The statement is waiting for approval: it cannot be published."),
    ):
        communication.statement_publish(
            actor=marketing_user, statement_id=statement.pk, expected_version=2
        )
    statement = communication.statement_review(
        actor=quality_user,
        statement_id=statement.pk,
        expected_version=2,
        approve=True,
        note="Fine.",
    )
    assert (statement.status, statement.reviewed_by, statement.review_note) == (
        "approved",
        quality_user,
        "Fine.",
    )
    statement = communication.statement_publish(
        actor=marketing_user, statement_id=statement.pk, expected_version=3
    )
    assert (statement.status, statement.version) == ("published", 4)
    assert statement.published_at is not None
    assert [m for _, _, m in timeline(incident)[-4:]] == [
        "Drafted the statement “We are recalling lemon tea”.",
        "Submitted “We are recalling lemon tea” for approval.",
        "Approved “We are recalling lemon tea”. Fine.",
        "Published “We are recalling lemon tea”.",
    ]


def test_the_author_cannot_approve_their_own_statement(
    admin_user, marketing_user, quality_user, tea
):
    incident = open_recall(quality_user, [tea])
    # Admin may both draft and approve: the four-eyes rule still stops them.
    statement = draft(admin_user, incident)
    communication.statement_submit(actor=admin_user, statement_id=statement.pk, expected_version=1)
    before = list(Statement.objects.values())
    for approve in (True, False):
        with pytest.raises(
            PermissionDenied, match=re.escape("A statement cannot be approved by its author.")
        ):
            communication.statement_review(
                actor=admin_user,
                statement_id=statement.pk,
                expected_version=2,
                approve=approve,
                note="x",
            )
    # Marketing drafts but has no approval right at all.
    other = draft(marketing_user, incident, title="Second")
    communication.statement_submit(actor=marketing_user, statement_id=other.pk, expected_version=1)
    with pytest.raises(
        PermissionDenied, match=re.escape("Your role may not approve recall statements.")
    ):
        communication.statement_review(
            actor=marketing_user, statement_id=other.pk, expected_version=2, approve=True
        )
    assert list(Statement.objects.filter(pk=statement.pk).values()) == before
    assert Statement.objects.get(pk=other.pk).status == "submitted"


def test_the_database_also_refuses_a_review_by_the_author(marketing_user, quality_user, tea):
    statement = draft(marketing_user, open_recall(quality_user, [tea]))
    with pytest.raises(IntegrityError), transaction.atomic():
        Statement.objects.filter(pk=statement.pk).update(reviewed_by=marketing_user)


def test_a_sent_back_statement_needs_a_note_and_is_edited_and_resubmitted(
    marketing_user, quality_user, make_user, tea
):
    incident = open_recall(quality_user, [tea])
    statement = draft(marketing_user, incident)
    communication.statement_submit(
        actor=marketing_user, statement_id=statement.pk, expected_version=1
    )
    with pytest.raises(ValidationError) as no_note:
        communication.statement_review(
            actor=quality_user, statement_id=statement.pk, expected_version=2, approve=False
        )
    assert no_note.value.message_dict == {
        "note": ["Say what must change before it can be approved."]
    }
    rejected = communication.statement_review(
        actor=quality_user,
        statement_id=statement.pk,
        expected_version=2,
        approve=False,
        note="Add the lot.",
    )
    assert (rejected.status, rejected.review_note) == ("rejected", "Add the lot.")
    colleague = make_user("Marketing", username="mo")
    with pytest.raises(
        PermissionDenied, match=re.escape("Only the author edits a draft statement.")
    ):
        communication.statement_edit(
            actor=colleague, statement_id=statement.pk, expected_version=3, title="T", body="B"
        )
    edited = communication.statement_edit(
        actor=marketing_user,
        statement_id=statement.pk,
        expected_version=3,
        title="Lot L-1",
        body="B",
    )
    assert (edited.status, edited.title, edited.version) == ("draft", "Lot L-1", 4)
    with pytest.raises(PermissionDenied, match=re.escape("Only the author submits")):
        communication.statement_submit(
            actor=colleague, statement_id=statement.pk, expected_version=4
        )
    with pytest.raises(StaleEditError):
        communication.statement_submit(
            actor=marketing_user, statement_id=statement.pk, expected_version=3
        )
    submitted = communication.statement_submit(
        actor=marketing_user, statement_id=statement.pk, expected_version=4
    )
    assert submitted.status == "submitted"


def test_only_marketing_drafts_statements(quality_user, sales_user, tea):
    incident = open_recall(quality_user, [tea])
    for actor in (quality_user, sales_user):
        with pytest.raises(
            PermissionDenied, match=re.escape("Only Marketing drafts recall statements.")
        ):
            draft(actor, incident)
    assert Statement.objects.count() == 0


# ------------------------------------------------------------------- notifications


def test_consignees_are_notified_once_each(sales_user, quality_user, tea):
    incident = open_recall(quality_user, [tea])
    first = communication.notification_log(
        actor=sales_user,
        incident_id=incident.pk,
        consignee=" Greenway Grocers ",
        account="GG-1",
        channel="phone",
        acknowledged=True,
    )
    assert (first.consignee, first.channel, first.notified_by, first.acknowledged) == (
        "Greenway Grocers",
        "phone",
        sales_user,
        True,
    )
    with pytest.raises(ValidationError) as duplicate:
        communication.notification_log(
            actor=quality_user,
            incident_id=incident.pk,
            consignee="Greenway Grocers",
            channel="email",
        )
    assert duplicate.value.message_dict == {"consignee": ["Greenway Grocers is already recorded."]}
    with pytest.raises(ValidationError) as future:
        communication.notification_log(
            actor=sales_user,
            incident_id=incident.pk,
            consignee="Corner Shop",
            channel="email",
            notified_at=timezone.now() + dt.timedelta(days=1),
        )
    assert future.value.message_dict == {"notified_at": ["A notification cannot be in the future."]}
    with pytest.raises(ValidationError) as nameless:
        communication.notification_log(
            actor=sales_user, incident_id=incident.pk, consignee=" ", channel="email"
        )
    assert nameless.value.message_dict == {
        "consignee": ["Name the consignee told about the recall."]
    }
    assert list(CustomerNotification.objects.values_list("consignee", "channel")) == [
        ("Greenway Grocers", "phone")
    ]
    assert effectiveness(fresh(incident)).notified == 1
    assert timeline(incident)[-1] == ("sam", "updated", "Notified Greenway Grocers by Phone.")


def test_marketing_does_not_log_notifications(marketing_user, quality_user, tea):
    incident = open_recall(quality_user, [tea])
    with pytest.raises(
        PermissionDenied, match=re.escape("Your role may not log consignee notifications.")
    ):
        communication.notification_log(
            actor=marketing_user, incident_id=incident.pk, consignee="Shop", channel="email"
        )
    assert CustomerNotification.objects.count() == 0


# ------------------------------------------------------------------------ timeline


def test_every_change_is_on_the_timeline_with_who_and_when(quality_user, production_user, tea):
    incident = open_recall(quality_user, [tea])
    incidents.recall_transition(
        actor=production_user, incident_id=incident.pk, expected_version=1, to="investigating"
    )
    incidents.recall_set_stop_ship(
        actor=production_user, incident_id=incident.pk, expected_version=2, stop=True
    )
    incidents.recall_set_stop_ship(
        actor=quality_user, incident_id=incident.pk, expected_version=3, stop=False
    )
    assert [(who, verb) for who, verb, _ in timeline(incident)] == [
        ("quinn", "created"),
        ("petra", "transitioned"),
        ("petra", "updated"),
        ("quinn", "updated"),
    ]
    assert [m for _, _, m in timeline(incident)[2:]] == [
        "Stop-ship placed: production held for 1 product(s), 0 promotion(s) put at risk.",
        "Stop-ship released: 1 product hold(s) lifted, 0 promotion(s) no longer at risk.",
    ]
    stamps = list(
        ActivityEvent.objects.filter(object_id=incident.pk, content_type__model="recallincident")
        .order_by("id")
        .values_list("created_at", flat=True)
    )
    assert all(stamp is not None for stamp in stamps)
    assert stamps == sorted(stamps)
    assert (
        ProductionHold.objects.filter(reference=incident.code, released_at__isnull=True).count()
        == 0
    )
