"""Demo data for the recalls app: one live class II recall with a stop-ship, and one
closed class III recall. Everything goes through the services, so the stop-ship really
holds production, puts the iced-tea promotion at risk and raises the banners.
Re-runnable: a recall already seeded (same title) is left alone."""

from __future__ import annotations

import datetime as dt

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from coordination import demo_registry, roles
from coordination.demo import demo_user
from coordination.models import ActivityEvent, CustomerRequest, Product
from coordination.services import customer_requests as request_services
from coordination.weeks import add_weeks, current_week
from production.models import ProductionHold
from recalls.models import CustomerNotification, RecallIncident, RecallTask, Statement
from recalls.services import communication
from recalls.services import incidents as services

LIVE_TITLE = "Iced Tea Mango 500 ml: caps may not seal"
CLOSED_TITLE = "Sparkling Water Lime 330 ml: best-before date misprinted"
CONTACT = "Brookfield consumer line 0800 555 0142 (8:00–20:00), recall@brookfield.example"


def seed_recalls() -> dict[str, int]:
    created = 0
    if Product.objects.filter(sku="TEA-MAN-05").exists():
        created += _seed_live() is not None
    if Product.objects.filter(sku="SPW-LIM-33").exists():
        created += _seed_closed() is not None
    return {"recalls": RecallIncident.objects.count(), "created": created}


def _people() -> dict:
    return {
        "quality": demo_user(roles.QUALITY),
        "production": demo_user(roles.PRODUCTION),
        "marketing": demo_user(roles.MARKETING),
        "sales": demo_user(roles.SALES),
    }


def _refresh(incident: RecallIncident) -> int:
    return RecallIncident.objects.values_list("version", flat=True).get(pk=incident.pk)


@transaction.atomic
def _seed_live() -> RecallIncident | None:
    """Announced, class II, stop-ship on the mango iced tea (in the winter promotion)."""
    if RecallIncident.objects.filter(title=LIVE_TITLE).exists():
        return None
    people = _people()
    quality, sales = people["quality"], people["sales"]
    product = Product.objects.get(sku="TEA-MAN-05")
    report = request_services.request_log(
        actor=sales,
        customer_name="Greenway Grocers",
        customer_account="BB-1001",
        channel=CustomerRequest.Channel.PHONE,
        kind=CustomerRequest.Kind.QUALITY_ISSUE,
        product=product,
        summary="Caps on Mango iced tea leaking, some bottles bulging",
        details="Three stores found sticky crates; a few bottles hiss when opened.",
        priority=CustomerRequest.Priority.URGENT,
    )
    incident = services.recall_open(
        actor=quality,
        title=LIVE_TITLE,
        classification=RecallIncident.Classification.CLASS_II,
        hazard="A faulty cap liner can let air in: the tea may ferment and build pressure. "
        "Opening the bottle can spray the drink, and spoiled tea can upset the stomach.",
        source=RecallIncident.Source.CUSTOMER,
        product_ids=[product.pk],
        description="Capper head 3 on Bottling 1 applied low torque after the liner supplier "
        "changed. Two lots affected as far as we know; retained samples are being tested.",
        stop_ship=True,
        source_request_ids=[report.pk],
    )
    this_week = current_week()
    for code, weeks_ago, units in (("L-B1-0347", 3, 9600), ("L-B1-0352", 2, 8400)):
        week = add_weeks(this_week, -weeks_ago)
        services.lot_add(
            actor=quality,
            incident_id=incident.pk,
            product_id=product.pk,
            lot_code=code,
            production_week=week,
            best_before=week + dt.timedelta(days=270),
            units=units,
        )
    services.recall_update(
        actor=quality,
        incident_id=incident.pk,
        expected_version=_refresh(incident),
        consumer_instructions="Do not drink it. Check the lot code printed on the bottle "
        "neck; take affected bottles back to the shop for a full refund, opened or not.",
        contact=CONTACT,
    )
    for status in (RecallIncident.Status.INVESTIGATING, RecallIncident.Status.ANNOUNCED):
        services.recall_transition(
            actor=quality, incident_id=incident.pk, expected_version=_refresh(incident), to=status
        )
    _live_communication(incident, people)
    services.recall_record_effectiveness(
        actor=quality,
        incident_id=incident.pk,
        expected_version=_refresh(incident),
        units_distributed=14500,
        units_returned=2100,
        units_destroyed=300,
        units_corrected=0,
        consignees_to_notify=9,
    )
    now = timezone.now()
    _backdate(incident, opened=now - dt.timedelta(days=6), until=now - dt.timedelta(minutes=20))
    return incident


