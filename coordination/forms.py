"""Browser input validation for the coordination pages. Rules live in the services."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q

from coordination.input_limits import validate_date
from coordination.models import CustomerRequest, Department, Product, ProductLine, Specification
from coordination.selectors.people import people_with_a_role
from coordination.services.locking import MAX_VERSION
from coordination.weeks import iso_label, parse_week


class WeekInput(forms.TextInput):
    input_type = "week"

    def format_value(self, value):
        if isinstance(value, dt.date):
            return iso_label(value)
        return super().format_value(value)


class WeekField(forms.Field):
    """An ISO week (2026-W48) or a date; cleaned to that week's Monday."""

    widget = WeekInput

    def to_python(self, value):
        return parse_week(value)


class LinesField(forms.CharField):
    """One entry per line in a textarea; cleaned to a list of strings."""

    widget = forms.Textarea(attrs={"rows": 4})

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return "\n".join(value)
        return value

    def to_python(self, value):
        text = super().to_python(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]


class ShowsHiddenFieldErrors:
    """A form mixin: an error on a hidden field (a version, the run the user saw) has no
    place on the page, so it is shown with the form's own errors instead of vanishing."""

    HIDDEN_FIELD_ERROR = "This form is out of date or incomplete. Reload the page and try again."

    def has_hidden_field_errors(self) -> bool:
        return any(field.errors for field in self.hidden_fields())

    def refusal_message(self, otherwise: str) -> str:
        """The one line a page that reports a refused form as a message shows."""
        return self.HIDDEN_FIELD_ERROR if self.has_hidden_field_errors() else otherwise

    def non_field_errors(self):
        errors = super().non_field_errors()
        if self.has_hidden_field_errors():
            errors = self.error_class(
                [*errors, self.HIDDEN_FIELD_ERROR], error_class="nonfield", renderer=self.renderer
            )
        return errors


