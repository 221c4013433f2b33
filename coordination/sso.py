"""Single sign-on with OpenID Connect (mozilla-django-oidc), configured by OIDC_* variables.

The sign-in button sends the browser to the provider (views/sso.py, the library's request
view: state, nonce and PKCE kept in the session); the provider sends it back to the
callback with a code, which `complete_sign_in` checks against the session before the
backend trades it for tokens. The ID token must be signed with the provider's key (its
JWKS), unexpired, issued by OIDC_ISSUER for OIDC_CLIENT_ID and carry the nonce; the user
and their roles then come from services/sso.py. Anything else is a SignInRefused: a page
that says what went wrong, with a 4xx (502 when the provider cannot be reached), and
nothing written. The backend is never asked about passwords, and django-axes (first in
AUTHENTICATION_BACKENDS) refuses single sign-on too from a locked-out address.
"""

from __future__ import annotations

import functools
import re
import time

import jwt
import requests
from django.conf import settings
from django.contrib import auth
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import SuspiciousOperation
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from coordination.services import sso as sso_services
from coordination.signin import lockout_message

# How long a started sign-in may take at the provider before its state is refused.
STATE_MAX_AGE_SECONDS = 15 * 60
CLOCK_SKEW_SECONDS = 30
_DISCOVERED = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}


class SignInRefused(Exception):
    def __init__(self, message: str, status: int = 400, heading: str = "Sign-in failed"):
        super().__init__(message)
        self.message, self.status, self.heading = message, status, heading


def _provider() -> str:
    return settings.OIDC_PROVIDER_NAME


def _not_verified() -> SignInRefused:
    return SignInRefused(
        f"Tandem could not verify the sign-in from {_provider()}. Start again; if it keeps "
        "failing, tell your administrator."
    )


def _unreachable() -> SignInRefused:
    return SignInRefused(
        f"Tandem could not reach {_provider()} to sign you in. Try again in a few minutes; "
        "if it keeps failing, tell your administrator.",
        status=502,
    )


@functools.lru_cache(maxsize=8)
def _discovery(issuer: str, timeout: int) -> dict:
    """The issuer's discovery document, read once per process (failures are not kept)."""
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    document = requests.get(url, timeout=timeout).json()
    if not isinstance(document, dict) or document.get("issuer") != issuer:
        raise ValueError(f"{url} names another issuer than OIDC_ISSUER {issuer!r}")
    return document


def endpoint(setting: str, required: bool = True) -> str | None:
    """An OIDC_OP_* endpoint: as configured, else from the issuer's discovery document."""
    if getattr(settings, setting, None):
        return getattr(settings, setting)
    try:
        value = _discovery(settings.OIDC_ISSUER, settings.OIDC_TIMEOUT).get(_DISCOVERED[setting])
    except (requests.RequestException, ValueError) as exc:
        raise _unreachable() from exc
    if required and not value:
        raise _unreachable()
    return value


