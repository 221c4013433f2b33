"""Browser input validation for the demand pages. Rules live in the services."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from coordination.forms import (
    LinesField,
    ShowsHiddenFieldErrors,
    VersionedForm,
    VersionField,
    WeekField,
)
from coordination.models import Product, ProductLine
from demand.csv_import import file_too_large_message
from demand.models import LaunchPlan, Promotion, PromotionItem
from demand.services.promotions import check_period
from demand.xlsx import XLSX_CONTENT_TYPE


class PromotionForm(ShowsHiddenFieldErrors, forms.Form):
    name = forms.CharField(max_length=120)
    channel = forms.ChoiceField(choices=Promotion.Channel.choices)
    discount_pct = forms.DecimalField(
        label="Discount %", max_digits=5, decimal_places=1, min_value=0, max_value=90
    )
    start_week = WeekField(label="First week")
    end_week = WeekField(label="Last week")
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    confirm_long = forms.BooleanField(
        required=False, label="Yes, it runs longer than 26 weeks", initial=False
    )
    # Editing only: the version edited (the view refuses an edit without it, saying so).
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not editing:
            del self.fields["version"]

    def clean(self):
        data = super().clean()
        try:
            check_period(data.get("start_week"), data.get("end_week"))
        except ValidationError:
            # The service's rule in the page's words: the field is labelled "First week".
            self.add_error("end_week", "The promotion must end on or after its first week.")
        return data


class PromotionItemForm(forms.Form):
    product = forms.CharField(
        label="Product SKU",
        required=False,
        widget=forms.TextInput(attrs={"list": "skus", "autocomplete": "off"}),
    )
    expected_lift_pct = forms.DecimalField(
        label="Expected lift %",
        required=False,
        # No max_digits: the range bounds the digits, and one message is enough.
        decimal_places=1,
        min_value=PromotionItem.MIN_LIFT,
        max_value=PromotionItem.MAX_LIFT,
    )

    def clean_product(self):
        sku = (self.cleaned_data.get("product") or "").strip().upper()
        if not sku:
            return None
        product = Product.objects.filter(sku=sku).first()
        if product is None:
            raise forms.ValidationError(f"No product with SKU {sku}.")
        return product

    def clean(self):
        data = super().clean()
        # A lift that failed its own check (out of range, not a number) already says why.
        lift = "expected_lift_pct"
        lift_missing = data.get(lift) is None and lift not in self.errors
        if data.get("product") and lift_missing:
            self.add_error(lift, "Enter the lift you expect (the suggestion helps).")
        return data


class BaseItemFormSet(forms.BaseFormSet):
    def items(self) -> list[dict]:
        return [
            {"product": f.cleaned_data["product"], "expected_lift_pct": f.cleaned_data[
                "expected_lift_pct"
            ]}
            for f in self.forms
            if f.cleaned_data.get("product")
        ]  # fmt: skip


PromotionItemFormSet = forms.formset_factory(
    PromotionItemForm, formset=BaseItemFormSet, extra=0, max_num=60, validate_max=True
)


class StatusForm(VersionedForm):
    status = forms.ChoiceField(choices=Promotion.Status.choices)


class AdjustmentForm(ShowsHiddenFieldErrors, forms.Form):
    week = WeekField()
    units = forms.IntegerField(help_text="Negative to lower the forecast; 0 removes it.")
    reason = forms.CharField(max_length=300, required=False)
    # The adjustments the editor saw (demand.selectors.forecasts.adjustment_versions), so
    # a save over someone else's change of the same week is refused.
    seen = forms.CharField(widget=forms.HiddenInput, required=False)


class ForecastFilterForm(forms.Form):
    line = forms.ModelChoiceField(
        queryset=ProductLine.objects.all(), required=False, empty_label="All lines"
    )
    weeks = forms.TypedChoiceField(
        choices=[(13, "13 weeks"), (26, "26 weeks"), (52, "52 weeks")],
        coerce=int,
        initial=13,
        required=False,
    )


# Files the imports take: CSV, or an Excel workbook (.xlsx), told apart by content.
IMPORT_FILE_ACCEPT = ",".join(
    (".csv", ".xlsx", "text/csv", "text/plain", "application/vnd.ms-excel", XLSX_CONTENT_TYPE)
)


class ImportFileForm(forms.Form):
    """An import's upload: a CSV or .xlsx file of at most `max_bytes()`, and which sheet
    of a workbook to read. Subclasses set `file_help` (the columns) and `max_bytes`."""

    file_help = ""
    file = forms.FileField(
        label="CSV or Excel file",
        widget=forms.ClearableFileInput(attrs={"accept": IMPORT_FILE_ACCEPT}),
    )
    sheet = forms.CharField(
        label="Sheet (Excel only)",
        required=False,
        max_length=31,  # Excel's longest sheet name
        help_text="Leave empty to read the workbook's first sheet.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = self.file_help

    def max_bytes(self) -> int:
        """Read when a file is checked (not at import), so tests may lower the limit."""
        raise NotImplementedError

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = self.max_bytes()
        if upload.size > limit:
            raise ValidationError(file_too_large_message(upload.size, limit))
        return upload

    def clean_sheet(self):
        return self.cleaned_data["sheet"].strip() or None


class LaunchPlanForm(ShowsHiddenFieldErrors, forms.Form):
    # The launch plan's version the editor saw (0: there was none).
    version = VersionField(min_value=0)
    launch_week = WeekField(help_text="The first week on sale, e.g. 2027-W10.")
    launch_volume = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=100_000_000,
        label="Launch volume (units a week at maturity)",
        help_text="On an average week of the year; the likes' season shapes the weeks. "
        "Blank: the likes' own level times their weights.",
    )
    ramp_weeks = forms.IntegerField(
        min_value=1,
        max_value=104,
        initial=8,
        label="Weeks to full volume",
        help_text="1: full volume from the launch week.",
    )
    ramp_shape = forms.ChoiceField(choices=LaunchPlan.RampShape.choices, label="Ramp-up")
    likes = LinesField(
        required=False,
        label="Like products",
        help_text="One per line: a SKU and its weight, e.g. TEA-LEM-05 0.5 (weight 1 when "
        "left out).",
    )

    def clean_likes(self):
        pairs = []
        for number, line in enumerate(self.cleaned_data["likes"], start=1):
            parts = line.replace(",", " ").split()
            if len(parts) > 2:
                raise forms.ValidationError(
                    f"Line {number}: write a SKU and a weight, e.g. TEA-LEM-05 0.5."
                )
            pairs.append((parts[0], parts[1].removeprefix("x") if len(parts) == 2 else "1"))
        return pairs


class SuccessionForm(ShowsHiddenFieldErrors, forms.Form):
    # The succession's version the editor saw (0: there was none).
    version = VersionField(min_value=0)
    successor = forms.CharField(
        max_length=32, label="Successor SKU", help_text="The product that takes over its demand."
    )
    switch_week = WeekField(help_text="The first week the successor sells instead.")


class RemoveForm(VersionedForm):
    """Removing a launch plan or a succession: only the version the editor saw."""
