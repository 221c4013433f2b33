"""Customer requests: logged by sales, routed to a department, answered, closed.

The workflow is one table (ACTIONS): for each action, the statuses it may start from,
the status it leads to, the kinds it applies to and who may take it. Views show a button
only when `allowed_actions` lists it, and every service re-checks the same table, so
the page and the rule cannot disagree.

    new ──route──> triaged ──start_review──> in_review ──resolve──> resolved
    customization: in_review ──answer_feasibility──> (routed back to sales)
                   ──quote──> quoted ──accept──> accepted (firm demand) | decline -> declined
                   accepted ──change_order──> accepted (new quantity or week)
                   accepted ──cancel_order──> declined (the firm demand leaves the plan)
    Accepting, changing or cancelling an order asks for a recompute of its line in the
    same transaction (coordination/planning_inputs.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from coordination import planning_inputs, promising, roles
from coordination.models import CustomerRequest, Department, Product
from coordination.permissions import require_permission
from coordination.services.activity import activity_record
from coordination.services.locking import lock_for_edit, save_new_version
from coordination.weeks import add_weeks, current_week, iso_label, parse_week, weeks_between

Status = CustomerRequest.Status
Kind = CustomerRequest.Kind

ROUTED = "routed"  # who: a member of the department the request is routed to
SALES_DESK = "coordination.change_customerrequest"
FEASIBILITY = "coordination.answer_feasibility"
QUOTING = "coordination.quote_request"


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    sources: tuple[str, ...]
    target: str | None  # None: the status does not change
    who: tuple[str, ...]  # permissions, or ROUTED; any one suffices
    kinds: tuple[str, ...] | None = None  # None: every kind


ALL_KINDS_BUT_CUSTOMIZATION = tuple(k for k in Kind.values if k != Kind.CUSTOMIZATION)

ACTIONS: dict[str, Action] = {
    action.name: action
    for action in (
        Action(
            "route",
            "Route",
            (Status.NEW, Status.TRIAGED, Status.IN_REVIEW),
            Status.TRIAGED,
            (SALES_DESK, ROUTED),
        ),
        Action("start_review", "Start review", (Status.TRIAGED,), Status.IN_REVIEW, (ROUTED,)),
        Action(
            "answer_feasibility",
            "Answer feasibility",
            (Status.TRIAGED, Status.IN_REVIEW),
            Status.IN_REVIEW,
            (FEASIBILITY,),
            (Kind.CUSTOMIZATION,),
        ),
        Action(
            "quote", "Quote", (Status.IN_REVIEW,), Status.QUOTED, (QUOTING,), (Kind.CUSTOMIZATION,)
        ),
        Action(
            "accept",
            "Customer accepted",
            (Status.QUOTED,),
            Status.ACCEPTED,
            (QUOTING,),
            (Kind.CUSTOMIZATION,),
        ),
        Action(
            "change_order",
            "Customer changed the order",
            (Status.ACCEPTED,),
            None,
            (QUOTING,),
            (Kind.CUSTOMIZATION,),
        ),
        Action(
            "cancel_order",
            "Customer cancelled the order",
            (Status.ACCEPTED,),
            Status.DECLINED,
            (QUOTING,),
            (Kind.CUSTOMIZATION,),
        ),
        Action(
            "decline",
            "Customer declined",
            (Status.TRIAGED, Status.IN_REVIEW, Status.QUOTED),
            Status.DECLINED,
            (QUOTING,),
            (Kind.CUSTOMIZATION,),
        ),
        Action(
            "resolve",
            "Resolve",
            (Status.NEW, Status.TRIAGED, Status.IN_REVIEW),
            Status.RESOLVED,
            (SALES_DESK, ROUTED),
            ALL_KINDS_BUT_CUSTOMIZATION,
        ),
    )
}


def _is_member(user, request: CustomerRequest) -> bool:
    return request.department in roles.departments_of(user)


@dataclass(frozen=True)
class Refusal:
    message: str
    forbidden: bool  # True: the role may never do this (403); False: not in this state (400)


def action_refusal(user, request: CustomerRequest, name: str) -> Refusal | None:
    """Why `user` may not take action `name` on `request` now, or None if they may."""
    action = ACTIONS[name]
    # A role that may never take the action is told so first (403), whatever the state.
    permissions = [who for who in action.who if who != ROUTED]
    if not any(user.has_perm(p) for p in permissions) and ROUTED not in action.who:
        return Refusal(f"Your role may not “{action.label.lower()}” this request.", forbidden=True)
    if action.kinds is not None and request.kind not in action.kinds:
        kind = request.get_kind_display().lower()
        return Refusal(f"“{action.label}” does not apply to a {kind}.", forbidden=False)
    if request.status not in action.sources:
        status = request.get_status_display().lower()
        return Refusal(
            f"“{action.label}” is not possible while the request is {status}.", forbidden=False
        )
    allowed = any(
        _is_member(user, request) if who == ROUTED else user.has_perm(who) for who in action.who
    )
    if not allowed:
        return Refusal(f"Your role may not “{action.label.lower()}” this request.", forbidden=True)
    if name == "answer_feasibility" and request.feasible is not None:
        return Refusal("Production has already answered this request's feasibility.", False)
    if name == "quote" and request.feasible is not True:
        return Refusal(
            "A price can be quoted only after production has found the customization feasible.",
            forbidden=False,
        )
    return None


def allowed_actions(user, request: CustomerRequest) -> list[Action]:
    return [a for a in ACTIONS.values() if action_refusal(user, request, a.name) is None]


def _start(user, request_id: int, expected_version, name: str) -> CustomerRequest:
    request = lock_for_edit(CustomerRequest.objects.all(), request_id, expected_version)
    refusal = action_refusal(user, request, name)
    if refusal is not None:
        if refusal.forbidden:
            raise PermissionDenied(refusal.message)
        raise ValidationError(refusal.message, code="invalid_transition")
    return request


def _finish(request, actor, name: str, old_status: str, fields: list[str], message: str):
    save_new_version(request, fields)
    activity_record(
        target=request,
        actor=actor,
        verb="transitioned" if request.status != old_status else "updated",
        message=message,
        data={"action": name, "from": old_status, "to": request.status},
    )
    return request


# --------------------------------------------------------------------------- log


def _clean_week(week, field: str = "wanted_week"):
    if week is None:
        return None
    if week < current_week():
        raise ValidationError({field: f"{iso_label(week)} is in the past: choose a future week."})
    return week


def _clean_quantity(quantity):
    if quantity in (None, ""):
        return None
    try:
        quantity = int(quantity)
    except (TypeError, ValueError) as exc:
        raise ValidationError({"quantity": "Enter a whole number of units."}) from exc
    if quantity <= 0:
        raise ValidationError({"quantity": "The quantity must be at least 1 unit."})
    return quantity


DEFAULT_DEPARTMENT = {
    Kind.NEED: Department.MARKETING,
    Kind.CONCERN: Department.SALES,
    Kind.COMPLAINT: Department.SALES,
    Kind.CUSTOMIZATION: Department.PRODUCTION,
    Kind.QUALITY_ISSUE: Department.QUALITY,
    Kind.PRICE_FEEDBACK: Department.MARKETING,
}


@transaction.atomic
def request_log(
    *,
    actor,
    customer_name: str,
    channel: str,
    kind: str,
    summary: str,
    customer_account: str = "",
    product: Product | None = None,
    details: str = "",
    quantity=None,
    wanted_week=None,
    preference: str = CustomerRequest.Preference.BALANCED,
    priority: str = CustomerRequest.Priority.NORMAL,
    department: str | None = None,
) -> CustomerRequest:
    """Log what a customer asked. Routed by kind unless a department is given."""
    require_permission(
        actor, "coordination.add_customerrequest", "Your role may not log customer requests."
    )
    discontinued = product is not None and product.lifecycle == Product.Lifecycle.DISCONTINUED
    if discontinued and kind == Kind.CUSTOMIZATION:
        raise ValidationError(
            {"product": f"{product.sku} is discontinued: it cannot be customized."}
        )
    request = CustomerRequest(
        customer_name=(customer_name or "").strip(),
        customer_account=(customer_account or "").strip(),
        channel=channel,
        kind=kind,
        product=product,
        summary=(summary or "").strip(),
        details=(details or "").strip(),
        quantity=_clean_quantity(quantity),
        wanted_week=_clean_week(wanted_week),
        preference=preference,
        priority=priority,
        department=department or DEFAULT_DEPARTMENT.get(kind, Department.SALES),
        # Routed when logged: the department it goes to has it in its inbox to review.
        status=Status.TRIAGED,
        created_by=actor,
        due_date=CustomerRequest.due_date_for(
            priority if priority in CustomerRequest.RESPONSE_DAYS else "normal",
            timezone.localdate(),
        ),
    )
    if kind == Kind.CUSTOMIZATION and product is None:
        raise ValidationError({"product": "Say which product the customer wants customized."})
    request.full_clean()
    request.save()
    activity_record(
        target=request,
        actor=actor,
        verb="created",
        message=f"Logged a {request.get_kind_display().lower()} from {request.customer_name} by "
        f"{request.get_channel_display().lower()}, routed to {request.get_department_display()}.",
    )
    return request


# ------------------------------------------------------------------- transitions


@transaction.atomic
def request_route(
    *,
    actor,
    request_id: int,
    expected_version: int | None,
    department: str,
    assignee_id: int | None = None,
    priority: str | None = None,
) -> CustomerRequest:
    request = _start(actor, request_id, expected_version, "route")
    old_status = request.status
    if department not in Department.values:
        raise ValidationError({"department": f"Unknown department {department!r}."})
    assignee = None
    if assignee_id:
        assignee = get_user_model().objects.filter(pk=assignee_id, is_active=True).first()
        if assignee is None:
            raise ValidationError({"assignee": "No active user with that id."})
        if department not in roles.departments_of(assignee):
            raise ValidationError(
                {"assignee": f"{assignee} does not work in {Department(department).label}."}
            )
    request.department = department
    request.assignee = assignee
    fields = ["department", "assignee", "status"]
    if priority and priority != request.priority:
        if priority not in CustomerRequest.RESPONSE_DAYS:
            raise ValidationError({"priority": f"Unknown priority {priority!r}."})
        request.priority = priority
        request.due_date = CustomerRequest.due_date_for(priority, request.created_at.date())
        fields += ["priority", "due_date"]
    request.status = Status.TRIAGED
    who = f" ({assignee})" if assignee else ""
    return _finish(
        request,
        actor,
        "route",
        old_status,
        fields,
        f"Routed to {request.get_department_display()}{who}, priority {request.priority}.",
    )


@transaction.atomic
def request_start_review(*, actor, request_id: int, expected_version: int | None):
    request = _start(actor, request_id, expected_version, "start_review")
    old_status = request.status
    request.status = Status.IN_REVIEW
    if request.assignee_id is None:
        request.assignee = actor
    return _finish(
        request, actor, "start_review", old_status, ["status", "assignee"], "Started the review."
    )


def _money(value, field: str, *, allow_zero: bool) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise ValidationError({field: "Enter an amount such as 12.50."}) from exc
    if amount < 0 or (amount == 0 and not allow_zero):
        raise ValidationError({field: "The amount must be positive." if not allow_zero else
                               "The amount cannot be negative."})  # fmt: skip
    return amount


@transaction.atomic
def request_answer_feasibility(
    *,
    actor,
    request_id: int,
    expected_version: int | None,
    feasible: bool,
    note: str,
    extra_unit_cost=None,
    lead_time_weeks=None,
) -> CustomerRequest:
    """Production's answer; the request goes back to sales to quote or decline."""
    request = _start(actor, request_id, expected_version, "answer_feasibility")
    old_status = request.status
    errors = {}
    if not (note or "").strip():
        errors["note"] = "Explain the answer: how it would be made, or why it cannot."
    if feasible:
        if extra_unit_cost in (None, ""):
            errors["extra_unit_cost"] = "Give the extra cost per unit (0 if none)."
        if lead_time_weeks in (None, ""):
            errors["lead_time_weeks"] = "Give the weeks production needs before delivery."
    if errors:
        raise ValidationError(errors)
    request.feasible = bool(feasible)
    request.feasibility_note = note.strip()
    if feasible:
        request.extra_unit_cost = _money(extra_unit_cost, "extra_unit_cost", allow_zero=True)
        try:
            weeks = int(lead_time_weeks)
        except (TypeError, ValueError) as exc:
            raise ValidationError({"lead_time_weeks": "Enter a whole number of weeks."}) from exc
        if not 0 <= weeks <= 52:
            raise ValidationError({"lead_time_weeks": "Lead time must be 0 to 52 weeks."})
        request.feasibility_lead_time_weeks = weeks
    request.feasibility_by = actor
    request.feasibility_at = timezone.now()
    request.status = Status.IN_REVIEW
    request.department = Department.SALES
    request.assignee = request.created_by if request.created_by.is_active else None
    answer = "Not feasible."
    if feasible:
        earliest = add_weeks(current_week(), request.feasibility_lead_time_weeks)
        answer = (
            f"Feasible: +{request.extra_unit_cost} per unit, {request.feasibility_lead_time_weeks} "
            f"weeks lead time (delivery from {iso_label(earliest)})."
        )
    answer += _plan_said(request)
    return _finish(
        request,
        actor,
        "answer_feasibility",
        old_status,
        [
            "feasible",
            "feasibility_note",
            "extra_unit_cost",
            "feasibility_lead_time_weeks",
            "feasibility_by",
            "feasibility_at",
            "status",
            "department",
            "assignee",
        ],
        f"{answer} {request.feasibility_note} Back to Sales to quote.",
    )


