"""Promotions: marketing creates, edits, plans, confirms and cancels them.

Saving a promotion that is (or was) planned or confirmed asks the planning pipeline to
recompute the affected products in the same transaction, so production builds ahead
of it. Drafts are marketing's scratch space and change nothing downstream.

    draft ──> planned ──> confirmed
      ^  \\_______________/   |
      └──── cancelled <───────┘
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse

from coordination.models import EmailKind, Product, RecomputeRequest
from coordination.permissions import require_permission
from coordination.services.activity import activity_record
from coordination.services.locking import lock_for_edit, save_new_version
from coordination.services.notifications import absolute, notify_now
from coordination.services.recompute import recompute_request
from coordination.weeks import current_week, iso_label, weeks_between
from demand.models import Promotion, PromotionItem
from demand.selectors.lift import learned_shares, suggest_lift
from demand.selectors.promotions import promotions_a_hold_puts_at_risk

Status = Promotion.Status

TRANSITIONS = {
    Status.DRAFT: {Status.PLANNED, Status.CONFIRMED, Status.CANCELLED},
    Status.PLANNED: {Status.DRAFT, Status.CONFIRMED, Status.CANCELLED},
    Status.CONFIRMED: {Status.PLANNED, Status.CANCELLED},
    Status.CANCELLED: {Status.DRAFT},
}
FIELDS = ("name", "channel", "discount_pct", "start_week", "end_week", "notes")
# The statuses a new promotion may start in: not cancelled.
STARTING_STATUSES = (Status.DRAFT, *Promotion.PLANNING_STATUSES)
END_BEFORE_START = "end_before_start"  # the error code of check_period


def _clean_items(items) -> list[tuple[Product, Decimal]]:
    """[(product, lift)] from [{"product": Product|id|sku, "expected_lift_pct": ...}]."""
    if not items:
        raise ValidationError({"items": "Add at least one product to the promotion."})
    errors: dict[str, list[str]] = {}
    cleaned = []
    wanted = [
        item.get("product").pk if isinstance(item.get("product"), Product) else item.get("product")
        for item in items
    ]
    by_id = {p.pk: p for p in Product.objects.filter(pk__in=[w for w in wanted if w])}
    seen = set()
    for index, item in enumerate(items):
        key = f"items.{index}"
        product = by_id.get(wanted[index])
        if product is None:
            errors.setdefault(f"{key}.product", []).append("Choose a product.")
            continue
        if product.lifecycle == Product.Lifecycle.DISCONTINUED:
            errors.setdefault(f"{key}.product", []).append(
                f"{product.sku} is discontinued and cannot be promoted."
            )
        if product.pk in seen:
            errors.setdefault(f"{key}.product", []).append(
                f"{product.sku} is already in this promotion."
            )
        seen.add(product.pk)
        try:
            lift = Decimal(str(item.get("expected_lift_pct"))).quantize(Decimal("0.1"))
        except (InvalidOperation, TypeError, ValueError):
            errors.setdefault(f"{key}.expected_lift_pct", []).append(
                "Enter the expected lift as a percentage, e.g. 35."
            )
            continue
        if not PromotionItem.MIN_LIFT <= lift <= PromotionItem.MAX_LIFT:
            errors.setdefault(f"{key}.expected_lift_pct", []).append(
                f"A lift of {lift}% is outside the sane range "
                f"{PromotionItem.MIN_LIFT}% to +{PromotionItem.MAX_LIFT}%."
            )
        cleaned.append((product, lift))
    if errors:
        raise ValidationError(errors)
    return cleaned


def check_period(start, end) -> None:
    """A promotion ends on or after its start week. The form and the serializer run this
    too, beside their field checks, and word the error for their audience."""
    if start and end and end < start:
        raise ValidationError(
            {
                "end_week": ValidationError(
                    "The promotion must end on or after its start week.", code=END_BEFORE_START
                )
            }
        )


def _validate(
    promotion: Promotion, *, creating: bool, items=None, check_length: bool = False,
    confirm_long: bool = False,
):  # fmt: skip
    """Check the promotion and (if given) its items; report every error at once.
    Returns the cleaned items. With `check_length`, a promotion longer than
    settings.LONG_PROMOTION_WEEKS needs `confirm_long` (a typo in a year is common)."""
    errors: dict[str, list[str]] = {}
    start, end = promotion.start_week, promotion.end_week
    try:
        check_period(start, end)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    else:
        if creating and end and end < current_week():
            errors["end_week"] = [f"{iso_label(end)} has passed: plan a future promotion."]
        weeks = weeks_between(start, end) + 1 if start and end else 0
        if check_length and weeks > settings.LONG_PROMOTION_WEEKS and not confirm_long:
            errors["confirm_long"] = [
                f"{promotion.period_label} is {weeks} weeks, longer than "
                f"{settings.LONG_PROMOTION_WEEKS}: confirm that the promotion really runs "
                "that long."
            ]
    if not errors:
        try:
            promotion.full_clean(exclude=["created_by", "updated_by"])
        except ValidationError as exc:
            errors.update(exc.message_dict)
    cleaned = None
    if items is not None:
        try:
            cleaned = _clean_items(items)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return cleaned


def _save_items(promotion: Promotion, items: list[tuple[Product, Decimal]]) -> None:
    promotion.items.all().delete()
    rows = []
    for product, lift in items:
        suggestion = suggest_lift(
            product=product, discount_pct=promotion.discount_pct, exclude_promotion=promotion.pk
        )
        rows.append(
            PromotionItem(
                promotion=promotion,
                product=product,
                expected_lift_pct=lift,
                suggested_lift_pct=suggestion.suggested_pct,
                suggestion_evidence=suggestion.evidence[:200],
            )
        )
    PromotionItem.objects.bulk_create(rows)


def _affects_plan(*statuses: str) -> bool:
    return any(status in Promotion.PLANNING_STATUSES for status in statuses)


def _request_recompute(promotion: Promotion, product_ids, actor, what: str):
    # Siblings that past promotions of these products took sales from (or lifted) are
    # re-forecast too: the promotion changes what it takes from (or adds to) them.
    lines = Product.objects.filter(pk__in=list(product_ids)).values_list(
        "product_line_id", flat=True
    )
    promoted = set(product_ids)
    siblings = {s for (p, s) in learned_shares(set(lines)) if p in promoted}
    return recompute_request(
        product_ids=sorted(promoted | siblings),
        source=RecomputeRequest.Source.PROMOTION,
        reason=f"Promotion “{promotion.name}” {what}",
        actor=actor,
        subject=promotion,
    )


def _check_status_permission(actor, status: str) -> None:
    if status != Status.DRAFT:
        require_permission(
            actor,
            "demand.confirm_promotion",
            "Your role may not plan, confirm or cancel promotions.",
        )


@transaction.atomic
def promotion_create(
    *,
    actor,
    name: str,
    discount_pct,
    start_week,
    end_week,
    items,
    channel: str = Promotion.Channel.ALL,
    status: str = Status.DRAFT,
    notes: str = "",
    confirm_long: bool = False,
) -> Promotion:
    require_permission(actor, "demand.add_promotion", "Your role may not create promotions.")
    _check_status_permission(actor, status)
    if status in Status.values and status not in STARTING_STATUSES:
        raise ValidationError({"status": "A new promotion cannot start out cancelled."})
    promotion = Promotion(
        name=(name or "").strip(),
        channel=channel,
        discount_pct=discount_pct,
        start_week=start_week,
        end_week=end_week,
        status=status,
        notes=(notes or "").strip(),
        created_by=actor,
        updated_by=actor,
    )
    cleaned = _validate(
        promotion, creating=True, items=items, check_length=True, confirm_long=confirm_long
    )
    promotion.save()
    _save_items(promotion, cleaned)
    activity_record(
        target=promotion,
        actor=actor,
        verb="created",
        message=f"Created the promotion as {promotion.get_status_display().lower()}, "
        f"{promotion.period_label}, {len(cleaned)} product{'s' if len(cleaned) != 1 else ''}.",
    )
    if _affects_plan(promotion.status):
        _request_recompute(promotion, [p.pk for p, _ in cleaned], actor, "was logged")
    return promotion


@transaction.atomic
def promotion_update(
    *,
    actor,
    promotion_id: int,
    expected_version: int | None,
    items=None,
    confirm_long: bool = False,
    **fields,
) -> Promotion:
    require_permission(actor, "demand.change_promotion", "Your role may not change promotions.")
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise TypeError(f"Unknown promotion fields: {sorted(unknown)}")
    promotion = lock_for_edit(Promotion.objects.all(), promotion_id, expected_version)
    if promotion.end_week < current_week():
        raise ValidationError("This promotion has ended; it is kept as history for lift learning.")
    if promotion.status == Status.CANCELLED:
        raise ValidationError("Reopen the cancelled promotion as a draft before editing it.")
    if promotion.status != Status.DRAFT:
        _check_status_permission(actor, promotion.status)
    before_products = set(promotion.items.values_list("product_id", flat=True))
    period_before = (promotion.start_week, promotion.end_week)
    for name, value in fields.items():
        setattr(promotion, name, value.strip() if isinstance(value, str) else value)
    promotion.updated_by = actor
    cleaned = _validate(
        promotion,
        creating=False,
        items=items,
        # Asked again only when the weeks change: editing a confirmed long one's notes is not.
        check_length=(promotion.start_week, promotion.end_week) != period_before,
        confirm_long=confirm_long,
    )
    save_new_version(promotion, [*fields, "updated_by"])
    if cleaned is not None:
        _save_items(promotion, cleaned)
    after_products = set(promotion.items.values_list("product_id", flat=True))
    activity_record(target=promotion, actor=actor, verb="updated", message="Edited the promotion.")
    if _affects_plan(promotion.status):
        _request_recompute(promotion, before_products | after_products, actor, "was changed")
    return promotion


@transaction.atomic
def promotion_set_status(
    *, actor, promotion_id: int, expected_version: int | None, status: str
) -> Promotion:
    promotion = lock_for_edit(Promotion.objects.all(), promotion_id, expected_version)
    require_permission(
        actor, "demand.confirm_promotion", "Your role may not plan, confirm or cancel promotions."
    )
    old = promotion.status
    if status not in TRANSITIONS.get(old, set()):
        raise ValidationError(
            {
                "status": f"A {promotion.get_status_display().lower()} promotion cannot become "
                f"{Status(status).label.lower() if status in Status.values else status}."
            }
        )
    if promotion.end_week < current_week():
        raise ValidationError("This promotion has ended; it is kept as history for lift learning.")
    if status in Promotion.PLANNING_STATUSES:
        discontinued = promotion.items.filter(product__lifecycle=Product.Lifecycle.DISCONTINUED)
        if discontinued.exists():
            skus = ", ".join(discontinued.values_list("product__sku", flat=True))
            raise ValidationError(f"Remove discontinued products first: {skus}.")
    promotion.status = status
    promotion.updated_by = actor
    if status == Status.CANCELLED:
        promotion.at_risk_reason = ""
    save_new_version(promotion, ["status", "updated_by", "at_risk_reason"])
    activity_record(
        target=promotion,
        actor=actor,
        verb="transitioned",
        message=f"{Status(old).label} → {promotion.get_status_display()}.",
        data={"from": old, "to": status},
    )
    if _affects_plan(old, status):
        _request_recompute(
            promotion,
            promotion.items.values_list("product_id", flat=True),
            actor,
            f"is now {promotion.get_status_display().lower()}",
        )
    return promotion


def _locked(matching) -> list[Promotion]:
    """The promotions `matching` finds, locked, each once. Not `.distinct()` on the
    locking query: PostgreSQL refuses FOR UPDATE with DISTINCT."""
    return list(
        Promotion.objects.select_for_update()
        .filter(pk__in=matching.values("pk"))
        .order_by("start_week", "name", "pk")
    )


@transaction.atomic
def promotions_flag_at_risk(*, product_ids, reason: str, actor=None) -> list[Promotion]:
    """Mark active and upcoming promotions of these products at risk (e.g. a stop-ship),
    for marketing to pause or cancel. Returns the promotions flagged."""
    promotions = _locked(promotions_a_hold_puts_at_risk(product_ids))
    for promotion in promotions:
        promotion.at_risk_reason = reason[:300]
        save_new_version(promotion, ["at_risk_reason"])
        activity_record(target=promotion, actor=actor, verb="updated", message=f"At risk: {reason}")
    if promotions:
        _email_at_risk(promotions, reason, actor)
    return promotions


def _email_at_risk(promotions: list[Promotion], reason: str, actor) -> None:
    """Marketing hears at once (one message per event, listing every promotion)."""
    one = len(promotions) == 1
    notify_now(
        kind=EmailKind.PROMOTION_AT_RISK,
        # Each flagging is a new version of the promotions: a new event, a new message.
        key="at-risk:" + ",".join(f"{p.pk}v{p.version}" for p in promotions),
        subject=f"Promotion at risk: {promotions[0].name}"
        if one
        else f"{len(promotions)} promotions at risk",
        template="demand/email/promotion_at_risk",
        context={
            "reason": reason,
            "promotions": [
                {
                    "name": p.name,
                    "weeks": f"{iso_label(p.start_week)} to {iso_label(p.end_week)}",
                    "status": p.get_status_display(),
                    "url": absolute(reverse("promotion_detail", args=[p.pk])),
                }
                for p in promotions
            ],
        },
        link=reverse("promotion_detail", args=[promotions[0].pk])
        if one
        else reverse("promotion_calendar"),
        actor=actor,
    )


@transaction.atomic
def promotions_clear_at_risk(
    *, product_ids, reason: str, actor=None, keep_product_ids=()
) -> list[Promotion]:
    """Clear the at-risk flag set for these products (e.g. the stop-ship was released),
    except on promotions that also feature one of `keep_product_ids` (still at risk)."""
    matching = (
        Promotion.objects.filter(items__product_id__in=list(product_ids))
        .exclude(at_risk_reason="")
        .exclude(items__product_id__in=list(keep_product_ids))
    )
    promotions = _locked(matching)
    for promotion in promotions:
        promotion.at_risk_reason = ""
        save_new_version(promotion, ["at_risk_reason"])
        activity_record(target=promotion, actor=actor, verb="updated", message=reason)
    return promotions
