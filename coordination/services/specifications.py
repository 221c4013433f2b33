"""The specification change workflow.

draft -> proposed (Marketing or Sales) -> approved or rejected (Production, with a
feasibility note and the unit-cost impact). Approving a version effective from week W
ends the version in force at W the week before, and versions scheduled from W or later
that never took effect are superseded.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from coordination.models import CustomerRequest, Product, Specification
from coordination.permissions import require_permission
from coordination.selectors.products import current_specification
from coordination.services.activity import activity_record
from coordination.services.locking import lock_for_edit, save_new_version
from coordination.weeks import add_weeks, current_week, iso_label

MAX_ITEMS = 30
MAX_ITEM_LENGTH = 80

PROPOSE_PERMISSION = "coordination.propose_specification"
REVIEW_PERMISSION = "coordination.review_specification"


def clean_spec_items(field: str, values: Iterable[str] | None) -> list[str]:
    """Trimmed, non-empty, de-duplicated (case-insensitive) entries, order kept."""
    if values is None:
        return []
    if isinstance(values, str):
        raise ValidationError({field: "Give a list of entries, one per item."})
    cleaned: list[str] = []
    seen: set[str] = set()
    for raw in values:
        if not isinstance(raw, str):
            raise ValidationError({field: "Each entry must be text."})
        item = " ".join(raw.split())
        if not item:
            continue
        if len(item) > MAX_ITEM_LENGTH:
            raise ValidationError(
                {field: f"“{item[:20]}…” is longer than {MAX_ITEM_LENGTH} characters."}
            )
        if item.casefold() in seen:
            continue
        seen.add(item.casefold())
        cleaned.append(item)
    if len(cleaned) > MAX_ITEMS:
        raise ValidationError({field: f"At most {MAX_ITEMS} entries ({len(cleaned)} given)."})
    return cleaned


def _validate_effective_week(week, field: str = "effective_from") -> None:
    if week is None:
        raise ValidationError({field: "Choose the week the change takes effect."})
    if week.weekday() != 0:
        raise ValidationError({field: "The effective week must be given as its Monday."})
    if week < current_week():
        raise ValidationError(
            {field: f"{iso_label(week)} has already started: choose this week or a later one."}
        )


def _cited(product: Product, request_ids: Iterable[int] | None) -> list[CustomerRequest]:
    ids = sorted(set(request_ids or []))
    if not ids:
        return []
    found = list(CustomerRequest.objects.filter(pk__in=ids))
    missing = sorted(set(ids) - {r.pk for r in found})
    if missing:
        raise ValidationError(
            {"cited_requests": f"No customer request with id {', '.join(map(str, missing))}."}
        )
    wrong = [r.pk for r in found if r.product_id not in (None, product.pk)]
    if wrong:
        raise ValidationError(
            {
                "cited_requests": "Requests "
                + ", ".join(f"#{pk}" for pk in wrong)
                + f" are about another product, not {product.sku}."
            }
        )
    return found


@transaction.atomic
def specification_create(
    *,
    actor,
    product_id: int,
    colours=None,
    package_sizes=None,
    features=None,
    materials=None,
    effective_from=None,
    rationale: str = "",
    cited_request_ids=None,
    propose: bool = False,
) -> Specification:
    """A new draft version (or, with propose=True, a proposal in one step)."""
    require_permission(
        actor, PROPOSE_PERMISSION, "Your role may not propose specification changes."
    )
    # Lock the product so two drafts cannot take the same version number.
    product = Product.objects.select_for_update().get(pk=product_id)
    if product.lifecycle == Product.Lifecycle.DISCONTINUED:
        raise ValidationError(f"{product.sku} is discontinued: its specification is closed.")
    spec = Specification(
        product=product,
        number=(product.specifications.aggregate(n=Max("number"))["n"] or 0) + 1,
        colours=clean_spec_items("colours", colours),
        package_sizes=clean_spec_items("package_sizes", package_sizes),
        features=clean_spec_items("features", features),
        materials=clean_spec_items("materials", materials),
        effective_from=effective_from,
        rationale=(rationale or "").strip(),
        author=actor,
    )
    _validate_draft(spec)
    cited = _cited(product, cited_request_ids)
    spec.save()
    spec.cited_requests.set(cited)
    activity_record(target=spec, actor=actor, verb="created", message=f"Drafted v{spec.number}.")
    if propose:
        return specification_propose(actor=actor, spec_id=spec.pk, expected_version=spec.version)
    return spec


def _validate_draft(spec: Specification) -> None:
    errors = {}
    if not spec.rationale:
        errors["rationale"] = "Say why this change is needed: what customers or the market ask."
    if spec.effective_from is None:
        errors["effective_from"] = "Choose the week the change takes effect."
    if not any(spec.as_dict().values()):
        errors["colours"] = "A specification needs at least one colour, size, feature or material."
    if errors:
        raise ValidationError(errors)
    _validate_effective_week(spec.effective_from)


@transaction.atomic
def specification_update(
    *, actor, spec_id: int, expected_version: int | None, cited_request_ids=None, **fields
) -> Specification:
    spec = lock_for_edit(Specification.objects.select_related("product"), spec_id, expected_version)
    require_permission(actor, PROPOSE_PERMISSION, "Your role may not edit specification drafts.")
    if spec.status != Specification.Status.DRAFT:
        raise ValidationError(
            f"v{spec.number} is {spec.get_status_display().lower()}: only drafts can be edited."
        )
    for name in Specification.SPEC_FIELDS:
        if name in fields:
            setattr(spec, name, clean_spec_items(name, fields.pop(name)))
    if "effective_from" in fields:
        spec.effective_from = fields.pop("effective_from")
    if "rationale" in fields:
        spec.rationale = (fields.pop("rationale") or "").strip()
    if fields:
        raise TypeError(f"Unknown specification fields: {sorted(fields)}")
    _validate_draft(spec)
    save_new_version(spec, [*Specification.SPEC_FIELDS, "effective_from", "rationale"])
    if cited_request_ids is not None:
        spec.cited_requests.set(_cited(spec.product, cited_request_ids))
    activity_record(target=spec, actor=actor, verb="updated", message="Edited the draft.")
    return spec


@transaction.atomic
def specification_propose(*, actor, spec_id: int, expected_version: int | None) -> Specification:
    spec = lock_for_edit(Specification.objects.select_related("product"), spec_id, expected_version)
    require_permission(
        actor, PROPOSE_PERMISSION, "Your role may not propose specification changes."
    )
    if spec.status != Specification.Status.DRAFT:
        raise ValidationError(f"Only a draft can be proposed; v{spec.number} is {spec.status}.")
    _validate_draft(spec)
    current = current_specification(spec.product)
    if current is not None and current.as_dict() == spec.as_dict():
        raise ValidationError(
            f"v{spec.number} is identical to the specification in force (v{current.number})."
        )
    spec.status = Specification.Status.PROPOSED
    spec.proposed_at = timezone.now()
    save_new_version(spec, ["status", "proposed_at"])
    activity_record(
        target=spec,
        actor=actor,
        verb="transitioned",
        message=f"Proposed v{spec.number} effective {spec.effective_label}.",
        data={"from": "draft", "to": "proposed"},
    )
    return spec


@transaction.atomic
def specification_withdraw(*, actor, spec_id: int, expected_version: int | None) -> Specification:
    spec = lock_for_edit(Specification.objects.all(), spec_id, expected_version)
    require_permission(actor, PROPOSE_PERMISSION, "Your role may not withdraw proposals.")
    if spec.status != Specification.Status.PROPOSED:
        raise ValidationError(f"Only a proposal can be withdrawn; v{spec.number} is {spec.status}.")
    spec.status = Specification.Status.DRAFT
    spec.proposed_at = None
    save_new_version(spec, ["status", "proposed_at"])
    activity_record(
        target=spec,
        actor=actor,
        verb="transitioned",
        message=f"Withdrew v{spec.number} back to draft.",
        data={"from": "proposed", "to": "draft"},
    )
    return spec


def _validate_review(feasibility_note: str, unit_cost_impact) -> tuple[str, Decimal]:
    errors = {}
    note = (feasibility_note or "").strip()
    if not note:
        errors["feasibility_note"] = "Explain whether and how production can make this."
    if unit_cost_impact in (None, ""):
        errors["unit_cost_impact"] = "Give the change in unit cost (0 if none)."
    else:
        try:
            unit_cost_impact = Decimal(str(unit_cost_impact)).quantize(Decimal("0.01"))
        except ArithmeticError:
            errors["unit_cost_impact"] = "Enter an amount such as 0.35 or -0.10."
    if errors:
        raise ValidationError(errors)
    return note, unit_cost_impact


@transaction.atomic
def specification_approve(
    *,
    actor,
    spec_id: int,
    expected_version: int | None,
    feasibility_note: str,
    unit_cost_impact,
    effective_from=None,
) -> Specification:
    spec = lock_for_edit(Specification.objects.select_related("product"), spec_id, expected_version)
    require_permission(
        actor, REVIEW_PERMISSION, "Only Production may approve specification changes."
    )
    if spec.status != Specification.Status.PROPOSED:
        raise ValidationError(f"Only a proposal can be approved; v{spec.number} is {spec.status}.")
    note, impact = _validate_review(feasibility_note, unit_cost_impact)
    week = effective_from or spec.effective_from
    _validate_effective_week(week)
    _supersede_from(spec, week, actor)
    spec.status = Specification.Status.APPROVED
    spec.effective_from = week
    spec.reviewed_by = actor
    spec.reviewed_at = timezone.now()
    spec.feasibility_note = note
    spec.unit_cost_impact = impact
    save_new_version(
        spec,
        ["status", "effective_from", "reviewed_by", "reviewed_at", "feasibility_note",
         "unit_cost_impact"],
    )  # fmt: skip
    activity_record(
        target=spec,
        actor=actor,
        verb="transitioned",
        message=f"Approved v{spec.number} effective {spec.effective_label}; "
        f"unit cost impact {impact:+}. {note}",
        data={"from": "proposed", "to": "approved"},
    )
    return spec


def _supersede_from(spec: Specification, week, actor) -> None:
    approved = spec.product.specifications.select_for_update().filter(
        status=Specification.Status.APPROVED
    )
    for older in approved.filter(effective_from__gte=week):
        older.status = Specification.Status.SUPERSEDED
        save_new_version(older, ["status"])
        activity_record(
            target=older,
            actor=actor,
            verb="transitioned",
            message=f"Superseded by v{spec.number} before taking effect.",
            data={"from": "approved", "to": "superseded"},
        )
    in_force = approved.filter(effective_from__lt=week).filter(
        Q(effective_until__isnull=True) | Q(effective_until__gte=week)
    )
    for older in in_force:
        older.effective_until = add_weeks(week, -1)
        save_new_version(older, ["effective_until"])
        activity_record(
            target=older,
            actor=actor,
            verb="updated",
            message=f"Ends {iso_label(older.effective_until)}: v{spec.number} follows.",
        )


@transaction.atomic
def specification_reject(
    *, actor, spec_id: int, expected_version: int | None, feasibility_note: str, unit_cost_impact
) -> Specification:
    spec = lock_for_edit(Specification.objects.all(), spec_id, expected_version)
    require_permission(
        actor, REVIEW_PERMISSION, "Only Production may reject specification changes."
    )
    if spec.status != Specification.Status.PROPOSED:
        raise ValidationError(f"Only a proposal can be rejected; v{spec.number} is {spec.status}.")
    note, impact = _validate_review(feasibility_note, unit_cost_impact)
    spec.status = Specification.Status.REJECTED
    spec.reviewed_by = actor
    spec.reviewed_at = timezone.now()
    spec.feasibility_note = note
    spec.unit_cost_impact = impact
    save_new_version(
        spec, ["status", "reviewed_by", "reviewed_at", "feasibility_note", "unit_cost_impact"]
    )
    activity_record(
        target=spec,
        actor=actor,
        verb="transitioned",
        message=f"Rejected v{spec.number}: {note}",
        data={"from": "proposed", "to": "rejected"},
    )
    return spec


@transaction.atomic
def specification_record_initial(
    *, actor, product_id: int, effective_from, rationale: str, **items
) -> Specification:
    """The first specification of a product set up by Production (no proposal needed)."""
    require_permission(
        actor, REVIEW_PERMISSION, "Only Production may record a product's first specification."
    )
    product = Product.objects.select_for_update().get(pk=product_id)
    if product.specifications.exists():
        raise ValidationError(f"{product.sku} already has a specification: propose a change.")
    spec = Specification(
        product=product,
        number=1,
        status=Specification.Status.APPROVED,
        effective_from=effective_from,
        rationale=rationale,
        author=actor,
        reviewed_by=actor,
        reviewed_at=timezone.now(),
        feasibility_note="Initial specification recorded by production.",
        unit_cost_impact=Decimal("0.00"),
        **{name: clean_spec_items(name, items.get(name)) for name in Specification.SPEC_FIELDS},
    )
    spec.full_clean()
    spec.save()
    activity_record(target=spec, actor=actor, verb="created", message="Recorded v1.")
    return spec