def plan_promise(request: CustomerRequest) -> promising.RequestPromise | None:
    """The plan's answer to this request while it is being reviewed or quoted (None for
    other kinds, and once accepted or closed: an accepted order is in the plan already)."""
    if request.kind != Kind.CUSTOMIZATION or request.status not in (
        Status.NEW,
        Status.TRIAGED,
        Status.IN_REVIEW,
        Status.QUOTED,
    ):
        return None
    sku = request.product.sku if request.product_id else ""
    return promising.promise_for(sku, request.quantity, request.wanted_week)


def suggested_lead_time(promise: promising.RequestPromise | None) -> int | None:
    """Weeks from this week to the plan's earliest week for the whole quantity: the lead
    time production confirms unless it knows better (None when the plan has none)."""
    if promise is None or promise.answer is None or promise.answer.earliest_week is None:
        return None
    return weeks_between(current_week(), parse_week(promise.answer.earliest_week))


def _plan_said(request: CustomerRequest) -> str:
    """The plan's promise when production answered, for the timeline: what production
    confirmed can be read beside what the plan offered."""
    promise = plan_promise(request)
    if promise is None or not promise.asked:
        return ""
    if promise.answer is None:
        return f" The plan could not be asked: {promise.refusal}"
    answer = promise.answer
    said = f" The plan (run #{answer.plan_run}) could deliver"
    if answer.full:
        return f"{said} all {answer.quantity:g} units by {answer.week}."
    said += f" {answer.available:g} of {answer.quantity:g} units by {answer.week}"
    if answer.earliest_week is None:
        return f"{said}; all of them {answer.reason[:1].lower()}{answer.reason[1:]}"
    said += f", all by {answer.earliest_week}."
    suggested = suggested_lead_time(promise)
    confirmed = request.feasibility_lead_time_weeks
    if request.feasible and confirmed is not None and confirmed < suggested:
        said += f" Production confirmed {suggested - confirmed} week(s) less than the plan."
    return said


