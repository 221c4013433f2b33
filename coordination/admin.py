from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.db.models import Count
from django.template.response import TemplateResponse
from django.utils.text import Truncator

from coordination.admin_support import (
    ReadOnlyAdmin,
    ReadOnlyInline,
    ServiceAdmin,
    VersionedForm,
    adopt_saved,
    app_page_link,
    safe_reverse,
)
from coordination.api.scopes import SCOPE_CHOICES
from coordination.models import (
    ActivityEvent,
    ApiClient,
    CalendarFeed,
    CustomerRequest,
    EmailNotification,
    EmailPreference,
    IdempotencyKey,
    Notice,
    Product,
    ProductLine,
    ProductPrice,
    RecomputeRequest,
    Specification,
    User,
)
from coordination.services import api_clients, notifications, products


@admin.register(User)
class TandemUserAdmin(UserAdmin):
    list_display = ("username", "first_name", "last_name", "email", "roles", "is_active")
    list_filter = ("groups", "is_active", "is_staff")

    @admin.display(description="Roles")
    def roles(self, obj):
        return ", ".join(group.name for group in obj.groups.all())

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")


class ApiClientForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=SCOPE_CHOICES, widget=forms.CheckboxSelectMultiple, required=True
    )

    class Meta:
        model = ApiClient
        fields = ("name", "scopes")


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    """Create a client (its key is shown once, on the page after saving), change its
    scopes, rotate or revoke its key. Every write goes through the api_clients services;
    the key is rendered into that one response and never stored, not even in messages."""

    form = ApiClientForm
    list_display = ("name", "scope_list", "key_prefix", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("name",)
    readonly_fields = (
        "key_prefix",
        "user",
        "created_by",
        "created_at",
        "rotated_at",
        "last_used_at",
        "revoked_at",
    )
    actions = ("rotate_keys", "revoke_keys")

    @admin.display(description="Scopes")
    def scope_list(self, obj):
        return ", ".join(obj.scopes)

    def get_readonly_fields(self, request, obj=None):
        # The name is the service user's name too: fixed once created.
        return (*self.readonly_fields, "name") if obj else self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the client's writes keep their author

    def save_model(self, request, obj, form, change):
        if change:
            api_clients.client_set_scopes(client=obj, scopes=form.cleaned_data["scopes"])
            return
        client, key = api_clients.client_create(
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            created_by=request.user,
        )
        adopt_saved(obj, client)
        request._api_client_keys = [(client, key)]

    def response_add(self, request, obj, post_url_continue=None):
        keys = getattr(request, "_api_client_keys", None)
        if keys:
            return self._show_keys(request, keys, "API client created")
        return super().response_add(request, obj, post_url_continue)

    def _show_keys(self, request, keys, title):
        return TemplateResponse(
            request,
            "admin/coordination/apiclient/keys.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "opts": self.model._meta,
                "keys": keys,
            },
        )

    @admin.action(description="Rotate the key of the selected clients (shows the new keys)")
    def rotate_keys(self, request, queryset):
        active = list(queryset.filter(revoked_at__isnull=True))
        keys = [(client, api_clients.client_rotate(client=client)) for client in active]
        skipped = queryset.count() - len(active)
        if skipped:
            messages.warning(request, f"{skipped} revoked client(s) skipped.")
        if not keys:
            return None
        return self._show_keys(request, keys, "New API keys")

    @admin.action(description="Revoke the selected clients' keys")
    def revoke_keys(self, request, queryset):
        clients = list(queryset.filter(revoked_at__isnull=True))
        for client in clients:
            api_clients.client_revoke(client=client)
        messages.success(request, f"Revoked {len(clients)} API client(s).")


# ------------------------------------------------------------ products and workflow


def _product_page(product):
    return safe_reverse("product_detail", product.sku) if product.pk else None


class ProductLineForm(forms.ModelForm):
    class Meta:
        model = ProductLine
        fields = ("name", "description")


