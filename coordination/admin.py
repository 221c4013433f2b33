from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.template.response import TemplateResponse

from coordination.models import ApiClient, User
from coordination.scopes import SCOPE_CHOICES
from coordination.services import api_clients


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
        # The admin goes on with `obj` (log entry, redirect): make it the saved client.
        for field in ApiClient._meta.concrete_fields:
            setattr(obj, field.attname, getattr(client, field.attname))
        obj._state.adding = False
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