def _delivery_week_error(request: CustomerRequest, week) -> str | None:
    """Why production cannot deliver in `week` (its lead time), or None."""
    earliest = add_weeks(current_week(), request.feasibility_lead_time_weeks or 0)
    if week < earliest:
        return (
            f"Production needs {request.feasibility_lead_time_weeks} weeks: "
            f"the earliest delivery week is {iso_label(earliest)}."
        )
    return None


@transaction.atomic
def request_quote(
    *,
    actor,
    request_id: int,
    expected_version: int | None,
    unit_price,
    quantity=None,
    wanted_week=None,
    confirm_below_floor: bool = False,
    floor_reason: str = "",
) -> CustomerRequest:
    """Sales quotes a price for a feasible customization. A price below cost (unit cost +
    the customization's extra cost) or below the margin floor needs `confirm_below_floor`
    and a `floor_reason`, both kept on the timeline."""
    request = _start(actor, request_id, expected_version, "quote")
    old_status = request.status
    request.quoted_unit_price = _money(unit_price, "unit_price", allow_zero=False)
    if quantity not in (None, ""):
        request.quantity = _clean_quantity(quantity)
    if wanted_week is not None:
        request.wanted_week = wanted_week
    errors = {}
    if request.quantity is None:
        errors["quantity"] = "A quote needs the quantity the customer wants."
    if request.wanted_week is None:
        errors["wanted_week"] = "A quote needs the week the customer wants delivery."
    if errors:
        raise ValidationError(errors)
    error = _delivery_week_error(request, request.wanted_week)
    if error:
        raise ValidationError({"wanted_week": error})
    margin = quote_margin(request, request.quoted_unit_price)
    request.quote_floor_reason = ""
    if margin.below_floor:
        reason = (floor_reason or "").strip()
        errors = {}
        if not confirm_below_floor:
            errors["confirm_below_floor"] = (
                f"{margin.warning()} Confirm to quote it anyway, and say why."
            )
        if not reason:
            errors["floor_reason"] = "Say why this price is below the floor (kept on the record)."
        if errors:
            raise ValidationError(errors, code="below_margin_floor")
        request.quote_floor_reason = reason
    request.quoted_at = timezone.now()
    request.status = Status.QUOTED
    message = (
        f"Quoted {request.quantity} units at {request.quoted_unit_price} {margin.currency} "
        f"each for {iso_label(request.wanted_week)}: {margin.sentence()}"
    )
    if request.quote_floor_reason:
        message += f" Confirmed below the floor: {request.quote_floor_reason}"
    return _finish(
        request,
        actor,
        "quote",
        old_status,
        [
            "quoted_unit_price",
            "quantity",
            "wanted_week",
            "quoted_at",
            "status",
            "quote_floor_reason",
        ],
        message,
    )


