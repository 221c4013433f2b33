"""Recall incidents: open, edit, move through the workflow, stop-ship, effectiveness.

    open -> investigating -> announced -> recovering -> closed

Announcing needs the public notice (hazard, what consumers should do, a contact) and
at least one affected product; closing needs a root cause, the reconciliation figures and
the stop-ship released. A stop-ship holds production of the products (quotas 0 with the
reason), puts their live promotions at risk and raises a banner on products, promotions
and lines — each through the owning app's services, in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from coordination.models import CustomerRequest, EmailKind, Notice, Product
from coordination.permissions import require_permission
from coordination.services.activity import activity_record
from coordination.services.locking import lock_for_edit, save_new_version
from coordination.services.notices import notices_clear, notices_raise
from coordination.services.notifications import notify_now
from coordination.weeks import current_week, iso_label
from demand.services.promotions import promotions_clear_at_risk, promotions_flag_at_risk
from production.services.holds import hold_place, hold_release
from recalls import selectors
from recalls.models import AffectedLot, RecallIncident

Status = RecallIncident.Status
MANAGE = "recalls.manage_recall"
MANAGE_REFUSED = "Only Quality and Production may manage recall incidents."

TRANSITIONS = {
    Status.OPEN: (Status.INVESTIGATING,),
    Status.INVESTIGATING: (Status.ANNOUNCED,),
    Status.ANNOUNCED: (Status.RECOVERING,),
    Status.RECOVERING: (Status.CLOSED,),
    Status.CLOSED: (),
}
EDITABLE = (
    "title",
    "description",
    "classification",
    "hazard",
    "root_cause",
    "consumer_instructions",
    "contact",
    "owner",
)
RELATED_KINDS = (
    CustomerRequest.Kind.QUALITY_ISSUE,
    CustomerRequest.Kind.COMPLAINT,
    CustomerRequest.Kind.CONCERN,
)
RELATED_DAYS = 365


def _record(incident, actor, message: str, verb: str = "updated", **data) -> None:
    activity_record(target=incident, actor=actor, verb=verb, message=message, data=data)


def _link_related_requests(incident: RecallIncident) -> int:
    since = timezone.now() - dt.timedelta(days=RELATED_DAYS)
    related = CustomerRequest.objects.filter(
        product__in=incident.products.all(), kind__in=RELATED_KINDS, created_at__gte=since
    )
    incident.related_requests.add(*related)
    return related.count()


@transaction.atomic
def recall_open(
    *,
    actor,
    title: str,
    classification: str,
    hazard: str,
    source: str,
    product_ids,
    description: str = "",
    stop_ship: bool = False,
    source_request_ids=(),
    owner=None,
) -> RecallIncident:
    require_permission(actor, MANAGE, MANAGE_REFUSED)
    products = list(Product.objects.filter(pk__in=list(product_ids)))
    errors = {}
    if not products:
        errors["products"] = "Name at least one affected product."
    elif len(products) != len(set(product_ids)):
        errors["products"] = "Some of those products do not exist."
    sources = list(CustomerRequest.objects.filter(pk__in=list(source_request_ids)))
    if len(sources) != len(set(source_request_ids)):
        errors["source_requests"] = "Some of those customer requests do not exist."
    elif any(r.kind != CustomerRequest.Kind.QUALITY_ISSUE for r in sources):
        errors["source_requests"] = "Only quality issues can be escalated to a recall."
    if errors:
        raise ValidationError(errors)
    incident = RecallIncident(
        # A unique placeholder until the id is known (RC-<year>-<id> is unique by id);
        # random, so two recalls opened at the same moment never collide.
        code=f"new-{uuid.uuid4().hex[:16]}",
        title=(title or "").strip(),
        description=(description or "").strip(),
        classification=classification,
        hazard=(hazard or "").strip(),
        source=source,
        owner=owner or actor,
        created_by=actor,
    )
    incident.full_clean(exclude=["code"])
    incident.save()
    incident.code = f"RC-{incident.created_at:%Y}-{incident.pk:04d}"
    incident.save(update_fields=["code"])
    incident.products.set(products)
    incident.source_requests.set(sources)
    linked = _link_related_requests(incident)
    _record(
        incident,
        actor,
        f"Opened {incident.code} ({incident.get_classification_display()}) for "
        f"{', '.join(p.sku for p in products)}; {linked} related customer requests linked.",
        verb="created",
    )
    if stop_ship:
        _place_stop_ship(incident, actor)
    return incident


@transaction.atomic
def recall_update(
    *, actor, incident_id: int, expected_version: int | None, **fields
) -> RecallIncident:
    require_permission(actor, MANAGE, MANAGE_REFUSED)
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise TypeError(f"Unknown recall fields: {sorted(unknown)}")
    incident = lock_for_edit(RecallIncident.objects.all(), incident_id, expected_version)
    if incident.status == Status.CLOSED:
        raise ValidationError("A closed recall is a record: it cannot change.")
    changed = []
    for name, value in fields.items():
        value = value.strip() if isinstance(value, str) else value
        if getattr(incident, name) != value:
            setattr(incident, name, value)
            changed.append(name)
    if not changed:
        return incident
    if incident.is_public and "hazard" in changed and not incident.hazard:
        raise ValidationError({"hazard": "An announced recall must keep its hazard public."})
    incident.full_clean(exclude=["code"])
    save_new_version(incident, changed)
    _record(incident, actor, "Changed " + ", ".join(n.replace("_", " ") for n in changed) + ".")
    return incident


def _announce_errors(incident: RecallIncident) -> dict:
    errors = {}
    if not incident.hazard:
        errors["hazard"] = "Describe the hazard for the public notice."
    if not incident.consumer_instructions:
        errors["consumer_instructions"] = "Say what consumers should do (stop using, return…)."
    if not incident.contact:
        errors["contact"] = "Give a phone number or e-mail consumers can reach."
    if not incident.products.exists():
        errors["products"] = "Name at least one affected product."
    return errors


def _close_errors(incident: RecallIncident) -> dict:
    errors = {}
    if not incident.root_cause:
        errors["root_cause"] = "Record the root cause before closing."
    if not incident.units_distributed or not incident.consignees_to_notify:
        errors["units_distributed"] = (
            "Record the effectiveness figures (units distributed and consignees to notify) "
            "before closing."
        )
    if incident.stop_ship:
        errors["stop_ship"] = "Release the stop-ship before closing."
    return errors


@transaction.atomic
def recall_transition(
    *, actor, incident_id: int, expected_version: int | None, to: str
) -> RecallIncident:
    require_permission(actor, MANAGE, MANAGE_REFUSED)
    incident = lock_for_edit(RecallIncident.objects.all(), incident_id, expected_version)
    old = incident.status
    if to not in TRANSITIONS.get(old, ()):
        target = Status(to).label.lower() if to in Status.values else to
        raise ValidationError(
            {"status": f"A recall that is {incident.get_status_display().lower()} cannot "
             f"become {target}."}
        )  # fmt: skip
    errors = {}
    if to == Status.ANNOUNCED:
        errors = _announce_errors(incident)
    elif to == Status.CLOSED:
        errors = _close_errors(incident)
    if errors:
        raise ValidationError(errors)
    incident.status = to
    fields = ["status"]
    if to == Status.ANNOUNCED:
        incident.announced_at = timezone.now()
        fields.append("announced_at")
    if to == Status.CLOSED:
        incident.closed_at = timezone.now()
        fields.append("closed_at")
    save_new_version(incident, fields)
    _record(
        incident,
        actor,
        f"{Status(old).label} → {incident.get_status_display()}.",
        verb="transitioned",
        **{"from": old, "to": to},
    )
    return incident


# ----------------------------------------------------------------- stop-ship


def _banner_targets(incident: RecallIncident, promotions) -> list:
    products = list(incident.products.select_related("production_line"))
    lines = {p.production_line for p in products if p.production_line is not None}
    return [*products, *promotions, *lines]


def _hold_products(incident: RecallIncident, actor, product_ids: list[int]) -> list:
    """Hold production of these products, put their promotions at risk and raise the
    banners. Returns the promotions put at risk."""
    reason = f"Stop-ship {incident.code}: {incident.title}"
    hold_place(
        product_ids=product_ids,
        reason=reason,
        reference=incident.code,
        actor=actor,
        subject=incident,
    )
    promotions = promotions_flag_at_risk(product_ids=product_ids, reason=reason, actor=actor)
    notices_raise(
        targets=_banner_targets(incident, promotions),
        message=f"Stop-ship {incident.code} ({incident.get_classification_display()}): "
        f"{incident.title}. Production of the affected products is held.",
        reference=incident.code,
        level=Notice.Level.DANGER,
        link=reverse("recall_detail", args=[incident.code]),
    )
    return promotions


def _place_stop_ship(incident: RecallIncident, actor) -> None:
    product_ids = list(incident.products.values_list("pk", flat=True))
    promotions = _hold_products(incident, actor, product_ids)
    incident.stop_ship = True
    incident.stop_ship_since = timezone.now()
    save_new_version(incident, ["stop_ship", "stop_ship_since"])
    _record(
        incident,
        actor,
        f"Stop-ship placed: production held for {len(product_ids)} product(s), "
        f"{len(promotions)} promotion(s) put at risk.",
    )
    notify_now(
        kind=EmailKind.STOP_SHIP,
        # Placed again after a release is a new event: a new message.
        key=f"{incident.code}@{incident.stop_ship_since.isoformat()}",
        subject=f"Stop-ship {incident.code}: {incident.title}",
        template="recalls/email/stop_ship",
        context={
            "incident": incident,
            "products": list(incident.products.order_by("sku")),
            "promotions": promotions,
        },
        link=reverse("recall_detail", args=[incident.code]),
        actor=actor,
    )


def _release_stop_ship(incident: RecallIncident, actor) -> None:
    product_ids = list(incident.products.values_list("pk", flat=True))
    released = hold_release(reference=incident.code, actor=actor, subject=incident)
    # A promotion stays at risk while another recall still stops one of its products.
    still_stopped = set(
        RecallIncident.objects.filter(stop_ship=True)
        .exclude(pk=incident.pk)
        .values_list("products", flat=True)
    )
    promotions = promotions_clear_at_risk(
        product_ids=product_ids,
        reason=f"Stop-ship {incident.code} released.",
        actor=actor,
        keep_product_ids=still_stopped,
    )
    notices_clear(reference=incident.code)
    incident.stop_ship = False
    save_new_version(incident, ["stop_ship"])
    _record(
        incident,
        actor,
        f"Stop-ship released: {released} product hold(s) lifted, "
        f"{len(promotions)} promotion(s) no longer at risk.",
    )


@transaction.atomic
def recall_set_stop_ship(
    *, actor, incident_id: int, expected_version: int | None, stop: bool
) -> RecallIncident:
    require_permission(actor, MANAGE, MANAGE_REFUSED)
    incident = lock_for_edit(RecallIncident.objects.all(), incident_id, expected_version)
    if incident.status == Status.CLOSED:
        raise ValidationError("The recall is closed.")
    if stop and not incident.stop_ship:
        _place_stop_ship(incident, actor)
    elif not stop and incident.stop_ship:
        _release_stop_ship(incident, actor)
    return incident


# ---------------------------------------------------------------------- lots


def _not_in_recall(incident: RecallIncident, product: Product) -> str:
    """Why a lot of a product outside the recall needs an explicit add_product."""
    if not incident.stop_ship:
        return (
            f"{product.sku} is not in this recall. Confirm adding the product to the recall "
            "(a stop-ship would then hold its production too)."
        )
    impact = selectors.hold_impact(product)
    consequences = ["its production is held at 0"]
    if impact.firm_units:
        consequences.append(f"{impact.firm_units:,} units of firm orders are not made")
    if impact.promotions == 1:
        consequences.append("1 promotion is put at risk")
    elif impact.promotions:
        consequences.append(f"{impact.promotions} promotions are put at risk")
    said = (
        ", ".join(consequences[:-1]) + " and " + consequences[-1]
        if len(consequences) > 1
        else consequences[0]
    )
    return (
        f"{product.sku} is not in this recall. Adding it stops its shipping: {said}. "
        "Confirm adding the product to the recall to go ahead."
    )


def _lot_exists_error(incident, product, lot_code, production_week) -> dict:
    same = AffectedLot.objects.filter(incident=incident, product=product)
    if lot_code and same.filter(lot_code=lot_code).exists():
        return {"lot_code": f"Lot {lot_code} of {product.sku} is already in this recall."}
    if not lot_code and same.filter(lot_code="", production_week=production_week).exists():
        return {
            "production_week": f"Production week {iso_label(production_week)} of "
            f"{product.sku} is already in this recall."
        }
    return {}


@transaction.atomic
def lot_add(
    *,
    actor,
    incident_id: int,
    product_id: int,
    lot_code: str = "",
    production_week=None,
    best_before=None,
    units: int = 0,
    add_product: bool = False,
) -> AffectedLot:
    """Record a lot (or a whole production week) of a product. A product not yet in the
    recall joins it only with add_product: under a stop-ship that holds its production."""
    require_permission(actor, MANAGE, MANAGE_REFUSED)
    incident = RecallIncident.objects.select_for_update().get(pk=incident_id)
    if incident.status == Status.CLOSED:
        raise ValidationError("The recall is closed.")
    lot_code = (lot_code or "").strip()
    if not lot_code and production_week is None:
        raise ValidationError({"lot_code": "Give a lot code or a production week."})
    try:
        units = int(units or 0)
    except (TypeError, ValueError) as exc:
        raise ValidationError({"units": "Enter a whole number of units."}) from exc
    errors = {}
    if units < 0:
        errors["units"] = "Units cannot be negative."
    if production_week is not None and production_week > current_week():
        errors["production_week"] = (
            f"{iso_label(production_week)} is in the future: a lot is produced this week "
            "or earlier."
        )
    product = Product.objects.get(pk=product_id)
    newly_affected = not incident.products.filter(pk=product.pk).exists()
    if newly_affected and not add_product:
        errors["product"] = _not_in_recall(incident, product)
    if not errors:
        errors = _lot_exists_error(incident, product, lot_code, production_week)
    if errors:
        raise ValidationError(errors)
    lot = AffectedLot(
        incident=incident,
        product=product,
        lot_code=lot_code,
        production_week=production_week,
        best_before=best_before,
        units=units,
    )
    try:
        with transaction.atomic():
            lot.save()
    except IntegrityError as exc:  # the same lot recorded at the same moment elsewhere
        raise ValidationError(
            _lot_exists_error(incident, product, lot_code, production_week) or str(exc)
        ) from exc
    if newly_affected:
        incident.products.add(product)
        _link_related_requests(incident)
        if incident.stop_ship:
            _hold_products(incident, actor, [product.pk])
    message = f"Affected: {product.sku} lot {lot}, {units:,} units."
    if newly_affected:
        message += f" {product.sku} joins the recall" + (
            " and its production is held." if incident.stop_ship else "."
        )
    _record(incident, actor, message)
    return lot


# ------------------------------------------------------------ effectiveness


@transaction.atomic
def recall_record_effectiveness(
    *,
    actor,
    incident_id: int,
    expected_version: int | None,
    units_distributed: int,
    units_returned: int,
    units_destroyed: int,
    units_corrected: int,
    consignees_to_notify: int,
) -> RecallIncident:
    require_permission(actor, MANAGE, MANAGE_REFUSED)
    incident = lock_for_edit(RecallIncident.objects.all(), incident_id, expected_version)
    if incident.status == Status.CLOSED:
        # Closing checked these figures; changing them afterwards would undo that.
        raise ValidationError("A closed recall is a record: it cannot change.")
    values = {
        "units_distributed": units_distributed,
        "units_returned": units_returned,
        "units_destroyed": units_destroyed,
        "units_corrected": units_corrected,
        "consignees_to_notify": consignees_to_notify,
    }
    errors = {}
    for name, value in values.items():
        try:
            values[name] = int(value)
        except (TypeError, ValueError):
            errors[name] = "Enter a whole number."
            continue
        if values[name] < 0:
            errors[name] = "Cannot be negative."
    if not errors:
        recovered = values["units_returned"] + values["units_destroyed"] + values["units_corrected"]
        if recovered > values["units_distributed"]:
            errors["units_distributed"] = (
                f"{recovered:,} units recovered is more than the {values['units_distributed']:,} "
                "distributed: check the figures."
            )
        notified = incident.notifications.count()
        if values["consignees_to_notify"] < notified:
            errors["consignees_to_notify"] = (
                f"{notified} consignees are already recorded as notified."
            )
    if errors:
        raise ValidationError(errors)
    for name, value in values.items():
        setattr(incident, name, value)
    save_new_version(incident, list(values))
    _record(
        incident,
        actor,
        f"Effectiveness: {incident.units_recovered:,} of {incident.units_distributed:,} units "
        f"recovered, {incident.units_unaccounted:,} unaccounted.",
    )
    return incident
