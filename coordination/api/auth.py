"""API clients on the wire: `Authorization: Bearer <key>`, and what the key may do.

BearerKeyAuthentication answers with the client's service user (so writes are
attributed to it and `is_authenticated` holds) and the ApiClient as `request.auth`.
ApiClientBackend grants that service user exactly the permissions of the client's
scopes (coordination/scopes.py) — the same permission checks people go through.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from coordination.api.scopes import permissions_for
from coordination.services import api_clients

KEYWORD = "Bearer"
_CLIENT_ATTRIBUTE = "_tandem_api_client"


class BearerKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD.lower().encode():
            return None  # not ours: Token or session may still apply
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Invalid Authorization header: send `Bearer <key>`."
            )
        try:
            key = parts[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed("Invalid API key.") from exc
        client = api_clients.client_for_key(key)
        if client is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        api_clients.client_record_use(client=client)
        user = client.user
        setattr(user, _CLIENT_ATTRIBUTE, client)
        return user, client

    def authenticate_header(self, request):
        return f'{KEYWORD} realm="api"'


def api_client_of(user):
    """The ApiClient a request's user acts for, or None for a person."""
    return getattr(user, _CLIENT_ATTRIBUTE, None)


class ApiClientBackend:
    """Permissions for service users of API clients; never logs anyone in.

    Reads the client the authentication attached to the user object, so people's
    permission checks cost no extra query."""

    def authenticate(self, request, **credentials):
        return None

    def get_user(self, user_id):
        return None

    def get_all_permissions(self, user_obj, obj=None):
        client = api_client_of(user_obj)
        if client is None or obj is not None or client.revoked_at is not None:
            return set()
        return permissions_for(client.scopes)

    def has_perm(self, user_obj, perm, obj=None):
        return perm in self.get_all_permissions(user_obj, obj)

    def has_module_perms(self, user_obj, app_label):
        return any(p.startswith(f"{app_label}.") for p in self.get_all_permissions(user_obj))


class BearerKeyScheme(OpenApiAuthenticationExtension):
    target_class = BearerKeyAuthentication
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "An API client's key: `Authorization: Bearer <key>`. An administrator "
                "creates the client with scopes (admin, or `manage.py create_api_client "
                "NAME --scopes schedules:read,...`); the key is shown once. A key never "
                "grants more than its scopes."
            ),
        }
