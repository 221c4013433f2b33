"""Browser input validation for the recall pages. The rules live in recalls/services."""

from __future__ import annotations

from django import forms

from coordination.forms import (
    DateInput,
    DateTimeInput,
    ShowsHiddenFieldErrors,
    VersionedForm,
    WeekField,
)
from coordination.input_limits import validate_date
from coordination.models import CustomerRequest, Department, Product
from coordination.selectors.people import people_with_a_role
from recalls import selectors
from recalls.models import CustomerNotification, RecallIncident

Status = RecallIncident.Status


class BoardFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", "Any status"), *Status.choices], required=False)
    classification = forms.ChoiceField(
        label="Class",
        choices=[("", "Any class"), *RecallIncident.Classification.choices],
        required=False,
    )


class ProductsField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.sku} · {obj.name}"


class ProductChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.sku} · {obj.name}"


class RecallOpenForm(ShowsHiddenFieldErrors, forms.Form):
    title = forms.CharField(max_length=160)
    classification = forms.ChoiceField(
        label="Class", choices=[("", "Choose a class"), *RecallIncident.Classification.choices]
    )
    products = ProductsField(
        label="Affected products",
        queryset=Product.objects.order_by("sku"),
        to_field_name="sku",
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text="Hold Ctrl (⌘ on a Mac) to choose several.",
    )
    hazard = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What can happen to a consumer. Shown on the public notice once announced.",
    )
    source = forms.ChoiceField(choices=[("", "Choose a source"), *RecallIncident.Source.choices])
    description = forms.CharField(
        label="What is known so far",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="Internal; never shown publicly.",
    )
    owner = forms.ModelChoiceField(
        queryset=selectors.recall_team(),
        required=False,
        empty_label="Me",
        help_text="Who leads the incident.",
    )
    stop_ship = forms.BooleanField(
        label="Stop shipping now",
        required=False,
        help_text="Holds production of the products (quotas to 0) and puts their promotions "
        "at risk until released.",
    )
    source_requests = forms.ModelMultipleChoiceField(
        queryset=CustomerRequest.objects.filter(kind=CustomerRequest.Kind.QUALITY_ISSUE),
        required=False,
        widget=forms.MultipleHiddenInput,
    )

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "classification": data["classification"],
            "hazard": data["hazard"],
            "source": data["source"],
            "product_ids": [p.pk for p in data["products"]],
            "description": data["description"],
            "stop_ship": data["stop_ship"],
            "source_request_ids": [r.pk for r in data["source_requests"]],
            "owner": data["owner"],
        }


class RecallEditForm(VersionedForm):
    title = forms.CharField(max_length=160)
    classification = forms.ChoiceField(label="Class", choices=RecallIncident.Classification.choices)
    owner = forms.ModelChoiceField(queryset=selectors.recall_team(), empty_label=None)
    description = forms.CharField(
        label="What is known so far (internal)",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    root_cause = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="Internal. Needed before the recall can be closed.",
    )
    hazard = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), help_text="Public once announced."
    )
    consumer_instructions = forms.CharField(
        label="What consumers should do",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="Public once announced: stop using, return for a refund…",
    )
    contact = forms.CharField(
        max_length=200,
        required=False,
        help_text="Public once announced: a phone number and e-mail consumers can reach.",
    )

    FIELDS = (
        "title",
        "classification",
        "owner",
        "description",
        "root_cause",
        "hazard",
        "consumer_instructions",
        "contact",
    )

    @classmethod
    def initial_for(cls, incident: RecallIncident) -> dict:
        initial = {name: getattr(incident, name) for name in cls.FIELDS}
        initial["owner"] = incident.owner_id
        initial["version"] = incident.version
        return initial

    def service_kwargs(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.FIELDS}


class TransitionForm(VersionedForm):
    to = forms.ChoiceField(choices=Status.choices, widget=forms.HiddenInput)

    def service_kwargs(self) -> dict:
        return {"to": self.cleaned_data["to"]}


class StopShipForm(VersionedForm):
    stop = forms.TypedChoiceField(
        choices=[("1", "Stop shipping"), ("0", "Release")],
        coerce=lambda value: value == "1",
        widget=forms.HiddenInput,
    )

    def service_kwargs(self) -> dict:
        return {"stop": self.cleaned_data["stop"]}