class SingleSignOnBackend(OIDCAuthenticationBackend):
    """The library's code flow, with the provider's endpoints looked up only when a
    sign-in needs them (Django builds every backend for each password sign-in too), the
    ID token's issuer and audience checked, and failures raised as SignInRefused."""

    def __init__(self, *args, **kwargs):
        self.UserModel = get_user_model()
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_RP_CLIENT_SECRET
        self.OIDC_RP_SIGN_ALGO = settings.OIDC_RP_SIGN_ALGO
        self.OIDC_RP_IDP_SIGN_KEY = None

    OIDC_OP_TOKEN_ENDPOINT = property(lambda self: endpoint("OIDC_OP_TOKEN_ENDPOINT"))
    OIDC_OP_JWKS_ENDPOINT = property(lambda self: endpoint("OIDC_OP_JWKS_ENDPOINT"))
    OIDC_OP_USER_ENDPOINT = property(lambda self: endpoint("OIDC_OP_USER_ENDPOINT", False))

    def authenticate(self, request, **kwargs):
        if request is None or "nonce" not in kwargs:
            return None  # a password sign-in: not ours
        try:
            return super().authenticate(request, **kwargs)
        except requests.RequestException as exc:
            raise _unreachable() from exc
        except jwt.ExpiredSignatureError as exc:
            raise SignInRefused(
                f"The sign-in from {_provider()} has expired. Start again."
            ) from exc
        except jwt.InvalidIssuerError as exc:
            raise SignInRefused(
                f"The sign-in was issued by an identity provider Tandem does not trust "
                f"(not {settings.OIDC_ISSUER}). Nothing was changed."
            ) from exc
        except (jwt.PyJWTError, SuspiciousOperation, KeyError, ValueError) as exc:
            # A bad signature, a key the provider does not publish, the wrong audience or
            # nonce, a malformed token: all from outside, none worth a 500.
            raise _not_verified() from exc

    def get_token(self, payload):
        try:
            return super().get_token(payload)
        except requests.HTTPError as exc:
            raise SignInRefused(
                f"{_provider()} did not accept the sign-in code (it may have expired or been "
                "used already). Start again."
            ) from exc

    def _verify_jws(self, payload, key):
        if jwt.get_unverified_header(payload).get("alg") != self.OIDC_RP_SIGN_ALGO:
            raise SuspiciousOperation("The ID token is not signed with OIDC_SIGN_ALGORITHM.")
        return jwt.decode(
            payload,
            key,
            algorithms=[self.OIDC_RP_SIGN_ALGO],
            audience=self.OIDC_RP_CLIENT_ID,
            issuer=settings.OIDC_ISSUER,
            leeway=CLOCK_SKEW_SECONDS,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )

    def get_userinfo(self, access_token, id_token, payload):
        """The ID token's claims, completed by the userinfo endpoint where there is one."""
        if not self.OIDC_OP_USER_ENDPOINT:
            return payload
        userinfo = super().get_userinfo(access_token, id_token, payload)
        if not isinstance(userinfo, dict) or userinfo.get("sub") != payload["sub"]:
            # Raised as a refusal here: the library would turn a SuspiciousOperation
            # from this step into a failed sign-in, which axes counts as a password guess.
            raise _not_verified()
        return {**payload, **userinfo}

    def get_or_create_user(self, access_token, id_token, payload):
        claims = self.get_userinfo(access_token, id_token, payload)
        identity = sso_services.identity_from_claims(
            claims,
            username_claim=settings.OIDC_USERNAME_CLAIM,
            groups_claim=settings.OIDC_GROUPS_CLAIM,
            role_map=settings.OIDC_ROLE_MAP,
        )
        if identity is None:
            raise SignInRefused(
                f"{_provider()} did not say who you are (no usable "
                f"“{settings.OIDC_USERNAME_CLAIM}” claim). Tell your administrator."
            )
        try:
            return sso_services.sso_user_sign_in(identity=identity)
        except sso_services.NoRole:
            raise SignInRefused(
                f"{_provider()} signed you in, but none of your groups gives you a role in "
                "Tandem (Marketing, Sales, Production, Quality or Admin). Ask your "
                "administrator to add you to the right group.",
                status=403,
                heading="Ask your administrator for access",
            ) from None
        except sso_services.Deactivated:
            raise SignInRefused(
                "Your Tandem account is deactivated. Ask your administrator.",
                status=403,
                heading="Ask your administrator for access",
            ) from None

    def get_user(self, user_id):
        # ModelBackend's: a deactivated user's open sessions end (the library's would not).
        return ModelBackend.get_user(self, user_id)


def complete_sign_in(request):
    """The callback's checks, then the backend: the signed-in user, or SignInRefused."""
    error, state, code = (request.GET.get(name) for name in ("error", "state", "code"))
    states = request.session.get("oidc_states") or {}
    started = states.pop(state, None) if state else None  # a state is good for one try
    if started is not None:
        request.session.modified = True
    if error:
        known = error if re.fullmatch(r"[a-z_]{1,64}", error) else "error"
        raise SignInRefused(f"{_provider()} did not sign you in ({known}).")
    if not code or not state:
        raise SignInRefused(
            f"The answer from {_provider()} is incomplete: it carries no sign-in code. Start again."
        )
    if started is None or time.time() - started["added_on"] > STATE_MAX_AGE_SECONDS:
        raise SignInRefused(
            "This sign-in was not started here, has expired or was used already. Start again."
        )
    user = auth.authenticate(
        request, nonce=started["nonce"], code_verifier=started.get("code_verifier")
    )
    if user is None and getattr(request, "axes_locked_out", False):
        raise SignInRefused(lockout_message(request), status=429)
    if user is None:
        raise SignInRefused("Single sign-on did not sign you in. Start again.")
    return user
