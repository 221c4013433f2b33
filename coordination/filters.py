"""Query-string filters and orderings of the coordination API (django-filter).

An unknown value (a SKU, a product line, a status, an ordering, a malformed datetime)
answers 400 with the error body rather than an empty list, so a client's typo is
reported instead of silently matching nothing."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from coordination.input_limits import validate_date
from coordination.models import CustomerRequest, Department, Product, ProductLine


class StableOrderingFilter(django_filters.OrderingFilter):
    """Ordering with the primary key as the last key, so pages never overlap."""

    def filter(self, qs, value):
        qs = super().filter(qs, value)
        if value:
            qs = qs.order_by(*qs.query.order_by, "pk")
        return qs


class ProductFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_search", max_length=80, help_text="Part of the SKU or the name."
    )
    product_line = django_filters.ModelChoiceFilter(
        queryset=ProductLine.objects.all(), to_field_name="name", help_text="Product line name."
    )
    lifecycle = django_filters.ChoiceFilter(choices=Product.Lifecycle.choices)
    quality_tier = django_filters.ChoiceFilter(choices=Product.QualityTier.choices)
    ordering = StableOrderingFilter(fields=["sku", "name", "updated_at"])

    class Meta:
        model = Product
        fields = ["q", "product_line", "lifecycle", "quality_tier"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(sku__icontains=value) | Q(name__icontains=value))


class CustomerRequestFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=CustomerRequest.Status.choices)
    kind = django_filters.ChoiceFilter(choices=CustomerRequest.Kind.choices)
    product = django_filters.ModelChoiceFilter(
        queryset=Product.objects.all(), to_field_name="sku", help_text="Product SKU."
    )
    department = django_filters.ChoiceFilter(choices=Department.choices)
    updated_since = django_filters.IsoDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gte",
        help_text="ISO 8601 datetime, e.g. 2026-11-23T08:00:00Z: requests changed since then.",
        validators=[validate_date],
    )
    # `priority` sorts by urgency (low < normal < high < urgent), not alphabetically:
    # the viewset annotates `priority_rank`.
    ordering = StableOrderingFilter(
        fields=[
            ("created_at", "created_at"),
            ("updated_at", "updated_at"),
            ("due_date", "due_date"),
            ("priority_rank", "priority"),
        ]
    )

    class Meta:
        model = CustomerRequest
        fields = ["status", "kind", "product", "department", "updated_since"]