class LotForm(forms.Form):
    product = ProductChoiceField(
        queryset=Product.objects.order_by("sku"), to_field_name="sku", empty_label="Choose"
    )
    lot_code = forms.CharField(max_length=40, required=False, label="Lot code")
    production_week = WeekField(required=False, label="Production week")
    best_before = forms.DateField(
        required=False, widget=DateInput, label="Best before", validators=[validate_date]
    )
    units = forms.IntegerField(min_value=0, initial=0, label="Units in the lot")
    add_product = forms.BooleanField(
        required=False,
        label="Add the product to the recall",
        help_text="Needed for a product the recall does not name yet.",
    )

    def for_incident(self, incident: RecallIncident) -> LotForm:
        """Say at the checkbox what adding a product does under this incident's stop-ship."""
        if incident.stop_ship:
            label = "Add the product to the recall and stop its shipping"
            help_text = (
                "Needed for a product the recall does not name yet. Its production is held "
                "at 0 and its promotions are put at risk while the stop-ship lasts."
            )
            # The field and its bound field: validating a submitted form built the latter.
            for target in (self.fields["add_product"], self["add_product"]):
                target.label, target.help_text = label, help_text
        return self

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        data["product_id"] = data.pop("product").pk
        return data


class EffectivenessForm(VersionedForm):
    units_distributed = forms.IntegerField(
        min_value=0, label="Units distributed", help_text="Everything shipped from the lots."
    )
    units_returned = forms.IntegerField(min_value=0, label="Returned")
    units_destroyed = forms.IntegerField(min_value=0, label="Destroyed in the field")
    units_corrected = forms.IntegerField(min_value=0, label="Corrected (relabelled, reworked)")
    consignees_to_notify = forms.IntegerField(
        min_value=0, label="Consignees to notify", help_text="Customers who received the lots."
    )

    FIELDS = (
        "units_distributed",
        "units_returned",
        "units_destroyed",
        "units_corrected",
        "consignees_to_notify",
    )

    @classmethod
    def initial_for(cls, incident: RecallIncident) -> dict:
        return {
            **{name: getattr(incident, name) for name in cls.FIELDS},
            "version": incident.version,
        }

    def service_kwargs(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.FIELDS}


class TaskForm(forms.Form):
    title = forms.CharField(max_length=200, label="What needs doing")
    department = forms.ChoiceField(choices=[("", "Choose a department"), *Department.choices])
    owner = forms.ModelChoiceField(queryset=people_with_a_role(), empty_label="Choose a person")
    due_date = forms.DateField(widget=DateInput, label="Due", validators=[validate_date])

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        data["owner_id"] = data.pop("owner").pk
        return data


class EmptyForm(forms.Form):
    """An action that needs nothing but the button (e.g. completing a task)."""

    def service_kwargs(self) -> dict:
        return {}


class NotificationForm(forms.Form):
    consignee = forms.CharField(max_length=160, help_text="The customer told about the recall.")
    account = forms.CharField(max_length=40, required=False, label="Account no.")
    channel = forms.ChoiceField(
        choices=[("", "Choose a channel"), *CustomerNotification.Channel.choices]
    )
    notified_at = forms.DateTimeField(
        required=False,
        widget=DateTimeInput,
        label="Notified at",
        help_text="Empty: now.",
        validators=[validate_date],
    )
    acknowledged = forms.BooleanField(required=False, label="Consignee confirmed receipt")
    note = forms.CharField(max_length=300, required=False)

    def service_kwargs(self) -> dict:
        return dict(self.cleaned_data)


class PressInquiryForm(forms.Form):
    outlet = forms.CharField(max_length=120)
    contact = forms.CharField(max_length=200, help_text="Journalist, phone or e-mail.")
    question = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    received_at = forms.DateTimeField(
        required=False,
        widget=DateTimeInput,
        label="Received",
        help_text="Empty: now.",
        validators=[validate_date],
    )
    response_due = forms.DateTimeField(
        widget=DateTimeInput, label="Answer due", validators=[validate_date]
    )

    def service_kwargs(self) -> dict:
        return dict(self.cleaned_data)


class PressAnswerForm(ShowsHiddenFieldErrors, forms.Form):
    answer = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    decline = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def service_kwargs(self) -> dict:
        return dict(self.cleaned_data)


class StatementForm(forms.Form):
    title = forms.CharField(max_length=160)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), label="Statement")

    def service_kwargs(self) -> dict:
        return dict(self.cleaned_data)


class StatementEditForm(VersionedForm, StatementForm):
    def service_kwargs(self) -> dict:
        return {"title": self.cleaned_data["title"], "body": self.cleaned_data["body"]}


class StatementStepForm(VersionedForm):
    def service_kwargs(self) -> dict:
        return {}


class StatementReviewForm(VersionedForm):
    decision = forms.TypedChoiceField(
        choices=[("approve", "Approve"), ("send_back", "Send back")],
        coerce=lambda value: value == "approve",
        widget=forms.HiddenInput,
    )
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="Note to the author",
        help_text="Needed when sending it back.",
    )

    def service_kwargs(self) -> dict:
        return {"approve": self.cleaned_data["decision"], "note": self.cleaned_data["note"]}
