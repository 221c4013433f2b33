"""Browser input validation for the production pages. Rules live in the services."""

from __future__ import annotations

from django import forms

from coordination.forms import ShowsHiddenFieldErrors, VersionedForm, WeekField
from production.models import Line


class LineChoiceForm(forms.Form):
    line = forms.ModelChoiceField(queryset=Line.objects.all(), empty_label=None, required=False)


class AcceptForm(ShowsHiddenFieldErrors, forms.Form):
    seen_run = forms.IntegerField(widget=forms.HiddenInput)


class OverrideForm(ShowsHiddenFieldErrors, forms.Form):
    seen_run = forms.IntegerField(widget=forms.HiddenInput)
    units = forms.IntegerField(min_value=0, label="Quota (units)")
    reason = forms.CharField(max_length=300, label="Why")


class AcceptRangeForm(forms.Form):
    week_from = WeekField(label="From week")
    week_to = WeekField(label="To week")

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


class CapacityExceptionForm(forms.Form):
    week = WeekField()
    hours = forms.DecimalField(max_digits=8, decimal_places=1, min_value=0, max_value=168)
    note = forms.CharField(max_length=200, help_text="e.g. “Summer shutdown”, “Saturday shift”.")
