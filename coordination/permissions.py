"""Permission checks shared by every app: `permission_required` for browser views,
`require_permission` for services (the edges turn PermissionDenied into 403)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied


def permission_required(*perms: str) -> Callable:
    """Signed-out users go to the sign-in page; signed-in users without every one of
    `perms` get the 403 page (Django's own decorator cannot do both)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            if not request.user.has_perms(perms):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def require_permission(actor, permission: str, message: str) -> None:
    """A service's check that `actor` holds `permission`; PermissionDenied carries the
    sentence the person reads on the 403 page or in the API's error body."""
    if not actor.has_perm(permission):
        raise PermissionDenied(message)
