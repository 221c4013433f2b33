"""Browser input validation for the production pages. Rules live in the services."""

from __future__ import annotations

from django import forms

from coordination.forms import ShowsHiddenFieldErrors, VersionedForm, VersionField, WeekField
from coordination.models import Line


class LineChoiceForm(forms.Form):
    line = forms.ModelChoiceField(queryset=Line.objects.all(), empty_label=None, required=False)


class OverCapacityConfirmation(forms.Form):
    """The confirmation a decision that leaves a week over capacity needs: the box
    ticked and a reason (production.services.over_capacity). Both are empty on the first
    submit; the page asks for them when the service refuses."""

    allow_over_capacity = forms.BooleanField(required=False, label="Plan it over capacity anyway")
    # Its length is the service's rule: refused there, the page shows it at the field.
    over_capacity_reason = forms.CharField(
        required=False,
        widget=forms.TextInput(attrs={"maxlength": 300}),
        label="Why the line may go over capacity",
        help_text="e.g. “Saturday shift agreed with the plant manager”.",
    )
    # The fields a confirmation carries over from the first submit, besides these two.
    carried: tuple[str, ...] = ()

    def capacity_decision(self) -> dict:
        return {
            "allow_over_capacity": self.cleaned_data.get("allow_over_capacity", False),
            "over_capacity_reason": self.cleaned_data.get("over_capacity_reason", ""),
        }

    def carried_values(self) -> list[tuple[str, str]]:
        return [(name, self.data.get(name, "")) for name in self.carried]


class AcceptForm(ShowsHiddenFieldErrors, OverCapacityConfirmation):
    """What the person saw: the recommendation's run and the accepted entry their
    decision replaces (0: none was accepted yet)."""

    seen_run = VersionField()
    seen_entry = VersionField(min_value=0)
    carried = ("seen_run", "seen_entry")

    def seen(self) -> dict:
        return {
            "seen_run_id": self.cleaned_data["seen_run"],
            "seen_entry_id": self.cleaned_data["seen_entry"] or None,
        }


class OverrideForm(AcceptForm):
    units = forms.IntegerField(min_value=0, label="Quota (units)")
    reason = forms.CharField(max_length=300, label="Why")
    carried = ("seen_run", "seen_entry", "units", "reason")


class AcceptRangeForm(ShowsHiddenFieldErrors, OverCapacityConfirmation):
    week_from = WeekField(label="From week")
    week_to = WeekField(label="To week")
    # The schedule version the grid showed: a cell changed after it refuses the range.
    seen_schedule_version = VersionField(min_value=0)
    carried = ("line", "week_from", "week_to", "seen_schedule_version")

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