def _live_communication(incident: RecallIncident, people: dict) -> None:
    quality, production = people["quality"], people["production"]
    marketing, sales = people["marketing"], people["sales"]
    today = timezone.localdate()
    tasks = [
        ("Quarantine the remaining stock of both lots", "production", production, 1),
        ("Call the nine customers who received the lots", "sales", sales, 2),
        ("Brief the consumer line with a short FAQ", "marketing", marketing, 1),
        ("Test retained samples for fermentation", "quality", quality, 4),
    ]
    created = [
        communication.task_add(
            actor=quality,
            incident_id=incident.pk,
            title=title,
            department=department,
            owner_id=owner.pk,
            due_date=today + dt.timedelta(days=days),
        )
        for title, department, owner, days in tasks
    ]
    # The warehouse is behind: its task was due two days ago (a service refuses past dates).
    RecallTask.objects.filter(pk=created[0].pk).update(due_date=today - dt.timedelta(days=2))
    communication.task_complete(actor=marketing, task_id=created[2].pk)
    statement = communication.statement_draft(
        actor=marketing,
        incident_id=incident.pk,
        title="Brookfield recalls two lots of Iced Tea Mango 500 ml",
        body="As a precaution, Brookfield Beverages is recalling two lots of Iced Tea Mango "
        "500 ml whose caps may not seal. Please do not drink bottles from these lots and "
        "return them to the shop for a full refund. We are sorry for the inconvenience.",
    )
    communication.statement_submit(
        actor=marketing, statement_id=statement.pk, expected_version=statement.version
    )
    for consignee, account, channel, acknowledged in (
        ("Greenway Grocers", "BB-1001", "phone", True),
        ("Cornerstone Markets", "BB-1003", "email", True),
        ("Sunrise Convenience", "BB-1007", "email", False),
    ):
        communication.notification_log(
            actor=sales,
            incident_id=incident.pk,
            consignee=consignee,
            account=account,
            channel=channel,
            acknowledged=acknowledged,
        )
    # Last, so it is the newest thing on the timeline: the answer is still due.
    now = timezone.now()
    communication.press_inquiry_log(
        actor=marketing,
        incident_id=incident.pk,
        outlet="Daily Courier",
        contact="J. Reyes, j.reyes@dailycourier.example",
        question="How many bottles are affected, and has anyone been taken ill?",
        received_at=now - dt.timedelta(hours=3),
        response_due=now + dt.timedelta(hours=21),
    )


@transaction.atomic
def _seed_closed() -> RecallIncident | None:
    """Class III, found by an internal test, announced, recovered and closed weeks ago."""
    if RecallIncident.objects.filter(title=CLOSED_TITLE).exists():
        return None
    people = _people()
    quality, sales, marketing = people["quality"], people["sales"], people["marketing"]
    product = Product.objects.get(sku="SPW-LIM-33")
    incident = services.recall_open(
        actor=quality,
        title=CLOSED_TITLE,
        classification=RecallIncident.Classification.CLASS_III,
        hazard="The best-before date on the can is 24 months too late. The water is safe; "
        "after the real date it may taste flat.",
        source=RecallIncident.Source.INTERNAL_TEST,
        product_ids=[product.pk],
        description="Found in the weekly retained-sample check.",
    )
    week = add_weeks(current_week(), -14)
    services.lot_add(
        actor=quality,
        incident_id=incident.pk,
        product_id=product.pk,
        lot_code="L-C2-0231",
        production_week=week,
        best_before=week + dt.timedelta(days=365),
        units=24000,
    )
    services.recall_update(
        actor=quality,
        incident_id=incident.pk,
        expected_version=_refresh(incident),
        consumer_instructions="The water is safe to drink. The correct best-before date is "
        "24 months earlier than printed; you may return the cans for a refund.",
        contact=CONTACT,
        root_cause="After a format change the date coder on Canning 2 kept a 36-month shelf "
        "life; the changeover checklist had no date check. Checklist updated, coder locked.",
    )
    for status in (RecallIncident.Status.INVESTIGATING, RecallIncident.Status.ANNOUNCED):
        services.recall_transition(
            actor=quality, incident_id=incident.pk, expected_version=_refresh(incident), to=status
        )
    statement = communication.statement_draft(
        actor=marketing,
        incident_id=incident.pk,
        title="Misprinted date on Sparkling Water Lime cans",
        body="One lot of Sparkling Water Lime 330 ml carries a best-before date 24 months too "
        "late. The water is safe; cans can be returned for a refund.",
    )
    statement = communication.statement_submit(
        actor=marketing, statement_id=statement.pk, expected_version=statement.version
    )
    statement = communication.statement_review(
        actor=quality, statement_id=statement.pk, expected_version=statement.version, approve=True
    )
    communication.statement_publish(
        actor=marketing, statement_id=statement.pk, expected_version=statement.version
    )
    for consignee, account in (
        ("Metro Vending", "BB-1010"),
        ("FreshCo Online", "BB-1012"),
        ("Campus Cafés", "BB-1006"),
        ("Harbour Fitness Club", "BB-1002"),
    ):
        communication.notification_log(
            actor=sales,
            incident_id=incident.pk,
            consignee=consignee,
            account=account,
            channel="email",
            acknowledged=True,
        )
    task = communication.task_add(
        actor=quality,
        incident_id=incident.pk,
        title="Relabel the cans still in the warehouse",
        department="production",
        owner_id=people["production"].pk,
        due_date=timezone.localdate(),
    )
    communication.task_complete(actor=people["production"], task_id=task.pk)
    services.recall_transition(
        actor=quality,
        incident_id=incident.pk,
        expected_version=_refresh(incident),
        to=RecallIncident.Status.RECOVERING,
    )
    services.recall_record_effectiveness(
        actor=quality,
        incident_id=incident.pk,
        expected_version=_refresh(incident),
        units_distributed=24000,
        units_returned=15800,
        units_destroyed=0,
        units_corrected=6900,
        consignees_to_notify=4,
    )
    incident = services.recall_transition(
        actor=quality,
        incident_id=incident.pk,
        expected_version=_refresh(incident),
        to=RecallIncident.Status.CLOSED,
    )
    now = timezone.now()
    _backdate(incident, opened=now - dt.timedelta(days=63), until=now - dt.timedelta(days=21))
    return incident


