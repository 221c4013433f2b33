"""Browser input of the planning review pages. Rules live in planning/services."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.conf import settings

from coordination.forms import (
    DateInput,
    DateTimeInput,
    ShowsHiddenFieldErrors,
    VersionedForm,
    WeekField,
)
from coordination.input_limits import validate_date
from coordination.models import Department, Line, Product
from coordination.selectors.people import people_with_a_role
from coordination.services.locking import version_number
from demand.forms import ImportFileForm
from demand.models import Promotion
from planning.budget_input import parse_revenue, parse_units
from planning.models import MEETING_MINUTES
from planning.services.budgets import BudgetCell


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


class CycleMeetingForm(VersionedForm):
    meeting_at = forms.DateTimeField(
        required=False,
        widget=DateTimeInput,
        label="Starts",
        help_text="Leave empty to remove the meeting.",
        validators=[validate_date],
    )
    meeting_minutes = forms.IntegerField(
        label="Minutes", min_value=MEETING_MINUTES[0], max_value=MEETING_MINUTES[-1], initial=60
    )
    meeting_place = forms.CharField(
        label="Where", max_length=200, required=False, help_text="A room or a video call link."
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
    # Typed as a SKU: a company has thousands of products, too many for a list.
    product = forms.ModelChoiceField(
        queryset=Product.objects.all(),
        to_field_name="sku",
        required=False,
        widget=forms.TextInput(
            attrs={"placeholder": "SKU, e.g. TEA-LEM-05", "maxlength": 40, "data-lookup": "sku"}
        ),
        label="Product (SKU)",
        error_messages={"invalid_choice": "No product has the SKU %(value)s."},
    )
    promotion = forms.ModelChoiceField(queryset=None, required=False, empty_label="—")
    line = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="—", label="Production line"
    )

    def __init__(self, *args, **kwargs):
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
        kwargs.setdefault("auto_id", "id_scenario_%s")  # unique ids on the cycle page
        super().__init__(*args, **kwargs)
        self.fields["line"].queryset = Line.objects.order_by("name")


# ------------------------------------------------------------------------- budgets

MAX_BUDGET_UPLOAD_BYTES = 2_000_000  # a budget file is a few hundred rows


_BOTH = "Enter the {} too (0 for none), or clear both figures: no budget."


def budget_field_names(product_line_id: int, month: dt.date) -> tuple[str, str, str]:
    """The revenue, units and version fields of one grid cell."""
    key = f"{product_line_id}_{month:%Y%m}"
    return f"revenue_{key}", f"units_{key}", f"version_{key}"


class BudgetGridForm(ShowsHiddenFieldErrors, forms.Form):
    """The budget grid of a year: revenue and units per product line and month, and the
    version of each cell as loaded. Both figures or neither (clear both: no budget)."""

    def __init__(self, *args, product_lines, months, budgets, **kwargs):
        super().__init__(*args, **kwargs)
        self.product_lines, self.months = list(product_lines), list(months)
        for line in self.product_lines:
            for month in self.months:
                budget = budgets.get((line.pk, month))
                revenue, units, version = budget_field_names(line.pk, month)
                where = f"{line.name}, {month:%b %Y}"
                self.fields[revenue] = forms.CharField(
                    required=False,
                    max_length=40,
                    label=f"Revenue, {where} ({settings.CURRENCY})",
                    initial=None if budget is None else f"{budget.revenue:.2f}",
                    widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 10}),
                )
                self.fields[units] = forms.CharField(
                    required=False,
                    max_length=40,
                    label=f"Units, {where}",
                    initial=None if budget is None else str(budget.units),
                    widget=forms.TextInput(attrs={"inputmode": "numeric", "size": 8}),
                )
                self.fields[version] = forms.CharField(
                    widget=forms.HiddenInput, initial=budget.version if budget else 0
                )

    def clean(self):
        data = super().clean()
        cells = []
        for line in self.product_lines:
            for month in self.months:
                revenue_name, units_name, version_name = budget_field_names(line.pk, month)
                raw_revenue = (data.get(revenue_name) or "").strip()
                raw_units = (data.get(units_name) or "").strip()
                try:
                    seen = version_number(data.get(version_name), minimum=0)
                except forms.ValidationError:
                    self.add_error(version_name, "Reload the page: this cell's version is lost.")
                    continue
                if not raw_revenue and not raw_units:
                    cells.append(BudgetCell(line.pk, month, None, None, seen))
                    continue
                revenue = parse_revenue(raw_revenue) if raw_revenue else _BOTH.format("revenue")
                units = parse_units(raw_units) if raw_units else _BOTH.format("units")
                if isinstance(revenue, str):
                    self.add_error(revenue_name, revenue)
                if isinstance(units, str):
                    self.add_error(units_name, units)
                if not isinstance(revenue, str) and not isinstance(units, str):
                    cells.append(BudgetCell(line.pk, month, revenue, units, seen))
        data["cells"] = cells
        return data


class BudgetFileForm(ImportFileForm):
    file_help = (
        "Columns product_line, month (YYYY-MM, or a date on the 1st), revenue and units. "
        "CSV: comma, semicolon or tab separated, UTF-8; Excel: an .xlsx workbook, header "
        "in row 1. At most 2 MB."
    )

    def max_bytes(self) -> int:
        return MAX_BUDGET_UPLOAD_BYTES