@dataclass(frozen=True)
class QuoteMargin:
    """What a quoted unit price earns over the unit cost plus the customization's extra."""

    unit_cost: Decimal
    extra_unit_cost: Decimal
    price: Decimal
    floor_percent: int
    quantity: int | None = None
    currency: str = ""

    def _money(self, amount: Decimal) -> str:
        """A figure with its currency, to the cent, thousands grouped (-5,040.00 EUR)."""
        return f"{amount:,.2f} {self.currency}".rstrip()

    @property
    def cost(self) -> Decimal:
        return self.unit_cost + self.extra_unit_cost

    @property
    def per_unit(self) -> Decimal:
        return self.price - self.cost

    @property
    def percent(self) -> Decimal:
        """Margin as a percentage of the price, one decimal."""
        return (self.per_unit * 100 / self.price).quantize(Decimal("0.1"))

    @property
    def floor_price(self) -> Decimal:
        """The lowest price at the floor, rounded up to the cent."""
        floor = Decimal(self.floor_percent) / 100
        if floor >= 1:
            return self.cost
        return (self.cost / (1 - floor)).quantize(Decimal("0.01"), rounding="ROUND_CEILING")

    @property
    def below_cost(self) -> bool:
        return self.price < self.cost

    @property
    def below_floor(self) -> bool:
        return self.below_cost or self.price < self.floor_price

    @property
    def total(self) -> Decimal | None:
        return None if self.quantity is None else self.per_unit * self.quantity

    def _margin(self) -> str:
        total = self.total
        text = f"margin {self._money(self.per_unit)} per unit ({self.percent} %)"
        if total is not None:
            text += f", {self._money(total)} in total"
        return text

    def _cost(self) -> str:
        return f"{self._money(self.cost)} ({self.unit_cost} + {self.extra_unit_cost} extra)"

    def sentence(self) -> str:
        """For the timeline: the quote's margin over its cost."""
        return f"{self._margin()} over a cost of {self._cost()}."

    def preview(self) -> str:
        """Under the quote form: cost, then the margin of the price typed."""
        return (
            f"Cost {self._money(self.cost)} per unit ({self.unit_cost} + "
            f"{self.extra_unit_cost} extra). At {self._money(self.price)}: {self._margin()}."
        )

    def floor(self) -> str:
        return f"Floor {self.floor_percent} % (at least {self._money(self.floor_price)})."

    def warning(self) -> str:
        price = self._money(self.price)
        if self.below_cost:
            return f"{price} is below the cost of {self._money(self.cost)} per unit."
        return (
            f"{price} earns {self.percent} %, below the {self.floor_percent} % margin floor "
            f"(at least {self._money(self.floor_price)})."
        )


