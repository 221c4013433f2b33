"""Serializer fields every app's REST layer shares: weeks, products by SKU, rows named by
a text field, and integer bounds. One definition, so a week or a SKU is read, refused
and documented the same way on every endpoint."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from coordination.weeks import iso_label, parse_week

# Integers are bounded to what every supported database stores, so an absurd number is
# a shape error at the edge instead of an overflow in the ORM. The ranges with meaning
# (a quantity of at least 1, no negative units...) are the services' to check, with the
# same messages the browser shows.
MAX_INT = 2_147_483_647


class VersionRequired:
    """A mixin for PATCH bodies whose fields are all optional but the version read:
    never "partial" in DRF's sense, so `version` stays required, also in the OpenAPI
    schema, where drf-spectacular would otherwise describe a PATCH body as all-optional.
    Put it before the Serializer class."""

    @property
    def partial(self) -> bool:
        return False

    @partial.setter
    def partial(self, value) -> None:
        pass


def parse_api_week(value) -> dt.date | None:
    """parse_week: only weeks within the accepted dates (coordination.input_limits).
    Raises Django's ValidationError."""
    return parse_week(value)


@extend_schema_field(
    {
        "type": "string",
        "example": "2026-W50",
        "description": "An ISO week (2026-W50) or a date in it (2026-12-07).",
    }
)
class WeekField(serializers.Field):
    """An ISO week ("2026-W50") or any date in it ("2026-12-07"); the value is that
    week's Monday. Rendered as the Monday's ISO date, or with `iso_label=True` as the
    ISO week label ("2026-W50"). (Not `label`: DRF fields already use that name.)"""

    default_error_messages = {
        "invalid": "Enter a week as 2026-W48 or a date as 2026-11-23.",
        "required": "Choose the week, e.g. 2026-W48.",
    }

    def __init__(self, *, iso_label: bool = False, **kwargs):
        self.renders_iso_label = iso_label
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> dt.date:
        if not isinstance(data, str) or not data.strip():
            self.fail("invalid")
        try:
            return parse_api_week(data)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages, code="invalid_week") from exc

    def to_representation(self, value: dt.date) -> str:
        return iso_label(value) if self.renders_iso_label else value.isoformat()


class NamedField(serializers.SlugRelatedField):
    """A related row named by a text field (a name, a SKU, a username); anything but
    text is refused before it reaches a query."""

    default_error_messages = {"invalid": "Give the name as text."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data.strip())


class SkuField(NamedField):
    """A product named by its SKU (case and surrounding spaces ignored)."""

    default_error_messages = {
        "does_not_exist": "No product with SKU {value}.",
        "invalid": "Give the product's SKU as text, e.g. BEV-1001.",
    }

    def __init__(self, **kwargs):
        from coordination.models import Product

        if not kwargs.get("read_only"):
            kwargs.setdefault("queryset", Product.objects.all())
        super().__init__(slug_field="sku", **kwargs)

    def to_internal_value(self, data):
        return super().to_internal_value(data.upper() if isinstance(data, str) else data)
