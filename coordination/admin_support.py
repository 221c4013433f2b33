"""Building blocks for admin pages, shared by every app's admin.py.

The admin is an edge like a view: it reads freely, but every write goes through a
service. Two kinds of page follow from that:

- `ReadOnlyAdmin`: derived, imported or workflow-owned data. Staff can look things up;
  the admin adds, changes and deletes nothing (a POST to the change page is refused).
- `ServiceAdmin`: the form is validated as usual, then `call_service` makes the change
  (with its activity record, version bump and recompute request), never `obj.save()`.
  Nothing with history is deleted here: the models PROTECT it.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from coordination.errors import StaleEditError
from coordination.forms import ShowsHiddenFieldErrors

SERVICE_ERRORS = (ValidationError, PermissionDenied, StaleEditError)


class _ViewOnly:
    """No add, no change, no delete, whatever the user's permissions."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(_ViewOnly, admin.ModelAdmin):
    """View-only: no add, no change, no delete, whatever the user's permissions."""

    def get_actions(self, request):
        return {}  # the only default action is "delete selected"


class ReadOnlyInline(_ViewOnly, admin.TabularInline):
    """Rows shown under their parent, never added, changed or deleted here. Every field
    listed in `fields` is read-only; `select_related` names the relations the rows show."""

    extra = 0
    can_delete = False
    select_related: tuple[str, ...] = ()

    def get_readonly_fields(self, request, obj=None):
        return self.fields or ()

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset.select_related(*self.select_related) if self.select_related else queryset


def app_page_link(url: str | None, text: str = "Open in Tandem") -> str:
    if not url:
        return "—"
    return format_html('<a href="{}">{}</a>', url, text)


def safe_reverse(name: str, *args) -> str | None:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


class VersionedForm(forms.ModelForm):
    """Carries the version the user loaded, so a stale edit is refused (optimistic
    locking), in the form when it is already stale and by the service under its lock."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # An edit without the version it was made on is refused, never unchecked.
            self.fields["expected_version"].initial = self.instance.version
            self.fields["expected_version"].required = True

    def clean(self):
        cleaned = super().clean()
        if self.has_error("expected_version"):
            raise ValidationError(ShowsHiddenFieldErrors.HIDDEN_FIELD_ERROR)
        expected = cleaned.get("expected_version")
        if self.instance.pk and expected != self.instance.version:
            raise ValidationError(str(StaleEditError(self.instance)))
        return cleaned


def _error_messages(exc: Exception) -> list[str]:
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return [
                f"{field.replace('_', ' ')}: {message}" if field != "__all__" else message
                for field, field_messages in exc.message_dict.items()
                for message in field_messages
            ]
        return list(exc.messages)
    return [str(exc) or "You may not make this change."]


def adopt_saved(obj, saved) -> None:
    """The admin goes on with `obj` (log entry, redirect) after a service saved `saved`
    in its place: make `obj` the saved row."""
    for field in obj._meta.concrete_fields:
        setattr(obj, field.attname, getattr(saved, field.attname))
    obj._state.adding = False


class ServiceAdmin(admin.ModelAdmin):
    """Saves through a service. Subclasses implement `call_service`, which returns the
    saved instance. Rules the form cannot see (a lock lost to a concurrent edit, a check
    only the service makes) come back as an error message and a fresh form, not a 500;
    nothing is saved or logged then."""

    def call_service(self, request, obj, form, change):
        raise NotImplementedError

    def has_delete_permission(self, request, obj=None):
        return False  # PROTECT: history refers to it

    def save_model(self, request, obj, form, change):
        try:
            saved = self.call_service(request, obj, form, change)
        except SERVICE_ERRORS as exc:
            request._service_refused = True
            for message in _error_messages(exc):
                self.message_user(request, message, messages.ERROR)
            return
        if saved is not None and saved is not obj:
            adopt_saved(obj, saved)

    def save_related(self, request, form, formsets, change):
        # The service wrote everything, related rows included; inlines are read-only.
        pass

    def construct_change_message(self, request, form, formsets, add=False):
        # Inline formsets were never saved (see save_related): only the form changed.
        return super().construct_change_message(request, form, [], add)

    def _refused(self, request) -> bool:
        return getattr(request, "_service_refused", False)

    def log_addition(self, request, obj, message):
        if not self._refused(request):
            return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        if not self._refused(request):
            return super().log_change(request, obj, message)

    def response_add(self, request, obj, post_url_continue=None):
        if self._refused(request):
            return HttpResponseRedirect(request.get_full_path())
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if self._refused(request):
            return HttpResponseRedirect(request.get_full_path())
        return super().response_change(request, obj)


def rounded(field: str, description: str | None = None, places: int = 1):
    """A sortable list column showing a float field with `places` decimals."""

    @admin.display(description=description or field.replace("_", " "), ordering=field)
    def column(obj):
        value = getattr(obj, field)
        return "—" if value is None else f"{value:,.{places}f}"

    column.__name__ = field
    return column
