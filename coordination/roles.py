"""Roles are Django groups; this module is the one place that says what each may do.

Later apps add their permissions to ROLE_PERMISSIONS. The Admin role gets every
permission. `sync_role_permissions()` makes the database match this table exactly.
"""

from __future__ import annotations

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import transaction

MARKETING = "Marketing"
SALES = "Sales"
PRODUCTION = "Production"
QUALITY = "Quality"
ADMIN = "Admin"
ROLES = (MARKETING, SALES, PRODUCTION, QUALITY, ADMIN)

# "app_label.codename" per role. Admin is granted everything and is not listed.
_READ_MASTER_DATA = {
    "coordination.view_product",
    "coordination.view_productline",
    "coordination.view_specification",
    "coordination.view_customerrequest",
    "coordination.view_recomputerequest",
    "coordination.view_line",
}
# Everyone reads demand and the plan: production's answer must reach marketing.
_READ_PLANNING = {
    "demand.view_salesactual",
    "demand.view_salesimport",
    "demand.view_promotion",
    "demand.view_demandforecast",
    "demand.view_forecastrun",
    "demand.view_marketingadjustment",
    "production.view_capacityexception",
    "production.view_inventoryposition",
    "production.view_productionhold",
    "production.view_recomputerun",
    "production.view_quotarecommendation",
    "production.view_scheduleentry",
}
_IMPORT_SALES = {"demand.add_salesimport", "demand.add_salesactual"}
# Who asks the plan whether an order can be made, and when: the departments that talk to
# customers and the one that answers them.
_ASK_PROMISE = {"production.ask_promise"}
# Every role reads the planning review; the departments at the table record its outcome.
_READ_PLANNING_REVIEW = {
    "planning.view_planningcycle",
    "planning.view_planningsnapshot",
    "planning.view_cyclesignoff",
    "planning.view_cycleadjustment",
    "planning.view_cycledecision",
    "planning.view_planningscenario",
    "planning.view_budget",
}
_PLANNING_REVIEW_MEMBER = _READ_PLANNING_REVIEW | {"planning.record_cycle_decision"}
# Every role reads recalls: everyone handles a recall from one place. The API's
# `recalls:read` scope grants the same set (coordination/api/scopes.py).
READ_RECALLS = frozenset(
    {
        "recalls.view_recallincident",
        "recalls.view_affectedlot",
        "recalls.view_recalltask",
        "recalls.view_pressinquiry",
        "recalls.view_statement",
        "recalls.view_customernotification",
    }
)
_MANAGE_RECALLS = {
    "recalls.manage_recall",
    "recalls.add_recallincident",
    "recalls.change_recallincident",
    "recalls.add_recalltask",
    "recalls.change_recalltask",
    "recalls.add_customernotification",
}
ROLE_PERMISSIONS: dict[str, set[str]] = {
    MARKETING: _READ_MASTER_DATA
    | _READ_PLANNING
    | _ASK_PROMISE
    | _IMPORT_SALES
    | READ_RECALLS
    | _PLANNING_REVIEW_MEMBER
    | {
        "planning.sign_demand",
        "recalls.communicate_recall",
        "recalls.add_pressinquiry",
        "recalls.change_pressinquiry",
        "recalls.add_statement",
        "recalls.change_statement",
        "recalls.add_recalltask",
        "recalls.change_recalltask",
        "demand.add_promotion",
        "demand.change_promotion",
        "demand.confirm_promotion",
        "demand.add_marketingadjustment",
        "demand.change_marketingadjustment",
        "demand.delete_marketingadjustment",
        "demand.change_launchplan",
        "coordination.propose_specification",
        "coordination.view_all_requests",
        "coordination.add_customerrequest",
        "coordination.view_voice_of_customer",
    },
    SALES: _READ_MASTER_DATA
    | _READ_PLANNING
    | _ASK_PROMISE
    | _IMPORT_SALES
    | READ_RECALLS
    | _PLANNING_REVIEW_MEMBER
    | {
        "planning.sign_orders",
        "recalls.add_customernotification",
        "recalls.change_recalltask",
        "coordination.propose_specification",
        "coordination.view_all_requests",
        "coordination.add_customerrequest",
        "coordination.change_customerrequest",
        "coordination.quote_request",
        "coordination.view_voice_of_customer",
    },
    PRODUCTION: _READ_MASTER_DATA
    | _READ_PLANNING
    | _ASK_PROMISE
    | READ_RECALLS
    | _MANAGE_RECALLS
    | _PLANNING_REVIEW_MEMBER
    | {
        "planning.sign_supply",
        "planning.run_planning_scenario",
        "planning.add_budget",
        "planning.change_budget",
        "planning.delete_budget",
        "production.plan_line",
        "production.add_capacityexception",
        "production.change_capacityexception",
        "production.delete_capacityexception",
        "production.add_runrate",
        "production.change_runrate",
        "production.add_inventoryposition",
        "production.change_inventoryposition",
        "production.add_recomputerun",
        "coordination.add_product",
        "coordination.change_product",
        "coordination.add_productline",
        "coordination.change_productline",
        "coordination.review_specification",
        "coordination.answer_feasibility",
        "coordination.add_line",
        "coordination.change_line",
        "production.view_webhookendpoint",
        "production.add_webhookendpoint",
        "production.delete_webhookendpoint",
        "production.view_webhookdelivery",
    },
    QUALITY: _READ_MASTER_DATA
    | _READ_PLANNING
    | READ_RECALLS
    | _MANAGE_RECALLS
    | _READ_PLANNING_REVIEW
    | {"coordination.add_customerrequest", "recalls.approve_statement"},
}


# The department whose inbox each role works from.
ROLE_DEPARTMENT = {
    MARKETING: "marketing",
    SALES: "sales",
    PRODUCTION: "production",
    QUALITY: "quality",
}


def departments_of(user) -> set[str]:
    """Departments the user works for; admins act for every department."""
    if not user.is_authenticated:
        return set()
    names = role_names(user)
    if user.is_superuser or ADMIN in names:
        return set(ROLE_DEPARTMENT.values())
    return {ROLE_DEPARTMENT[name] for name in names if name in ROLE_DEPARTMENT}


def role_names(user) -> list[str]:
    """The user's roles in the canonical order (cached on the user object per request)."""
    if not user.is_authenticated:
        return []
    cached = getattr(user, "_tandem_roles", None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True))
        cached = [role for role in ROLES if role in names]
        user._tandem_roles = cached
    return cached


def has_role(user, *roles: str) -> bool:
    return user.is_authenticated and (
        user.is_superuser or any(role in role_names(user) for role in roles)
    )


@transaction.atomic
def sync_role_permissions() -> None:
    from django.contrib.auth.models import Group, Permission

    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0)
    all_permissions = Permission.objects.select_related("content_type")
    by_key = {f"{p.content_type.app_label}.{p.codename}": p for p in all_permissions}
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        if role == ADMIN:
            wanted = list(by_key.values())
        else:
            missing = sorted(key for key in ROLE_PERMISSIONS[role] if key not in by_key)
            if missing:
                raise LookupError(f"Role {role} names unknown permissions: {', '.join(missing)}")
            wanted = [by_key[key] for key in ROLE_PERMISSIONS[role]]
        group.permissions.set(wanted)


def sync_after_migrate(sender, app_config=None, using="default", plan=None, **kwargs):
    # post_migrate fires once per app; run only on the last one so every model's
    # permissions exist. An empty plan (nothing migrated) still resyncs: cheap and safe.
    configs = [c for c in global_apps.get_app_configs() if c.models_module is not None]
    if app_config is not configs[-1]:
        return
    sync_role_permissions()
