"""Browser input validation for the coordination pages. Rules live in the services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q

from coordination.models import (
    CustomerRequest,
    Department,
    EmailKind,
    Product,
    ProductLine,
    Specification,
)
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
            "shortage_margin",
            "production_line",
            "lead_time_weeks",
            "minimum_batch",
            "batch_size",
            "shelf_life_weeks",
            "min_remaining_life_weeks",
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
    # Typed as a SKU: a company has thousands of products, too many for a list (20,000
    # options made the list page a megabyte and a second).
    product = forms.ModelChoiceField(
        queryset=Product.objects.all(),
        required=False,
        to_field_name="sku",
        widget=forms.TextInput(attrs={"placeholder": "Any product (SKU)", "maxlength": 40}),
        error_messages={"invalid_choice": "No product has the SKU %(value)s."},
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
    confirm_below_floor = forms.BooleanField(
        required=False, label="Quote below cost or the margin floor anyway"
    )
    floor_reason = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Why (only below the floor)",
    )


class QuoteMarginForm(forms.Form):
    """The price (and quantity) typed so far in the quote form, for its margin preview."""

    unit_price = forms.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    quantity = forms.IntegerField(min_value=1, max_value=2**31 - 1, required=False)


class ChangeOrderForm(VersionedForm):
    quantity = forms.IntegerField(min_value=1, required=False)
    wanted_week = WeekField(label="Delivery week", required=False)
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), label="What the customer changed"
    )


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


class DateInput(forms.DateInput):
    """A date picker that renders its value as the ISO date the picker expects."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    """A date and time picker (local time), rendering the value the way it expects."""

    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class EmailPreferencesForm(forms.Form):
    """A checkbox per kind of e-mail the person may get, and per home panel the digest
    lists."""

    def __init__(self, *args, kinds: list[str], panels: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        for kind in kinds:
            self.fields[kind] = forms.BooleanField(label=EmailKind(kind).label, required=False)
        if EmailKind.DAILY_DIGEST in kinds and panels:
            self.fields["digest_panels"] = forms.MultipleChoiceField(
                label="The digest lists",
                choices=[(title, title) for title in panels],
                widget=forms.CheckboxSelectMultiple,
                required=False,
            )
