"""What an API client's key may do: the one registry of scopes.

Each scope grants a fixed set of Django permissions, checked exactly as a person's role
permissions are (ActionPermissions per action, and the services' own `has_perm` checks),
so a key never grants more than its scopes. Each API viewset also declares which scope
its reads and its writes need (`required_scopes`); a viewset that declares none is closed
to API clients, so a new endpoint stays closed until someone decides otherwise.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

from coordination.roles import READ_RECALLS

READ = "read"
WRITE = "write"

SCOPE_PERMISSIONS: dict[str, frozenset[str]] = {
    "schedules:read": frozenset({"production.view_scheduleentry"}),
    "quotas:read": frozenset(
        {
            "production.view_quotarecommendation",
            "production.view_recomputerun",
            "coordination.view_recomputerequest",
        }
    ),
    "quotas:write": frozenset({"production.view_quotarecommendation", "production.plan_line"}),
    # Asking for a promise writes nothing (production.api.promises).
    "promises:read": frozenset({"production.ask_promise"}),
    "sales:read": frozenset({"demand.view_salesactual"}),
    "sales:write": frozenset({"demand.add_salesimport", "demand.add_salesactual"}),
    "inventory:read": frozenset({"production.view_inventoryposition"}),
    "inventory:write": frozenset({"production.add_inventoryposition"}),
    "forecasts:read": frozenset({"demand.view_demandforecast"}),
    "launches:write": frozenset({"demand.view_demandforecast", "demand.change_launchplan"}),
    "promotions:read": frozenset({"demand.view_promotion"}),
    "promotions:write": frozenset(
        {
            "demand.view_promotion",
            "demand.add_promotion",
            "demand.change_promotion",
            "demand.confirm_promotion",
        }
    ),
    "products:read": frozenset(
        {
            "coordination.view_product",
            "coordination.view_productline",
            "coordination.view_specification",
            "coordination.view_line",
            "production.view_capacityexception",
        }
    ),
    "requests:read": frozenset({"coordination.view_customerrequest"}),
    "requests:write": frozenset(
        {"coordination.view_customerrequest", "coordination.add_customerrequest"}
    ),
    "recalls:read": READ_RECALLS,
    "webhooks:read": frozenset(
        {"production.view_webhookendpoint", "production.view_webhookdelivery"}
    ),
    "webhooks:write": frozenset(
        {
            "production.view_webhookendpoint",
            "production.add_webhookendpoint",
            "production.delete_webhookendpoint",
        }
    ),
}
SCOPES: tuple[str, ...] = tuple(sorted(SCOPE_PERMISSIONS))
SCOPE_CHOICES = [(scope, scope) for scope in SCOPES]


def validate_scopes(value) -> None:
    if not isinstance(value, list) or not all(isinstance(scope, str) for scope in value):
        raise ValidationError("Scopes must be a list of scope names.", code="invalid")
    if not value:
        raise ValidationError("Give the client at least one scope.", code="required")
    unknown = sorted(set(value) - set(SCOPES))
    if unknown:
        raise ValidationError(
            "Unknown scope(s): %(unknown)s. Known scopes: %(known)s.",
            code="invalid_choice",
            params={"unknown": ", ".join(unknown), "known": ", ".join(SCOPES)},
        )


def permissions_for(scopes) -> set[str]:
    return {permission for scope in scopes for permission in SCOPE_PERMISSIONS.get(scope, ())}
