"""Admin for webhooks. Endpoints are registered through the API (the only place their
secret is shown); here staff can see them, pause or delete them, and read deliveries."""

from django.contrib import admin

from production.models import WebhookDelivery, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "url", "owner", "created_by", "is_active", "failure_count"]
    list_filter = ["is_active"]
    search_fields = ["name", "url"]
    # `secret` is not editable, so it never appears in a form; listed nowhere either.
    fields = [
        "name",
        "url",
        "lines",
        "owner",
        "created_by",
        "is_active",
        "failure_count",
        "disabled_at",
        "created_at",
    ]
    readonly_fields = ["owner", "created_by", "failure_count", "created_at"]
    filter_horizontal = ["lines"]

    def has_add_permission(self, request):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "event_type", "endpoint", "status", "attempts", "created_at"]
    list_filter = ["status", "event_type"]
    search_fields = ["event_id"]
    readonly_fields = [field.name for field in WebhookDelivery._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
