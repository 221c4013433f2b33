"""REST shapes of the recalls app: incidents, lots, effectiveness, tasks, press inquiries,
statements, consignee notifications and the activity timeline.

Read serializers turn rows into JSON. Input serializers check the *shape* of a body
only (types, choices, that named rows exist); every business rule — workflow states,
figures that must add up, who may do what — is recalls.services', so the browser and
the API answer the same way. Input serializers never save.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from coordination.api.fields import MAX_INT, NamedField, SkuField, VersionRequired, WeekField
from coordination.input_limits import validate_date
from coordination.models import ActivityEvent, CustomerRequest, Department
from recalls.models import (
    AffectedLot,
    CustomerNotification,
    PressInquiry,
    RecallIncident,
    RecallTask,
    Statement,
)
from recalls.selectors import effectiveness
from recalls.services.incidents import TRANSITIONS

# --------------------------------------------------------------------------- fields


class UsernameField(NamedField):
    """An active user named by their username."""

    default_error_messages = {
        "does_not_exist": "No active user named {value}.",
        "invalid": "Give the username as text.",
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "username")
        kwargs.setdefault("help_text", "A username.")
        if not kwargs.get("read_only"):
            kwargs.setdefault("queryset", get_user_model().objects.filter(is_active=True))
        super().__init__(**kwargs)


def _version(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(
        min_value=1,
        max_value=MAX_INT,
        help_text="The version you read; a stale one is refused with 409.",
        **kwargs,
    )


def _count(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=-MAX_INT, max_value=MAX_INT, **kwargs)


# ----------------------------------------------------------------------- incidents


class AffectedLotSerializer(serializers.ModelSerializer):
    product = SkuField(read_only=True)
    production_week = WeekField(read_only=True, allow_null=True)

    class Meta:
        model = AffectedLot
        fields = ["id", "product", "lot_code", "production_week", "best_before", "units"]
        read_only_fields = fields


class EffectivenessSerializer(serializers.Serializer):
    """The recall's effectiveness check. Units: distributed = recovered + unaccounted,
    recovered = returned + destroyed + corrected. Consignees: the share notified against
    the check level the class requires (100 % for class I, 25 % for II, 10 % for III).
    Percentages are null until their whole is recorded."""

    distributed = serializers.IntegerField(help_text="Units affected (distributed).")
    recovered = serializers.IntegerField()
    returned = serializers.IntegerField()
    destroyed = serializers.IntegerField()
    corrected = serializers.IntegerField()
    unaccounted = serializers.IntegerField()
    recovered_pct = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    consignees = serializers.IntegerField(help_text="Consignees to notify.")
    notified = serializers.IntegerField()
    acknowledged = serializers.IntegerField()
    notified_pct = serializers.DecimalField(max_digits=6, decimal_places=1, allow_null=True)
    check_level_pct = serializers.DecimalField(max_digits=4, decimal_places=1)
    meets_check_level = serializers.BooleanField()


class EffectivenessReportSerializer(EffectivenessSerializer):
    """The effectiveness endpoint's answer: the figures, with the recall they belong to
    and its version (to send with the next PUT)."""

    code = serializers.CharField()
    classification = serializers.ChoiceField(choices=RecallIncident.Classification.choices)
    version = serializers.IntegerField()


class RecallSerializer(serializers.ModelSerializer):
    """An incident as the list shows it."""

    products = SkuField(many=True, read_only=True)
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    open_tasks = serializers.IntegerField(read_only=True)
    overdue_tasks = serializers.IntegerField(read_only=True)
    open_press_inquiries = serializers.IntegerField(source="open_press", read_only=True)

    class Meta:
        model = RecallIncident
        fields = [
            "code",
            "title",
            "classification",
            "status",
            "source",
            "products",
            "stop_ship",
            "stop_ship_since",
            "owner",
            "units_distributed",
            "units_recovered",
            "consignees_to_notify",
            "open_tasks",
            "overdue_tasks",
            "open_press_inquiries",
            "announced_at",
            "closed_at",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class RecallDetailSerializer(RecallSerializer):
    """One incident: everything but its tasks, press, statements and notifications,
    which have their own endpoints."""

    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    source_requests = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    related_requests = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    lots = AffectedLotSerializer(many=True, read_only=True)
    next_statuses = serializers.SerializerMethodField()
    effectiveness = serializers.SerializerMethodField()
    public_notice_url = serializers.SerializerMethodField()

    class Meta(RecallSerializer.Meta):
        fields = [
            "code",
            "title",
            "classification",
            "status",
            "next_statuses",
            "source",
            "description",
            "hazard",
            "root_cause",
            "consumer_instructions",
            "contact",
            "source_requests",
            "related_requests",
            "products",
            "lots",
            "stop_ship",
            "stop_ship_since",
            "owner",
            "created_by",
            "units_distributed",
            "units_returned",
            "units_destroyed",
            "units_corrected",
            "units_recovered",
            "consignees_to_notify",
            "effectiveness",
            "open_tasks",
            "overdue_tasks",
            "open_press_inquiries",
            "public_notice_url",
            "announced_at",
            "closed_at",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(
        serializers.ListField(
            child=serializers.ChoiceField(choices=RecallIncident.Status.choices),
            help_text="The statuses POST …/transition/ may move it to.",
        )
    )
    def get_next_statuses(self, incident: RecallIncident) -> list[str]:
        return [str(status) for status in TRANSITIONS[incident.status]]

    @extend_schema_field(EffectivenessSerializer)
    def get_effectiveness(self, incident: RecallIncident) -> dict:
        return EffectivenessSerializer(effectiveness(incident)).data

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_public_notice_url(self, incident: RecallIncident) -> str | None:
        if not incident.is_public:
            return None
        return reverse("recall_public_notice", args=[incident.code])


class RecallCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=160)
    classification = serializers.ChoiceField(choices=RecallIncident.Classification.choices)
    hazard = serializers.CharField(max_length=10_000)
    source = serializers.ChoiceField(choices=RecallIncident.Source.choices)
    products = serializers.ListField(
        child=SkuField(), min_length=1, max_length=500, help_text="SKUs of affected products."
    )
    description = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=10_000
    )
    stop_ship = serializers.BooleanField(
        required=False, default=False, help_text="Hold production of the products at once."
    )
    source_requests = serializers.ListField(
        child=serializers.PrimaryKeyRelatedField(
            queryset=CustomerRequest.objects.all(),
            error_messages={"does_not_exist": "No customer request {pk_value}."},
        ),
        required=False,
        default=list,
        max_length=500,
        help_text="Ids of the quality-issue customer requests escalated to this recall.",
    )
    owner = UsernameField(
        required=False, allow_null=True, default=None, help_text="Leave out to own it yourself."
    )


class RecallUpdateSerializer(VersionRequired, serializers.Serializer):
    """PATCH body: any editable field, plus the version that was read. The status
    changes through …/transition/, the stop-ship through …/stop-ship/ and the figures
    through …/effectiveness/."""

    title = serializers.CharField(max_length=160, required=False)
    description = serializers.CharField(allow_blank=True, max_length=10_000, required=False)
    classification = serializers.ChoiceField(
        choices=RecallIncident.Classification.choices, required=False
    )
    hazard = serializers.CharField(max_length=10_000, required=False)
    root_cause = serializers.CharField(allow_blank=True, max_length=10_000, required=False)
    consumer_instructions = serializers.CharField(
        allow_blank=True, max_length=10_000, required=False
    )
    contact = serializers.CharField(allow_blank=True, max_length=200, required=False)
    owner = UsernameField(required=False)
    version = _version()

    ELSEWHERE = {
        "status": "Change the status with POST /api/v1/recalls/<code>/transition/.",
        "stop_ship": "Place or release the stop-ship with POST /api/v1/recalls/<code>/stop-ship/.",
        "code": "A recall's code cannot be changed.",
    }

    def validate(self, attrs):
        sent = self.initial_data if isinstance(self.initial_data, dict) else {}
        wrong = {name: message for name, message in self.ELSEWHERE.items() if name in sent}
        if wrong:
            raise serializers.ValidationError(wrong)
        return attrs


class RecallTransitionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=RecallIncident.Status.choices,
        help_text="open → investigating → announced → recovering → closed, one step at a time.",
    )
    version = _version()


class StopShipSerializer(serializers.Serializer):
    stop_ship = serializers.BooleanField(help_text="true places the stop-ship, false releases it.")
    version = _version()


class LotCreateSerializer(serializers.Serializer):
    product = SkuField(help_text="One of the recall's products; another only with `add_product`.")
    lot_code = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        default="",
        help_text="Unique per product in the recall.",
    )
    production_week = WeekField(
        required=False,
        allow_null=True,
        default=None,
        help_text="This week or earlier; without a lot code, unique per product in the recall.",
    )
    best_before = serializers.DateField(
        required=False, allow_null=True, default=None, validators=[validate_date]
    )
    units = _count(required=False, default=0)
    add_product = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Confirms adding a product the recall does not name yet; under a stop-ship "
        "its production is held at 0 and its promotions are put at risk.",
    )


class EffectivenessInputSerializer(serializers.Serializer):
    units_distributed = _count(help_text="Units affected: distributed to consignees.")
    units_returned = _count()
    units_destroyed = _count()
    units_corrected = _count()
    consignees_to_notify = _count()
    version = _version()


class ActivityEventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = ActivityEvent
        fields = ["id", "created_at", "actor", "verb", "message", "data"]
        read_only_fields = fields


# --------------------------------------------------------------------------- tasks


class RecallTaskSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    is_overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = RecallTask
        fields = [
            "id",
            "title",
            "department",
            "owner",
            "due_date",
            "is_overdue",
            "done_at",
            "created_at",
        ]
        read_only_fields = fields


class TaskCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    department = serializers.ChoiceField(choices=Department.choices)
    owner = UsernameField(help_text="Must work in the department.")
    due_date = serializers.DateField(validators=[validate_date])


# --------------------------------------------------------------------------- press


class PressInquirySerializer(serializers.ModelSerializer):
    recall = serializers.SlugRelatedField(source="incident", slug_field="code", read_only=True)
    answered_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    is_overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = PressInquiry
        fields = [
            "id",
            "recall",
            "outlet",
            "contact",
            "question",
            "received_at",
            "response_due",
            "is_overdue",
            "status",
            "answer",
            "answered_by",
            "answered_at",
        ]
        read_only_fields = fields


class PressInquiryCreateSerializer(serializers.Serializer):
    outlet = serializers.CharField(max_length=120)
    contact = serializers.CharField(max_length=200)
    question = serializers.CharField(max_length=10_000)
    received_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Leave out for now.",
        validators=[validate_date],
    )
    response_due = serializers.DateTimeField(validators=[validate_date])


class PressAnswerSerializer(serializers.Serializer):
    answer = serializers.CharField(required=False, allow_blank=True, default="", max_length=10_000)
    decline = serializers.BooleanField(
        required=False, default=False, help_text="Declined to comment (the answer may be empty)."
    )


# ---------------------------------------------------------------------- statements


class StatementSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)
    reviewed_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = Statement
        fields = [
            "id",
            "title",
            "body",
            "status",
            "author",
            "reviewed_by",
            "reviewed_at",
            "review_note",
            "published_at",
            "version",
            "created_at",
        ]
        read_only_fields = fields


class StatementCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=160)
    body = serializers.CharField(max_length=20_000)


class StatementUpdateSerializer(VersionRequired, serializers.Serializer):
    """Only the fields sent change."""

    title = serializers.CharField(max_length=160, required=False)
    body = serializers.CharField(max_length=20_000, required=False)
    version = _version()


class StatementVersionSerializer(serializers.Serializer):
    version = _version()


class StatementApproveSerializer(StatementVersionSerializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=10_000)


class StatementRejectSerializer(StatementVersionSerializer):
    note = serializers.CharField(
        allow_blank=True, max_length=10_000, help_text="What must change before approval."
    )


# ------------------------------------------------------------------- notifications


class CustomerNotificationSerializer(serializers.ModelSerializer):
    notified_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = CustomerNotification
        fields = [
            "id",
            "consignee",
            "account",
            "channel",
            "notified_at",
            "notified_by",
            "acknowledged",
            "note",
        ]
        read_only_fields = fields


class NotificationCreateSerializer(serializers.Serializer):
    consignee = serializers.CharField(max_length=160)
    account = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    channel = serializers.ChoiceField(choices=CustomerNotification.Channel.choices)
    notified_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Leave out for now.",
        validators=[validate_date],
    )
    acknowledged = serializers.BooleanField(required=False, default=False)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
