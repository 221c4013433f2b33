"""Browser input validation for the production pages. Rules live in the services."""

from __future__ import annotations

from django import forms

from coordination.forms import ShowsHiddenFieldErrors, VersionedForm, VersionField, WeekField
from coordination.models import Line


class LineChoiceForm(forms.Form):
    line = forms.ModelChoiceField(queryset=Line.objects.all(), empty_label=None, required=False)


class AcceptForm(ShowsHiddenFieldErrors, forms.Form):
    """What the person saw: the recommendation's run and the accepted entry their
    decision replaces (0: none was accepted yet)."""

    seen_run = VersionField()
    seen_entry = VersionField(min_value=0)

    def seen(self) -> dict:
        return {
            "seen_run_id": self.cleaned_data["seen_run"],
            "seen_entry_id": self.cleaned_data["seen_entry"] or None,
        }


class OverrideForm(AcceptForm):
    units = forms.IntegerField(min_value=0, label="Quota (units)")
    reason = forms.CharField(max_length=300, label="Why")


class AcceptRangeForm(ShowsHiddenFieldErrors, forms.Form):
    week_from = WeekField(label="From week")
    week_to = WeekField(label="To week")
    # The schedule version the grid showed: a cell changed after it refuses the range.
    seen_schedule_version = VersionField(min_value=0)

    def clean(self):
        data = super().clean()
        if data.get("week_from") and data.get("week_to") and data["week_to"] < data["week_from"]:
            self.add_error("week_to", "The last week must not be before the first.")
        return data


class LineForm(VersionedForm):
    weekly_capacity_hours = forms.DecimalField(
        label="Hours per normal week", max_digits=8, decimal_places=1, min_value=0, max_value=168
    )
    frozen_window_weeks = forms.IntegerField(
        label="Frozen window (weeks)", min_value=0, max_value=26
    )
    holding_cost_rate_pct = forms.DecimalField(
        label="Holding cost rate (% of unit cost a year)",
        max_digits=5,
        decimal_places=2,
        min_value=0,
        max_value=100,
        required=False,
        help_text="Blank: the company's rate.",
    )


class CapacityExceptionForm(forms.Form):
    week = WeekField()
    hours = forms.DecimalField(max_digits=8, decimal_places=1, min_value=0, max_value=168)
    note = forms.CharField(max_length=200, help_text="e.g. “Summer shutdown”, “Saturday shift”.")