@admin.register(ProductLine)
class ProductLineAdmin(ServiceAdmin):
    """Editable: plain reference data with no side effects, saved through the
    product_line services; never deleted, its products PROTECT it."""

    form = ProductLineForm
    list_display = ("name", "description", "product_count")
    search_fields = ("name",)
    ordering = ("name",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(product_total=Count("products"))

    @admin.display(description="Products", ordering="product_total")
    def product_count(self, obj):
        return obj.product_total

    def call_service(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            return products.product_line_update(
                actor=request.user,
                line_id=obj.pk,
                name=data["name"],
                description=data["description"],
            )
        return products.product_line_create(
            actor=request.user, name=data["name"], description=data["description"]
        )


class ProductForm(VersionedForm):
    class Meta:
        model = Product
        fields = ("sku", *products.EDITABLE_FIELDS)


class ProductPriceInline(ReadOnlyInline):
    """The price history: the product's own price and cost land here when they change;
    channel prices are added on the product price page."""

    model = ProductPrice
    fields = ("effective_from", "channel", "unit_price", "unit_cost", "created_at")
    ordering = ("channel", "-effective_from")


@admin.register(Product)
class ProductAdmin(ServiceAdmin):
    """Editable through product_create / product_update, so each edit is version-checked
    and lands on the product's timeline; never deleted (its history PROTECTs it)."""

    form = ProductForm
    list_display = (
        "sku",
        "name",
        "product_line",
        "production_line",
        "lifecycle",
        "quality_tier",
        "unit_price",
        "unit_cost",
        "lead_time_weeks",
        "updated_at",
    )
    list_filter = ("lifecycle", "quality_tier", "product_line", "production_line")
    search_fields = ("sku", "name")
    list_select_related = ("product_line", "production_line")
    autocomplete_fields = ("product_line", "production_line", "predecessor")
    fields = (
        "sku",
        *products.EDITABLE_FIELDS,
        "expected_version",
        "tandem_page",
        "version",
        "created_at",
        "updated_at",
    )
    readonly_fields = ("tandem_page", "version", "created_at", "updated_at")
    ordering = ("sku",)
    inlines = (ProductPriceInline,)

    def get_readonly_fields(self, request, obj=None):
        # The SKU is the product's identity in every import and URL: fixed once created.
        return ("sku", *self.readonly_fields) if obj else self.readonly_fields

    def view_on_site(self, obj):
        return _product_page(obj)

    @admin.display(description="Product page")
    def tandem_page(self, obj):
        return app_page_link(_product_page(obj))

    def call_service(self, request, obj, form, change):
        data = form.cleaned_data
        fields = {name: data[name] for name in products.EDITABLE_FIELDS if name in data}
        if change:
            changed = {name: value for name, value in fields.items() if name in form.changed_data}
            return products.product_update(
                actor=request.user,
                product_id=obj.pk,
                expected_version=data["expected_version"],
                **changed,
            )
        return products.product_create(actor=request.user, sku=data["sku"], **fields)


class ProductPriceForm(forms.ModelForm):
    class Meta:
        model = ProductPrice
        fields = ("product", "channel", "effective_from", "unit_price", "unit_cost")


@admin.register(ProductPrice)
class ProductPriceAdmin(ServiceAdmin):
    """A channel's own price from a week on, through product_price_set; a row once in the
    history is not changed (a new week's row supersedes it)."""

    form = ProductPriceForm
    list_display = ("product", "channel", "effective_from", "unit_price", "unit_cost")
    list_filter = ("channel",)
    search_fields = ("product__sku", "product__name")
    list_select_related = ("product",)
    autocomplete_fields = ("product",)
    ordering = ("product__sku", "channel", "-effective_from")

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def call_service(self, request, obj, form, change):
        data = form.cleaned_data
        return products.product_price_set(
            actor=request.user,
            product_id=data["product"].pk,
            channel=data["channel"],
            effective_from=data["effective_from"],
            unit_price=data["unit_price"],
            unit_cost=data["unit_cost"],
        )


def _specification_page(spec):
    return safe_reverse("specification_detail", spec.product.sku, spec.number)


@admin.register(Specification)
class SpecificationAdmin(ReadOnlyAdmin):
    """Read-only: a specification moves draft → proposed → approved/rejected through the
    specification services (four-eyes review, superseding); change it on its page."""

    list_display = (
        "product",
        "number",
        "status",
        "effective_from",
        "effective_until",
        "author",
        "reviewed_by",
        "reviewed_at",
    )
    list_filter = ("status", "product__product_line")
    search_fields = ("product__sku", "product__name", "rationale")
    list_select_related = ("product", "author", "reviewed_by")
    date_hierarchy = "effective_from"
    ordering = ("product__sku", "-number")
    readonly_fields = ("tandem_page",)

    def view_on_site(self, obj):
        return _specification_page(obj)

    @admin.display(description="Changed on")
    def tandem_page(self, obj):
        return app_page_link(_specification_page(obj), "the specification page")


def _request_page(request_obj):
    return safe_reverse("request_detail", request_obj.pk)


@admin.register(CustomerRequest)
class CustomerRequestAdmin(ReadOnlyAdmin):
    """Read-only: routing, feasibility, quotes and decisions are workflow steps of the
    customer_requests services (some re-plan production); take them on the request page."""

    list_display = (
        "id",
        "customer_name",
        "kind",
        "summary",
        "product",
        "priority",
        "status",
        "department",
        "assignee",
        "due_date",
        "created_at",
    )
    list_display_links = ("id", "summary")
    list_filter = ("status", "kind", "department", "priority", "channel")
    search_fields = ("customer_name", "customer_account", "summary", "product__sku")
    list_select_related = ("product", "assignee")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    readonly_fields = ("tandem_page",)

    def view_on_site(self, obj):
        return _request_page(obj)

    @admin.display(description="Changed on")
    def tandem_page(self, obj):
        return app_page_link(_request_page(obj), "the request page")


@admin.register(ActivityEvent)
class ActivityEventAdmin(ReadOnlyAdmin):
    """Read-only: the audit timeline, written only by coordination.services.activity."""

    list_display = ("created_at", "actor", "verb", "content_type", "object_id", "short_message")
    list_filter = ("verb", ("content_type", admin.RelatedOnlyFieldListFilter))
    search_fields = ("message", "actor__username")
    list_select_related = ("actor", "content_type")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    show_full_result_count = False  # a big table: no second COUNT(*) per page
    readonly_fields = ("target_object",)

    @admin.display(description="Message")
    def short_message(self, obj):
        return Truncator(obj.message).chars(100)

    @admin.display(description="Target")
    def target_object(self, obj):
        return str(obj.target) if obj.target is not None else "(deleted)"


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyAdmin):
    """Read-only: the answers kept for API creates sent with an Idempotency-Key, written
    in the create's transaction and deleted a day later by the periodic cleanup."""

    list_display = ("created_at", "user", "method", "path", "key", "status_code", "expires_at")
    list_filter = ("method", "status_code")
    search_fields = ("key", "path", "user__username")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    show_full_result_count = False


@admin.register(RecomputeRequest)
class RecomputeRequestAdmin(ReadOnlyAdmin):
    """Read-only: the planning outbox, written by recompute_request and worked off by
    the pipeline; a hand edit would lose or repeat a recompute."""

    list_display = (
        "id",
        "source",
        "status",
        "reason",
        "requested_by",
        "created_at",
        "enqueued_at",
        "enqueue_attempts",
        "finished_at",
    )
    list_filter = ("status", "source")
    search_fields = ("reason",)
    list_select_related = ("requested_by",)
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    show_full_result_count = False


@admin.register(Notice)
class NoticeAdmin(ReadOnlyAdmin):
    """Read-only: banners are raised and cleared by whoever owns them (e.g. a recall)
    through coordination.services.notices."""

    list_display = (
        "message",
        "level",
        "reference",
        "content_type",
        "object_id",
        "raised_at",
        "cleared_at",
    )
    list_filter = (
        "level",
        ("cleared_at", admin.EmptyFieldListFilter),
        ("content_type", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("message", "reference")
    list_select_related = ("content_type",)
    date_hierarchy = "raised_at"
    ordering = ("-raised_at",)


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    """Who has a calendar feed and whether their calendar app reads it. The address is not
    stored, so it cannot be shown; people make theirs at /accounts/calendar/. Deleting a
    feed here revokes it (e.g. for someone who left)."""

    list_display = ("user", "created_at", "last_fetched_at")
    search_fields = ("user__username", "user__first_name", "user__last_name")
    list_select_related = ("user",)
    readonly_fields = ("user", "created_at", "last_fetched_at")
    fields = readonly_fields
    ordering = ("user__username",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(EmailNotification)
class EmailNotificationAdmin(ReadOnlyAdmin):
    """Read-only: the e-mail outbox, written with the event (or by the daily digest) and
    sent by workers; a hand edit would send a message twice or never. One action: send
    failed ones again, once what made them fail is fixed."""

    list_display = ("created_at", "user", "kind", "subject", "status", "attempts", "sent_at")
    list_filter = ("status", "kind")
    search_fields = ("subject", "key", "user__username", "user__email")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    show_full_result_count = False

    def get_actions(self, request):
        return admin.ModelAdmin.get_actions(self, request)  # ReadOnlyAdmin has none

    actions = ("send_again",)

    @admin.action(description="Send the selected failed e-mails again")
    def send_again(self, request, queryset):
        retried = notifications.emails_retry(notification_ids=queryset.values_list("pk", flat=True))
        skipped = queryset.count() - len(retried)
        messages.success(request, f"{len(retried)} failed e-mail(s) queued to send again.")
        if skipped:
            messages.warning(request, f"{skipped} not failed: left as they are.")


@admin.register(EmailPreference)
class EmailPreferenceAdmin(ReadOnlyAdmin):
    """Read-only: each person chooses on their profile page or by an unsubscribe link."""

    list_display = ("user", "kind", "enabled", "updated_at")
    list_filter = ("kind", "enabled")
    search_fields = ("user__username", "user__email")
    list_select_related = ("user",)