def quote_margin(request: CustomerRequest, price, quantity: int | None = None) -> QuoteMargin:
    """The margin of `price` on this customization, for `quantity` (default: the
    request's)."""
    return QuoteMargin(
        unit_cost=request.product.unit_cost,
        extra_unit_cost=request.extra_unit_cost or Decimal("0"),
        price=Decimal(price),
        floor_percent=settings.QUOTE_MARGIN_FLOOR_PERCENT,
        quantity=quantity or request.quantity,
        currency=settings.CURRENCY,
    )


@transaction.atomic
def request_accept(*, actor, request_id: int, expected_version: int | None) -> CustomerRequest:
    """The customer accepted the quote: the quantity becomes firm demand in its week."""
    request = _start(actor, request_id, expected_version, "accept")
    old_status = request.status
    _clean_week(request.wanted_week)
    request.status = Status.ACCEPTED
    request.decided_at = timezone.now()
    _finish(
        request,
        actor,
        "accept",
        old_status,
        ["status", "decided_at"],
        f"Customer accepted: {request.quantity} units of {request.product.sku} are firm demand "
        f"in {iso_label(request.wanted_week)}.",
    )
    _replan(request, actor, "accepted")
    return request


def _replan(request: CustomerRequest, actor, what: str) -> None:
    """Firm demand changed: the plan of the product's line is recomputed (outbox row in
    this transaction, worker after commit)."""
    planning_inputs.input_changed(
        request,
        reason=f"Firm order #{request.pk} ({request.quantity} x {request.product.sku} in "
        f"{iso_label(request.wanted_week)}) {what}",
        actor=actor,
        subject=request,
    )


