"""Single sign-on against a real OpenID Connect issuer started by the test
(tests/oidc_issuer.py): the browser's round trip goes start -> the issuer's authorize
endpoint (over HTTP) -> callback, and Tandem itself fetches discovery, the token, the
JWKS and userinfo from the issuer. Bad answers are refused with a page that says why,
a 4xx and nothing written."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from coordination import config, roles
from tests.coordination.test_settings import run_python
from tests.factories import PASSWORD
from tests.oidc_issuer import (
    CLIENT_ID,
    SSO_BACKEND,
    Issuer,
    configure,
    new_key,
    sso_env,
)

pytestmark = pytest.mark.django_db

User = get_user_model()
MARIA = {
    "sub": "f3a1c2d4-0001",
    "email": "maria.lopez@brookfield.example",
    "given_name": "María",
    "family_name": "López",
    "groups": ["tandem-marketing", "everyone"],
}
NO_ROLE = (
    "Brookfield ID signed you in, but none of your groups gives you a role in Tandem "
    "(Marketing, Sales, Production, Quality or Admin). Ask your administrator to add you "
    "to the right group."
)
NOT_VERIFIED = (
    "Tandem could not verify the sign-in from Brookfield ID. Start again; if it keeps "
    "failing, tell your administrator."
)
BAD_STATE = "This sign-in was not started here, has expired or was used already. Start again."


@pytest.fixture
def issuer(settings):
    with Issuer() as running:
        configure(settings, sso_env(running.url))
        yield running


def go_to_issuer(client, **params):
    start = client.get(reverse("sso_start"), params)
    assert start.status_code == 302
    return start["Location"]


def come_back(client, issuer_location: str):
    """The browser at the issuer: it answers with a redirect back to Tandem's callback."""
    answer = requests.get(issuer_location, allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    back = urlsplit(answer.headers["Location"])
    assert back.path == reverse("oidc_authentication_callback")
    return client.get(f"{back.path}?{back.query}")


def sign_in(client, issuer, person=MARIA, **params):
    issuer.person = person
    return come_back(client, go_to_issuer(client, **params))


def signed_in_user(client):
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def role_names(user) -> list[str]:
    return sorted(user.groups.values_list("name", flat=True))


def page_message(response) -> str:
    return response.context["message"]


# --- the full flow -----------------------------------------------------------------------


def test_first_sign_in_creates_the_user_with_the_mapped_role(client, issuer):
    response = sign_in(client, issuer)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    user = signed_in_user(client)
    assert (user.username, user.email, user.first_name, user.last_name) == (
        "f3a1c2d4-0001",
        "maria.lopez@brookfield.example",
        "María",
        "López",
    )
    assert role_names(user) == ["Marketing"]
    assert not user.has_usable_password()
    assert (user.is_staff, user.is_superuser) == (False, False)
    assert client.session["_auth_user_backend"] == SSO_BACKEND
    assert user.has_perm("demand.add_promotion")
    assert client.get(reverse("home")).status_code == 200
    assert issuer.requests == [
        "/.well-known/openid-configuration",
        "/authorize",
        "/token",
        "/jwks",
        "/userinfo",
    ]


def test_the_authorize_request_carries_state_nonce_and_pkce(client, issuer):
    query = parse_qs(urlsplit(go_to_issuer(client)).query)
    assert sorted(query) == [
        "client_id",
        "code_challenge",
        "code_challenge_method",
        "nonce",
        "redirect_uri",
        "response_type",
        "scope",
        "state",
    ]
    assert query["client_id"] == [CLIENT_ID]
    assert query["scope"] == ["openid email profile"]
    assert query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"] == ["http://testserver/accounts/sso/callback/"]


def test_the_page_asked_for_is_where_sign_in_ends(client, issuer):
    assert client.get(reverse("product_list"))["Location"] == "/accounts/login/?next=/products/"
    response = sign_in(client, issuer, next="/products/")
    assert response["Location"] == "/products/"
    # Another site is never where it ends.
    response = sign_in(client, issuer, next="https://evil.example/")
    assert response["Location"] == reverse("home")


def test_every_sign_in_replaces_the_mapped_roles_and_keeps_the_hand_set_ones(client, issuer):
    sign_in(client, issuer)
    user = User.objects.get(username=MARIA["sub"])
    # An administrator adds Quality (no provider group maps to it) and a group of their own.
    helpers = Group.objects.create(name="Recall helpers")
    user.groups.add(Group.objects.get(name="Quality"), helpers)
    client.logout()

    moved = {**MARIA, "groups": ["tandem-sales", "tandem-admins"], "email": "m.lopez@b.example"}
    response = sign_in(client, issuer, person=moved)
    assert response.status_code == 302
    user.refresh_from_db()
    assert role_names(user) == ["Admin", "Quality", "Recall helpers", "Sales"]
    assert user.email == "m.lopez@b.example"
    assert user.is_staff  # follows the Admin role, which the mapping names
    assert User.objects.filter(username=MARIA["sub"]).count() == 1

    client.logout()
    sign_in(client, issuer, person={**MARIA, "groups": ["tandem-sales"]})
    user.refresh_from_db()
    assert role_names(user) == ["Quality", "Recall helpers", "Sales"]
    assert not user.is_staff


def test_claims_may_all_come_in_the_id_token_from_a_provider_without_userinfo(client, issuer):
    issuer.offers_userinfo = False
    response = sign_in(client, issuer)
    assert response.status_code == 302
    assert role_names(signed_in_user(client)) == ["Marketing"]
    assert "/userinfo" not in issuer.requests


def test_a_local_user_with_the_same_username_is_the_same_person(
    client, issuer, settings, make_user
):
    local = make_user(roles.QUALITY, username="mlopez")
    settings.OIDC_USERNAME_CLAIM = "preferred_username"
    response = sign_in(client, issuer, person={**MARIA, "preferred_username": "mlopez"})
    assert response.status_code == 302
    assert signed_in_user(client) == local
    local.refresh_from_db()
    assert role_names(local) == ["Marketing", "Quality"]
    assert local.check_password(PASSWORD)  # their password is left as it was


# --- no role -------------------------------------------------------------------------------


def test_a_newcomer_whose_groups_map_to_no_role_is_asked_to_see_their_administrator(client, issuer):
    users = User.objects.count()
    response = sign_in(client, issuer, person={**MARIA, "groups": ["everyone", "finance"]})
    assert response.status_code == 403
    assert response.context["heading"] == "Ask your administrator for access"
    assert page_message(response) == NO_ROLE
    assert "Ask your administrator for access" in response.content.decode()
    assert User.objects.count() == users
    assert signed_in_user(client) is None


def test_a_known_user_who_lost_their_groups_loses_the_mapped_roles_and_is_refused(client, issuer):
    sign_in(client, issuer)
    user = User.objects.get(username=MARIA["sub"])
    client.logout()

    response = sign_in(client, issuer, person={**MARIA, "groups": []})
    assert response.status_code == 403
    assert page_message(response) == NO_ROLE
    assert role_names(user) == []
    assert User.objects.filter(username=MARIA["sub"]).count() == 1
    assert signed_in_user(client) is None


def test_a_deactivated_user_is_refused_and_nothing_changes(client, issuer):
    sign_in(client, issuer)
    client.logout()
    user = User.objects.get(username=MARIA["sub"])
    user.is_active = False
    user.save()
    response = sign_in(client, issuer, person={**MARIA, "groups": ["tandem-sales"]})
    assert response.status_code == 403
    assert page_message(response) == "Your Tandem account is deactivated. Ask your administrator."
    assert role_names(user) == ["Marketing"]
    assert signed_in_user(client) is None


def test_a_provider_that_does_not_say_who_you_are_is_refused(client, issuer, settings):
    settings.OIDC_USERNAME_CLAIM = "preferred_username"
    users = User.objects.count()
    response = sign_in(client, issuer)  # MARIA has no preferred_username
    assert response.status_code == 400
    assert page_message(response) == (
        "Brookfield ID did not say who you are (no usable “preferred_username” claim). "
        "Tell your administrator."
    )
    assert User.objects.count() == users


# --- bad input at the callback -------------------------------------------------------------


def refused_without_writes(client, response, status: int, message: str) -> None:
    assert response.status_code == status
    assert page_message(response) == message
    assert message in response.content.decode()
    assert User.objects.count() == 0
    assert AccessAttempt.objects.count() == 0
    assert signed_in_user(client) is None


def test_a_callback_with_a_state_this_browser_never_started_is_refused(client, issuer):
    issuer.person = MARIA
    location = go_to_issuer(client)
    # The answer arrives in another browser (a forged or stolen link).
    response = come_back(client.__class__(), location)
    assert response.status_code == 400
    assert page_message(response) == BAD_STATE
    # And a made-up state in the browser that did start one.
    response = client.get(reverse("oidc_authentication_callback"), {"code": "x", "state": "y"})
    refused_without_writes(client, response, 400, BAD_STATE)
    assert "/token" not in issuer.requests


def test_a_state_is_good_for_one_sign_in(client, issuer):
    issuer.person = MARIA
    answer = requests.get(go_to_issuer(client), allow_redirects=False, timeout=5)
    back = urlsplit(answer.headers["Location"])
    assert client.get(f"{back.path}?{back.query}").status_code == 302
    client.logout()
    response = client.get(f"{back.path}?{back.query}")
    assert response.status_code == 400
    assert page_message(response) == BAD_STATE


def test_a_callback_without_a_code_is_refused(client, issuer):
    state = parse_qs(urlsplit(go_to_issuer(client)).query)["state"][0]
    response = client.get(reverse("oidc_authentication_callback"), {"state": state})
    refused_without_writes(
        client,
        response,
        400,
        "The answer from Brookfield ID is incomplete: it carries no sign-in code. Start again.",
    )


def test_the_provider_saying_no_is_shown_without_its_free_text(client, issuer):
    state = parse_qs(urlsplit(go_to_issuer(client)).query)["state"][0]
    response = client.get(
        reverse("oidc_authentication_callback"),
        {"state": state, "error": "access_denied", "error_description": "Call 0800-SCAM"},
    )
    refused_without_writes(
        client, response, 400, "Brookfield ID did not sign you in (access_denied)."
    )
    assert "SCAM" not in response.content.decode()


def test_an_expired_id_token_is_refused(client, issuer):
    issuer.token_lifetime = -120  # expired two minutes ago, beyond the clock-skew leeway
    refused_without_writes(
        client,
        sign_in(client, issuer),
        400,
        "The sign-in from Brookfield ID has expired. Start again.",
    )


def test_an_id_token_signed_with_another_key_is_refused(client, issuer):
    issuer.signing_key = new_key()  # same key id, not the published key
    refused_without_writes(client, sign_in(client, issuer), 400, NOT_VERIFIED)


def test_an_id_token_from_an_unknown_issuer_is_refused(client, issuer):
    issuer.issued_by = "https://evil.example/realms/tandem"
    refused_without_writes(
        client,
        sign_in(client, issuer),
        400,
        f"The sign-in was issued by an identity provider Tandem does not trust (not "
        f"{issuer.url}). Nothing was changed.",
    )


def test_an_id_token_for_another_sign_in_is_refused(client, issuer):
    issuer.nonce = "a-nonce-from-another-sign-in"  # a replayed ID token
    refused_without_writes(client, sign_in(client, issuer), 400, NOT_VERIFIED)


def test_userinfo_about_another_person_is_refused(client, issuer):
    issuer.userinfo_sub = "someone-else"
    refused_without_writes(client, sign_in(client, issuer), 400, NOT_VERIFIED)


def test_a_code_the_provider_does_not_accept_is_refused(client, issuer):
    issuer.person = MARIA
    location = go_to_issuer(client)
    answer = requests.get(location, allow_redirects=False, timeout=5)
    issuer.codes.clear()  # expired at the provider before Tandem traded it
    back = urlsplit(answer.headers["Location"])
    refused_without_writes(
        client,
        client.get(f"{back.path}?{back.query}"),
        400,
        "Brookfield ID did not accept the sign-in code (it may have expired or been used "
        "already). Start again.",
    )


def test_an_unreachable_provider_is_a_502_page_not_a_500(client, settings):
    with Issuer() as gone:
        url = gone.url
    configure(settings, sso_env(url))
    response = client.get(reverse("sso_start"))
    assert response.status_code == 502
    assert page_message(response) == (
        "Tandem could not reach Brookfield ID to sign you in. Try again in a few minutes; "
        "if it keeps failing, tell your administrator."
    )


def test_a_discovery_document_naming_another_issuer_is_not_trusted(client, issuer, settings):
    settings.OIDC_ISSUER = issuer.url + "/"  # the document says issuer.url: not the same
    response = client.get(reverse("sso_start"))
    assert response.status_code == 502


# --- the sign-in page, local passwords and django-axes -----------------------------------


def test_the_sign_in_page_offers_the_provider_beside_the_password_form(client, issuer):
    page = client.get(reverse("login"), {"next": "/products/"}).content.decode()
    assert (
        '<a class="button primary sso-button" href="/accounts/sso/start/?next=/products/">'
        "Sign in with Brookfield ID</a>"
    ) in page
    assert 'name="password"' in page


def test_without_single_sign_on_nothing_changes(client, settings):
    configure(settings, {})
    settings.AUTHENTICATION_BACKENDS = [
        b for b in settings.AUTHENTICATION_BACKENDS if b != SSO_BACKEND
    ]
    page = client.get(reverse("login")).content.decode()
    assert "Sign in with" not in page
    assert 'name="password"' in page
    assert client.get(reverse("sso_start")).status_code == 404
    assert client.get(reverse("oidc_authentication_callback")).status_code == 404


def test_password_sign_in_still_works_beside_single_sign_on(client, issuer, marketing_user):
    response = client.post(reverse("login"), {"username": "mara", "password": PASSWORD})
    assert response.status_code == 302
    assert signed_in_user(client) == marketing_user
    assert issuer.requests == []  # a password never reaches the provider


def test_local_passwords_off_hides_the_form_and_refuses_passwords(
    client, issuer, settings, marketing_user, admin_user
):
    configure(settings, sso_env(issuer.url, LOCAL_PASSWORDS="off"))
    page = client.get(reverse("login")).content.decode()
    assert "Sign in with Brookfield ID" in page
    assert 'name="password"' not in page
    response = client.post(reverse("login"), {"username": "mara", "password": PASSWORD})
    assert response.status_code == 403
    assert list(response.context["form"].non_field_errors()) == [
        "Sign-in with a Tandem password is turned off: sign in with Brookfield ID."
    ]
    assert signed_in_user(client) is None
    assert AccessAttempt.objects.count() == 0
    # The admin site keeps its password form for staff: the way in when the provider is down.
    response = client.post("/admin/login/", {"username": "ada", "password": PASSWORD})
    assert response.status_code == 302
    assert signed_in_user(client) == admin_user


def test_a_locked_out_address_cannot_use_single_sign_on_either(client, issuer, settings):
    settings.AXES_FAILURE_LIMIT = 2
    for guess in ("a", "b"):
        client.post(reverse("login"), {"username": "someone", "password": guess})
    assert AccessAttempt.objects.count() == 1
    response = sign_in(client, issuer)
    assert response.status_code == 429
    assert page_message(response).startswith("Too many failed sign-ins.")
    assert User.objects.count() == 0


def test_refused_single_sign_ons_are_not_counted_as_password_failures(client, issuer, settings):
    settings.AXES_FAILURE_LIMIT = 2
    issuer.signing_key = new_key()
    for _ in range(3):
        assert sign_in(client, issuer).status_code == 400
    assert AccessAttempt.objects.count() == 0
    issuer.signing_key = None
    assert sign_in(client, issuer).status_code == 302


# --- configuration -------------------------------------------------------------------------


def test_the_settings_module_puts_the_backend_after_axes_and_the_passwords():
    result = run_python(
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.OIDC_ENABLED, s.LOCAL_PASSWORDS, s.OIDC_ROLE_MAP, "
        "s.AUTHENTICATION_BACKENDS]))",
        **sso_env("https://id.example.com/realms/brookfield", LOCAL_PASSWORDS="off"),
    )
    assert result.returncode == 0, result.stderr
    enabled, local_passwords, role_map, backends = json.loads(result.stdout)
    assert (enabled, local_passwords) == (True, False)
    assert role_map == {
        "tandem-marketing": ["Marketing"],
        "tandem-sales": ["Sales"],
        "tandem-admins": ["Admin"],
    }
    assert backends == [
        "axes.backends.AxesStandaloneBackend",
        "django.contrib.auth.backends.ModelBackend",
        SSO_BACKEND,
        "coordination.api.auth.ApiClientBackend",
    ]


def test_single_sign_on_is_off_without_an_issuer():
    assert config.sso_config({}, roles=roles.ROLES) == {
        "OIDC_ENABLED": False,
        "LOCAL_PASSWORDS": True,
    }


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"LOCAL_PASSWORDS": "off"},
            "LOCAL_PASSWORDS=off needs single sign-on: set OIDC_ISSUER.",
        ),
        (
            {"OIDC_ISSUER": "https://id.example.com", "OIDC_CLIENT_ID": "t"},
            "OIDC_ISSUER is set: set OIDC_CLIENT_SECRET too.",
        ),
        (
            sso_env("https://id.example.com", OIDC_ROLE_MAP="tandem-sales=Sales,finance=Finance"),
            "OIDC_ROLE_MAP lists identity-provider-group=Role pairs, the role one of Marketing, "
            "Sales, Production, Quality, Admin; got 'finance=Finance'.",
        ),
        (
            sso_env("https://id.example.com", OIDC_ROLE_MAP=""),
            "OIDC_ROLE_MAP must map at least one identity-provider group to a role, e.g. "
            "tandem-sales=Sales: without it nobody signing in gets a role.",
        ),
        (
            sso_env("https://id.example.com", LOCAL_PASSWORDS="maybe"),
            "LOCAL_PASSWORDS must be one of 1/0, true/false, yes/no, on/off; got 'maybe'.",
        ),
    ],
)
def test_a_configuration_mistake_stops_the_start_with_what_to_fix(env, message):
    with pytest.raises(ImproperlyConfigured) as refused:
        config.sso_config(env, roles=roles.ROLES)
    assert str(refused.value) == message


def test_explicit_endpoints_and_names_from_the_environment():
    settings_ = config.sso_config(
        sso_env(
            "https://id.example.com/",
            OIDC_ROLE_MAP="staff=Sales,staff=Marketing",
            OIDC_TOKEN_ENDPOINT="https://id.example.com/oauth/token",
            OIDC_GROUPS_CLAIM="roles",
            OIDC_PROVIDER_NAME="",
        ),
        roles=roles.ROLES,
    )
    assert settings_["OIDC_ROLE_MAP"] == {"staff": ["Sales", "Marketing"]}
    assert settings_["OIDC_OP_TOKEN_ENDPOINT"] == "https://id.example.com/oauth/token"
    assert "OIDC_OP_AUTHORIZATION_ENDPOINT" not in settings_  # from discovery
    assert settings_["OIDC_GROUPS_CLAIM"] == "roles"
    assert settings_["OIDC_PROVIDER_NAME"] == "id.example.com"
    assert settings_["OIDC_ISSUER"] == "https://id.example.com/"
