"""What every app's REST layer shares: one error body, role permissions per action,
pagination, idempotent creates.

Every error answers `{"error": {"code": ..., "message": ..., "fields": {...}}}` with the
right status: 400 bad input, 401 not signed in, 403 not allowed, 404 not found,
409 stale edit or `over_capacity` (with its `weeks`), 422 an Idempotency-Key reused, 429
throttled. Services raise Django's ValidationError and PermissionDenied and Tandem's
StaleEditError, OverCapacityError and IdempotencyKeyReused; this handler turns them into
those bodies, so no service error ever becomes a 500.
"""

from __future__ import annotations

import functools
import re

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from coordination.api import scopes
from coordination.errors import IdempotencyKeyReused, OverCapacityError, StaleEditError


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "stale_edit"
    default_detail = "The record was changed by someone else."


class KeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"
    default_detail = "This Idempotency-Key was used for another request."


IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
# Printable ASCII without spaces, as a header carries it: a UUID is the usual choice.
IDEMPOTENCY_KEY = re.compile(r"[!-~]{1,255}")


def idempotent(handler):
    """Make a create operation honour the `Idempotency-Key` header.

    With a key, the create and the key's claim are one transaction: a 2xx answer is
    kept with the key (status and body) and sent again, with `Idempotent-Replayed:
    true`, to the same caller's next request with that key and the same body, which
    creates nothing; another body with that key is a 422. A refused create (4xx) keeps
    nothing, so the caller may correct it and retry with the same key. Without the
    header, nothing changes. The schema documents the header on every operation this
    marks (coordination.api.schema)."""

    @functools.wraps(handler)
    def with_key(view, request, *args, **kwargs):
        from coordination.services import idempotency  # the app registry is not ready here

        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is None:
            return handler(view, request, *args, **kwargs)
        if not IDEMPOTENCY_KEY.fullmatch(key):
            raise exceptions.ValidationError(
                {
                    IDEMPOTENCY_HEADER: [
                        "Send 1 to 255 printable ASCII characters without spaces, e.g. a UUID."
                    ]
                }
            )
        body = request.data  # parsed before the transaction: a bad body is a plain 400
        with transaction.atomic():
            claim, replay = idempotency.idempotency_claim(
                user=request.user,
                key=key,
                method=request.method,
                path=request.get_full_path(),
                body=body,
            )
            if not replay:
                response = handler(view, request, *args, **kwargs)
                if not status.is_success(response.status_code):
                    transaction.set_rollback(True)
                    return response
                idempotency.idempotency_record(
                    claim,
                    status_code=response.status_code,
                    response_body=JSONRenderer().render(response.data).decode(),
                )
                return response
        replayed = HttpResponse(
            claim.response_body, status=claim.status_code, content_type="application/json"
        )
        replayed[REPLAYED_HEADER] = "true"
        return replayed

    with_key.idempotent = True
    return with_key


def is_idempotent(handler) -> bool:
    return getattr(handler, "idempotent", False)


def _flatten(detail) -> list[str]:
    if isinstance(detail, list):
        return [message for item in detail for message in _flatten(item)]
    if isinstance(detail, dict):
        return [message for value in detail.values() for message in _flatten(value)]
    return [str(detail)]


def _fields(detail) -> dict:
    """DRF's nested error detail, as {field: [messages]} (nested fields dotted)."""
    fields: dict[str, list[str]] = {}

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list) and value and isinstance(value[0], dict | list):
            for index, inner in enumerate(value):
                walk(f"{prefix}.{index}" if prefix else str(index), inner)
        else:
            fields.setdefault(prefix or "non_field_errors", []).extend(_flatten(value))

    walk("", detail)
    return fields


def _from_django_validation_error(exc: DjangoValidationError) -> exceptions.ValidationError:
    if hasattr(exc, "error_dict"):
        detail = {
            ("non_field_errors" if field == "__all__" else field): messages
            for field, messages in exc.message_dict.items()
        }
    else:
        detail = {"non_field_errors": exc.messages}
    return exceptions.ValidationError(detail)


def exception_handler(exc, context):
    # Imported here: rest_framework.views reads the settings that name this module.
    from rest_framework.views import exception_handler as drf_exception_handler
    from rest_framework.views import set_rollback

    if isinstance(exc, OverCapacityError):
        set_rollback()
        fields = {field: [message] for field, message in exc.fields.items()}
        return Response(
            error_body("over_capacity", str(exc), fields, weeks=exc.weeks),
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, DjangoValidationError):
        exc = _from_django_validation_error(exc)
    elif isinstance(exc, StaleEditError):
        exc = Conflict(str(exc))
    elif isinstance(exc, IdempotencyKeyReused):
        exc = KeyReused(str(exc))
    elif isinstance(exc, ObjectDoesNotExist | Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    detail = exc.detail if isinstance(exc, exceptions.APIException) else response.data
    if isinstance(exc, exceptions.ValidationError):
        fields = _fields(detail)
        non_field = fields.get("non_field_errors", [])
        message = non_field[0] if non_field else "Some fields are not valid; see fields."
        code = "invalid"
    else:
        fields = {}
        message = " ".join(_flatten(detail))
        code = getattr(exc, "default_code", "error")
        if isinstance(detail, exceptions.ErrorDetail) and detail.code:
            code = detail.code
    response.data = error_body(code, message, fields)
    return response


class ActionPermissions(BasePermission):
    """Each view lists the Django permissions each action needs:

        required_permissions = {"list": ["coordination.view_product"], ...}

    An action the view does not list is refused, so a new action is closed until
    someone decides who may use it.

    An API client (`request.auth` is an ApiClient) must also hold the scope the view
    declares for reads or writes (`required_scopes = {"read": "schedules:read"}`); a
    view that declares none is closed to API clients."""

    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return False
        method = request.method.lower()
        # A viewset routes the methods in its action map; a plain view has handlers.
        routed = method in view.action_map if hasattr(view, "action_map") else hasattr(view, method)
        if not routed or method == "options":
            # No handler: let DRF answer 405 (nobody may, so "forbidden" would mislead).
            # OPTIONS only describes the endpoint.
            return True
        action = getattr(view, "action", None) or method
        required = getattr(view, "required_permissions", {}).get(action)
        if required is None:
            return False
        if not self._scope_allows(request, view):
            return False
        return request.user.has_perms(required)

    def _scope_allows(self, request, view) -> bool:
        from coordination.models import ApiClient  # the app registry is not ready here

        client = request.auth
        if not isinstance(client, ApiClient):
            return True
        kind = scopes.READ if request.method in SAFE_METHODS else scopes.WRITE
        needed = getattr(view, "required_scopes", {}).get(kind)
        if needed is None:
            self.message = f"API clients may not {kind} here."
        elif needed not in client.scopes:
            self.message = f"This API key lacks the scope {needed}."
        else:
            return True
        self.code = "missing_scope"
        return False


class StandardPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


def error_body(code: str, message: str, fields=None, **details) -> dict:
    """The one shape of every API error (see the module docstring). `details` are what
    one error code adds beside the message, e.g. the weeks of `over_capacity`."""
    return {"error": {"code": code, "message": message, "fields": fields or {}, **details}}


def error_response(code: str, message: str, http_status: int, fields=None) -> Response:
    return Response(error_body(code, message, fields), status=http_status)