def _backdate(incident: RecallIncident, *, opened: dt.datetime, until: dt.datetime) -> None:
    """Spread a demo recall's timeline from `opened` to `until`, and give the incident,
    its statement, tasks and notifications the times of their timeline events, so the
    story reads as it would have happened (the services stamp everything "now")."""
    events = list(
        ActivityEvent.objects.filter(
            content_type=ContentType.objects.get_for_model(RecallIncident), object_id=incident.pk
        ).order_by("id")
    )
    step = (until - opened) / max(len(events) - 1, 1)
    when: dict[str, dt.datetime] = {}
    for i, event in enumerate(events):
        at = opened + step * i
        ActivityEvent.objects.filter(pk=event.pk).update(created_at=at)
        when.setdefault(event.data.get("to") or event.message, at)

    def first(prefix: str, suffix: str = "") -> dt.datetime | None:
        return next(
            (at for key, at in when.items() if key.startswith(prefix) and key.endswith(suffix)),
            None,
        )

    fields = {"created_at": opened, "updated_at": until}
    for status, field in (("announced", "announced_at"), ("closed", "closed_at")):
        if status in when:
            fields[field] = when[status]
    if incident.stop_ship:
        fields["stop_ship_since"] = first("Stop-ship placed")
    RecallIncident.objects.filter(pk=incident.pk).update(**fields)
    if incident.stop_ship:
        # Demo only: the hold shows the same start as the stop-ship that placed it.
        ProductionHold.objects.filter(reference=incident.code).update(
            placed_at=fields["stop_ship_since"]
        )
    for statement in Statement.objects.filter(incident=incident):
        Statement.objects.filter(pk=statement.pk).update(
            created_at=first("Drafted") or opened,
            reviewed_at=first("Approved") if statement.reviewed_by_id else None,
            published_at=first("Published") if statement.published_at else None,
        )
    for task in RecallTask.objects.filter(incident=incident):
        created = first("Task for ", f": {task.title}") or opened
        done = first(f"Done: {task.title}") if task.done_at else None
        RecallTask.objects.filter(pk=task.pk).update(
            created_at=created,
            # A finished task was due about a week after it was set; open ones keep theirs.
            due_date=(created + dt.timedelta(days=7)).date() if done else task.due_date,
            done_at=done,
        )
    for notification in CustomerNotification.objects.filter(incident=incident):
        notified = first(f"Notified {notification.consignee} ")
        if notified is not None:
            CustomerNotification.objects.filter(pk=notification.pk).update(notified_at=notified)


def seed_part(say) -> None:
    """A stop-ship holds the plan and promotions seeded before it."""
    recalls = seed_recalls()
    say(f"Recalls: {recalls['recalls']} ({recalls['created']} new).")


def register_demo_parts() -> None:
    demo_registry.register("recalls", seed_part, order=60)