class VersionField(forms.IntegerField):
    """The version of the record the user saw, for optimistic locking: required, so a
    form without it (or with garbage in it) is refused, never saved unchecked."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_VERSION)
        super().__init__(**kwargs)


class VersionedForm(ShowsHiddenFieldErrors, forms.Form):
    """Carries the version the user saw, for optimistic locking."""

    version = VersionField()


# ------------------------------------------------------------------------ products


class ProductFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=80)
    line = forms.ModelChoiceField(
        label="Product line",
        queryset=ProductLine.objects.all(),
        required=False,
        empty_label="Any line",
    )
    lifecycle = forms.ChoiceField(
        choices=[("", "Any lifecycle"), *Product.Lifecycle.choices], required=False
    )
    tier = forms.ChoiceField(
        label="Quality tier",
        choices=[("", "Any tier"), *Product.QualityTier.choices],
        required=False,
    )


class ProductForm(ShowsHiddenFieldErrors, forms.ModelForm):
    class Meta:
        model = Product
        fields = [
            "sku",
            "name",
            "product_line",
            "lifecycle",
            "quality_tier",
            "unit_price",
            "unit_cost",
            "production_line",
            "lead_time_weeks",
            "minimum_batch",
            "target_service_level",
            "predecessor",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["predecessor"].queryset = Product.objects.order_by("sku")
        if self.instance.pk:
            self.fields["sku"].disabled = True
            self.fields["version"] = VersionField(initial=self.instance.version)
            self.fields["predecessor"].queryset = self.fields["predecessor"].queryset.exclude(
                pk=self.instance.pk
            )

    def clean_sku(self):
        return (self.cleaned_data.get("sku") or "").strip().upper()


class SpecificationForm(ShowsHiddenFieldErrors, forms.Form):
    colours = LinesField(required=False, help_text="One colour per line.")
    package_sizes = LinesField(required=False, help_text="One size per line, e.g. 500 ml.")
    features = LinesField(required=False, help_text="One feature per line.")
    materials = LinesField(required=False, help_text="One material per line.")
    effective_from = WeekField(label="Effective from week")
    rationale = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Why",
        help_text="What customers or the market ask for. Production reads this first.",
    )
    cited_requests = forms.ModelMultipleChoiceField(
        queryset=CustomerRequest.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Customer requests that motivate it",
    )

    # The checkboxes list the product's most recent requests (and those already cited).
    CITABLE_REQUESTS = 200

    def __init__(self, *args, product: Product, spec: Specification | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        requests = product.customer_requests.order_by("-created_at")
        recent = requests.values("pk")[: self.CITABLE_REQUESTS]
        cited = [getattr(r, "pk", r) for r in self.initial.get("cited_requests", ())]
        # A filter, never a slice: the field validates choices by filtering its queryset.
        self.fields["cited_requests"].queryset = requests.filter(Q(pk__in=recent) | Q(pk__in=cited))
        if spec is not None:  # editing a draft: the version it was made on
            self.fields["version"] = VersionField(initial=spec.version)

    def clean_cited_requests(self):
        return [r.pk for r in self.cleaned_data["cited_requests"]]


class SpecificationReviewForm(VersionedForm):
    feasibility_note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Can production make it, how, and what it needs.",
    )
    unit_cost_impact = forms.DecimalField(
        max_digits=12,
        decimal_places=2,
        help_text="Change in unit cost (negative when cheaper, 0 if none).",
    )
    effective_from = WeekField(
        label="Effective from week",
        required=False,
        help_text="Leave as proposed, or move it later if production needs more time.",
    )


# ---------------------------------------------------------------- customer requests


class RequestLogForm(forms.Form):
    customer_name = forms.CharField(
        max_length=120, widget=forms.TextInput(attrs={"list": "customers", "autocomplete": "off"})
    )
    customer_account = forms.CharField(max_length=40, required=False, label="Account no.")
    channel = forms.ChoiceField(choices=CustomerRequest.Channel.choices)
    kind = forms.ChoiceField(choices=CustomerRequest.Kind.choices)
    product = forms.CharField(
        required=False,
        label="Product SKU",
        widget=forms.TextInput(attrs={"list": "skus", "autocomplete": "off"}),
    )
    summary = forms.CharField(max_length=200)
    details = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    quantity = forms.IntegerField(required=False, min_value=1)
    wanted_week = WeekField(required=False, label="Wanted week")
    preference = forms.ChoiceField(
        choices=CustomerRequest.Preference.choices,
        initial=CustomerRequest.Preference.BALANCED,
        label="Quality vs price",
    )
    priority = forms.ChoiceField(
        choices=CustomerRequest.Priority.choices, initial=CustomerRequest.Priority.NORMAL
    )

    def clean_product(self):
        sku = (self.cleaned_data.get("product") or "").strip().upper()
        if not sku:
            return None
        try:
            return Product.objects.get(sku=sku)
        except Product.DoesNotExist:
            raise forms.ValidationError(f"No product with SKU {sku}.") from None


class RequestFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=80)
    status = forms.ChoiceField(
        choices=[("", "Any status"), *CustomerRequest.Status.choices], required=False
    )
    kind = forms.ChoiceField(
        choices=[("", "Any kind"), *CustomerRequest.Kind.choices], required=False
    )
    department = forms.ChoiceField(
        label="Routed to", choices=[("", "Any department"), *Department.choices], required=False
    )
    product = forms.ModelChoiceField(
        queryset=Product.objects.order_by("sku"),
        required=False,
        to_field_name="sku",
        empty_label="Any product",
    )
    overdue = forms.BooleanField(required=False, label="Overdue only")


class RouteForm(VersionedForm):
    department = forms.ChoiceField(choices=Department.choices, label="Route to")
    assignee = forms.ModelChoiceField(
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
        required=False,
    )
    priority = forms.ChoiceField(choices=CustomerRequest.Priority.choices)


class FeasibilityForm(VersionedForm):
    feasible = forms.TypedChoiceField(
        choices=[("yes", "Feasible"), ("no", "Not feasible")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    extra_unit_cost = forms.DecimalField(
        required=False, max_digits=12, decimal_places=2, min_value=0, label="Extra cost per unit"
    )
    lead_time_weeks = forms.IntegerField(
        required=False, min_value=0, max_value=52, label="Lead time (weeks)"
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Explanation")


class QuoteForm(VersionedForm):
    unit_price = forms.DecimalField(max_digits=12, decimal_places=2, label="Quoted unit price")
    quantity = forms.IntegerField(min_value=1)
    wanted_week = WeekField(label="Delivery week")


class NoteForm(VersionedForm):
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class ResolveForm(VersionedForm):
    resolution = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))


class CommentForm(forms.Form):
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), label="Comment", max_length=5000
    )


def spec_initial(spec: Specification | None) -> dict:
    return spec.as_dict() if spec else {}


# ----------------------------------------------------------------- planning review


class MonthInput(forms.TextInput):
    input_type = "month"

    def format_value(self, value):
        if isinstance(value, dt.date):
            return value.strftime("%Y-%m")
        return super().format_value(value)


class MonthField(forms.Field):
    """A month (2026-12, as a month input sends it) or a date; cleaned to its first day."""

    widget = MonthInput
    default_error_messages = {"invalid": "Enter a month as YYYY-MM, e.g. 2026-12."}

    def to_python(self, value):
        if value in (None, ""):
            return None
        if isinstance(value, dt.date):
            return value.replace(day=1)
        text = str(value).strip()
        try:
            if len(text) == 7:
                return dt.date.fromisoformat(f"{text}-01")
            return dt.date.fromisoformat(text).replace(day=1)
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None

    def validate(self, value):
        super().validate(value)
        validate_date(value)


class DateInput(forms.DateInput):
    """A date picker that renders its value as the ISO date the picker expects."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class CycleOpenForm(forms.Form):
    period_start = MonthField(label="Month", help_text="The month the cycle plans.")
    period_end = forms.DateField(
        required=False,
        widget=DateInput,
        label="Last day (optional)",
        help_text="Leave empty for the whole month; set it for another period.",
        validators=[validate_date],
    )
    name = forms.CharField(
        required=False, max_length=80, help_text="Defaults to the month, e.g. “December 2026”."
    )


