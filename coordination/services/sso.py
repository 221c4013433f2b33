"""Single sign-on: the Tandem user an identity provider's claims stand for.

The provider is the truth for the roles OIDC_ROLE_MAP names: at every sign-in those are
replaced by what the person's provider groups map to. Roles the map never names, and any
other group, stay as an administrator set them by hand. is_staff (the admin site) follows
the Admin role when the map names Admin; is_superuser is never touched.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from coordination.roles import ADMIN, ROLES


class NoRole(Exception):
    """The person's provider groups give them no Tandem role (nothing was created)."""


class Deactivated(Exception):
    """An administrator deactivated the matching Tandem user (nothing was changed)."""


@dataclass(frozen=True)
class Identity:
    username: str
    email: str
    first_name: str
    last_name: str
    roles: frozenset[str]  # what the provider's groups map to
    managed_roles: frozenset[str]  # every role the mapping names


def _fit(model, field: str, value) -> str:
    text = value.strip() if isinstance(value, str) else ""
    return text[: model._meta.get_field(field).max_length]


def identity_from_claims(
    claims: dict, *, username_claim: str, groups_claim: str, role_map: dict[str, list[str]]
) -> Identity | None:
    """None when the claim naming the user is missing or is no usable username."""
    user_model = get_user_model()
    username = claims.get(username_claim)
    max_length = user_model._meta.get_field("username").max_length
    if not isinstance(username, str) or not username.strip() or len(username) > max_length:
        return None
    email = _fit(user_model, "email", claims.get("email"))
    try:
        validate_email(email)
    except ValidationError:
        email = ""
    groups = claims.get(groups_claim) or []
    if isinstance(groups, str):
        groups = [groups]
    if not isinstance(groups, list):
        groups = []
    roles = {role for group in groups if isinstance(group, str) for role in role_map.get(group, ())}
    return Identity(
        username=username.strip(),
        email=email,
        first_name=_fit(user_model, "first_name", claims.get("given_name")),
        last_name=_fit(user_model, "last_name", claims.get("family_name")),
        roles=frozenset(roles),
        managed_roles=frozenset(role for roles in role_map.values() for role in roles),
    )


def sso_user_sign_in(*, identity: Identity):
    """Create or update the user, set their mapped roles; the user, or NoRole/Deactivated.

    A newcomer with no role is refused before anything is written. A known user who is
    left with no role loses the mapped roles (the provider took them away, and their open
    sessions with them) and is refused; the row stays, it carries their history."""
    user_model = get_user_model()
    profile = {
        "email": identity.email,
        "first_name": identity.first_name,
        "last_name": identity.last_name,
    }
    with transaction.atomic():
        user = user_model.objects.select_for_update().filter(username=identity.username).first()
        if user is None:
            if not identity.roles:
                raise NoRole
            user, _ = user_model.objects.get_or_create(
                username=identity.username, defaults={**profile, "password": make_password(None)}
            )
        elif not user.is_active:
            raise Deactivated
        for field, value in profile.items():
            if value:  # a claim the provider stopped sending keeps what Tandem had
                setattr(user, field, value)
        if ADMIN in identity.managed_roles:
            user.is_staff = ADMIN in identity.roles
        user.save()
        kept = user.groups.exclude(name__in=identity.managed_roles)
        groups = [*kept, *Group.objects.filter(name__in=identity.roles)]
        user.groups.set(groups)
        has_role = user.is_superuser or any(group.name in ROLES for group in groups)
    if not has_role:
        raise NoRole
    return user
