"""Permission checks shared by every app's browser views."""

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
