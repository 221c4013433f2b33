"""Sign-in protection against password guessing (django-axes).

Failed sign-ins are counted per username and per client address (settings
AXES_LOCKOUT_PARAMETERS); at SIGNIN_FAILURE_LIMIT failures within the lockout period
that username, or that address, is locked out for SIGNIN_LOCKOUT_MINUTES after its
last attempt — the right password included. The sign-in page and /admin/login/ say so
at the top of their form (answering 429); an administrator unlocks early by deleting
the "Access attempts" rows in the admin. A successful sign-in clears its failures.
API keys and tokens never pass through here: they are not passwords.

The client address is the connection's own (REMOTE_ADDR), unless the connection comes
from a proxy listed in TRUSTED_PROXIES: then the forwarded-for header that proxy sets
(CLIENT_IP_HEADER) names it. A header from anyone else is ignored, so a client cannot
dodge the per-address count by inventing addresses.
"""

from __future__ import annotations

import ipaddress
import math

from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpResponse
from django.template.response import TemplateResponse


def lockout_message(request=None) -> str:
    minutes = math.ceil(get_cool_off(request).total_seconds() / 60)
    return (
        f"Too many failed sign-ins. Try again in {minutes} minute{'s' if minutes != 1 else ''} "
        "or ask an administrator to unlock your account."
    )


class _LockoutMessage:
    """A locked-out attempt says so, instead of "enter a correct password"."""

    def get_invalid_login_error(self):
        if getattr(self.request, "axes_locked_out", False):
            return ValidationError(lockout_message(self.request), code="locked_out")
        return super().get_invalid_login_error()


class SignInForm(_LockoutMessage, AuthenticationForm):
    def clean(self):
        # LOCAL_PASSWORDS=off: refused before any password is checked (nor counted).
        if not settings.LOCAL_PASSWORDS:
            raise ValidationError(
                f"Sign-in with a Tandem password is turned off: sign in with "
                f"{settings.OIDC_PROVIDER_NAME}.",
                code="passwords_off",
            )
        return super().clean()


class SignInView(LoginView):
    """The sign-in page: the single sign-on button when configured, the password form
    unless LOCAL_PASSWORDS=off (then a posted password answers 403). /admin/login/ keeps
    its password form for staff either way: the way in when the provider is down."""

    authentication_form = SignInForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            sso_provider=settings.OIDC_PROVIDER_NAME if settings.OIDC_ENABLED else None,
            local_passwords=settings.LOCAL_PASSWORDS,
            **kwargs,
        )

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.has_error(NON_FIELD_ERRORS, "passwords_off"):
            response.status_code = 403
        return response


class AdminSignInForm(_LockoutMessage, AdminAuthenticationForm):
    pass


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the sign-in page itself, already showing the lockout
    message at its form (SignInForm), answered as 429; anything else, the message."""
    if isinstance(original_response, TemplateResponse) and "form" in (
        original_response.context_data or {}
    ):
        original_response.status_code = settings.AXES_HTTP_RESPONSE_CODE
        return original_response
    return HttpResponse(
        lockout_message(request),
        status=settings.AXES_HTTP_RESPONSE_CODE,
        content_type="text/plain; charset=utf-8",
    )


# --- the client's address --------------------------------------------------------------


def _address(text: str):
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(address) -> bool:
    return any(address in ipaddress.ip_network(net) for net in settings.TRUSTED_PROXIES)


def client_ip(request) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: the connection's address, or — when that is a trusted
    proxy — the nearest untrusted address in the proxy's forwarded-for header (read
    right to left: entries further left were written by the client and prove nothing)."""
    remote = request.META.get("REMOTE_ADDR")
    peer = _address(remote or "")
    if peer is None or not _trusted(peer):
        return remote
    meta_key = "HTTP_" + settings.CLIENT_IP_HEADER.upper().replace("-", "_")
    hops = [hop for hop in request.META.get(meta_key, "").split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break  # garbage: trust no further; the last trusted hop stands
        peer = address
        if not _trusted(address):
            break
    return str(peer)