@transaction.atomic
def request_change_order(
    *,
    actor,
    request_id: int,
    expected_version: int | None,
    note: str,
    quantity=None,
    wanted_week=None,
) -> CustomerRequest:
    """The customer changed an accepted order's quantity or delivery week: the firm
    demand moves with it."""
    request = _start(actor, request_id, expected_version, "change_order")
    old_status = request.status
    before = (request.quantity, request.wanted_week)
    errors = {}
    if quantity not in (None, ""):
        try:
            request.quantity = _clean_quantity(quantity)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if wanted_week is not None:
        error = _delivery_week_error(request, wanted_week)
        if error:
            errors["wanted_week"] = error
        request.wanted_week = wanted_week
    text = (note or "").strip()
    if not text:
        errors["note"] = "Say what the customer changed."
    if not errors and (request.quantity, request.wanted_week) == before:
        errors["__all__"] = "Nothing changed: give a new quantity or delivery week."
    if errors:
        raise ValidationError(errors)
    was = f"{before[0]} units in {iso_label(before[1])}"
    now = f"{request.quantity} units in {iso_label(request.wanted_week)}"
    _finish(
        request,
        actor,
        "change_order",
        old_status,
        ["quantity", "wanted_week"],
        f"Customer changed the order: {was} → {now}. {text}",
    )
    _replan(request, actor, f"changed (was {was})")
    return request


@transaction.atomic
def request_cancel_order(
    *, actor, request_id: int, expected_version: int | None, note: str = ""
) -> CustomerRequest:
    """The customer cancelled an accepted order: its firm demand leaves the plan."""
    request = _start(actor, request_id, expected_version, "cancel_order")
    old_status = request.status
    text = (note or "").strip()
    if not text:
        raise ValidationError({"note": "Say why the customer cancelled."})
    request.status = Status.DECLINED
    request.decided_at = timezone.now()
    request.resolution = f"Order cancelled: {text}"
    _finish(
        request,
        actor,
        "cancel_order",
        old_status,
        ["status", "decided_at", "resolution"],
        f"Customer cancelled the order: {request.quantity} units of {request.product.sku} in "
        f"{iso_label(request.wanted_week)} are no longer firm demand. {text}",
    )
    _replan(request, actor, "cancelled")
    return request


@transaction.atomic
def request_decline(
    *, actor, request_id: int, expected_version: int | None, note: str = ""
) -> CustomerRequest:
    request = _start(actor, request_id, expected_version, "decline")
    old_status = request.status
    request.status = Status.DECLINED
    request.decided_at = timezone.now()
    request.resolution = (note or "").strip()
    return _finish(
        request,
        actor,
        "decline",
        old_status,
        ["status", "decided_at", "resolution"],
        "Customer declined." + (f" {request.resolution}" if request.resolution else ""),
    )


@transaction.atomic
def request_resolve(
    *, actor, request_id: int, expected_version: int | None, resolution: str
) -> CustomerRequest:
    request = _start(actor, request_id, expected_version, "resolve")
    old_status = request.status
    text = (resolution or "").strip()
    if not text:
        raise ValidationError({"resolution": "Say how the request was resolved."})
    request.status = Status.RESOLVED
    request.resolution = text
    return _finish(
        request, actor, "resolve", old_status, ["status", "resolution"], f"Resolved: {text}"
    )