class SignOffForm(ShowsHiddenFieldErrors, forms.Form):
    part_hash = forms.CharField(widget=forms.HiddenInput, max_length=64)
    note = forms.CharField(required=False, max_length=300, label="Note (optional)")

    def __init__(self, *args, part: str, **kwargs):
        # One sign-off form per part on the cycle page: ids carry the part to stay unique.
        kwargs.setdefault("auto_id", f"id_sign_{part}_%s")
        super().__init__(*args, **kwargs)


class CycleAdjustmentForm(forms.Form):
    part = forms.ChoiceField(label="Part")
    line = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="All lines", label="Production line"
    )
    month = forms.ChoiceField(label="Month")
    amount = forms.IntegerField(
        help_text="Units of demand or firm orders; hours of capacity for supply. "
        "Negative lowers the figure."
    )
    reason = forms.CharField(max_length=300)

    def __init__(self, *args, parts=(), months=(), **kwargs):
        from production.models import Line

        # The cycle page shows this form beside the decision and scenario forms, which
        # also have a "line" field: each form's own id prefix keeps the ids unique.
        kwargs.setdefault("auto_id", "id_adjust_%s")
        super().__init__(*args, **kwargs)
        self.fields["part"].choices = list(parts)
        self.fields["month"].choices = list(months)
        self.fields["line"].queryset = Line.objects.order_by("name")

    def clean_month(self):
        return dt.date.fromisoformat(self.cleaned_data["month"])


class CycleDecisionForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[("decision", "Decision"), ("action", "Action item")], widget=forms.RadioSelect
    )
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    department = forms.ChoiceField(choices=Department.choices)
    owner = forms.ModelChoiceField(
        queryset=None, required=False, help_text="Needed for an action item."
    )
    due_date = forms.DateField(
        required=False,
        widget=DateInput,
        help_text="Needed for an action item.",
        validators=[validate_date],
    )
    product = forms.ModelChoiceField(
        queryset=Product.objects.order_by("sku"), required=False, empty_label="—"
    )
    promotion = forms.ModelChoiceField(queryset=None, required=False, empty_label="—")
    line = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="—", label="Production line"
    )

    def __init__(self, *args, **kwargs):
        from demand.models import Promotion
        from production.models import Line

        kwargs.setdefault("auto_id", "id_decision_%s")  # unique ids on the cycle page
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = people_with_a_role()
        self.fields["promotion"].queryset = Promotion.objects.exclude(
            status=Promotion.Status.CANCELLED
        ).order_by("-start_week", "name")
        self.fields["line"].queryset = Line.objects.order_by("name")

    def service_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "kind": data["kind"],
            "text": data["text"],
            "department": data["department"],
            "owner_id": data["owner"].pk if data.get("owner") else None,
            "due_date": data.get("due_date"),
            "product_id": data["product"].pk if data.get("product") else None,
            "promotion_id": data["promotion"].pk if data.get("promotion") else None,
            "line_id": data["line"].pk if data.get("line") else None,
        }


class CycleDecisionEditForm(CycleDecisionForm, VersionedForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].disabled = True


class ActionStatusForm(VersionedForm):
    status = forms.ChoiceField(choices=[("open", "Open"), ("done", "Done"), ("dropped", "Dropped")])


class ActionFilterForm(forms.Form):
    mine = forms.BooleanField(required=False, label="Mine only")
    department = forms.ChoiceField(
        choices=[("", "Any department"), *Department.choices], required=False
    )
    status = forms.ChoiceField(
        choices=[("open", "Open"), ("done", "Done"), ("dropped", "Dropped"), ("all", "Any")],
        required=False,
    )
    overdue = forms.BooleanField(required=False, label="Overdue only")


class ScenarioForm(forms.Form):
    line = forms.ModelChoiceField(queryset=None, label="Production line")
    first_week = WeekField(label="From week")
    last_week = WeekField(label="To week")
    extra_hours = forms.DecimalField(
        max_digits=5,
        decimal_places=1,
        label="Hours added per week",
        help_text="e.g. 16 for two 8-hour Saturday shifts; negative to remove hours.",
    )
    name = forms.CharField(required=False, max_length=120, label="Name (optional)")

    def __init__(self, *args, **kwargs):
        from production.models import Line

        kwargs.setdefault("auto_id", "id_scenario_%s")  # unique ids on the cycle page
        super().__init__(*args, **kwargs)
        self.fields["line"].queryset = Line.objects.order_by("name")
