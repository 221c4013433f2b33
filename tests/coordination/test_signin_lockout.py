"""Password guessing: failed sign-ins lock out the username and the address (django-axes),
the right password included, on the sign-in page and /admin/login/ alike; an
administrator unlocks; a successful sign-in clears the count; API keys and tokens are
not passwords and are never locked out."""

from __future__ import annotations

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.test import RequestFactory
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from coordination import config, signin
from tests.coordination.test_api_clients import bearer, make_client
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")
ADMIN_LOGIN = "/admin/login/"
LOCKED = (
    "Too many failed sign-ins. Try again in 15 minutes or ask an administrator to "
    "unlock your account."
)
WRONG = "Please enter a correct username and password. Note that both fields may be case-sensitive."


@pytest.fixture
def limit(settings):
    settings.AXES_FAILURE_LIMIT = 3
    return 3


def sign_in(client, username, password, address="198.51.100.1", path=LOGIN):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address)


def errors(response) -> list[str]:
    return list(response.context["form"].non_field_errors())


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_issues_attack_200_wrong_passwords_then_the_right_one_is_refused(
    client, marketing_user
):
    """The defaults (10 failures, 15 minutes): the guesser is stopped after 10."""
    statuses = [sign_in(client, "mara", f"guess-{n}").status_code for n in range(200)]
    assert statuses == [200] * 9 + [429] * 191
    response = sign_in(client, "mara", PASSWORD)
    assert response.status_code == 429
    assert errors(response) == [LOCKED]
    assert not signed_in(client)
    # The guesses are not kept: only the count, the username and the address.
    attempt = AccessAttempt.objects.get()
    assert (attempt.username, attempt.ip_address, attempt.failures_since_start) == (
        "mara",
        "198.51.100.1",
        201,
    )
    assert "guess" not in attempt.post_data
    assert PASSWORD not in attempt.post_data


def test_a_username_is_locked_out_from_every_address(client, marketing_user, limit):
    responses = [sign_in(client, "mara", "wrong", f"198.51.100.{n}") for n in range(1, 4)]
    assert [r.status_code for r in responses] == [200, 200, 429]
    assert [errors(r) for r in responses] == [[WRONG], [WRONG], [LOCKED]]
    # The right password, from an address that never failed: still refused.
    response = sign_in(client, "mara", PASSWORD, "203.0.113.50")
    assert response.status_code == 429
    assert errors(response) == [LOCKED]
    assert response.context["form"]["username"].value() == "mara"
    assert LOCKED in response.content.decode()
    assert not signed_in(client)


def test_an_address_is_locked_out_for_every_username(client, marketing_user, sales_user, limit):
    for name in ("root", "admin", "sam"):
        sign_in(client, name, "wrong", "198.51.100.9")
    response = sign_in(client, "mara", PASSWORD, "198.51.100.9")
    assert (response.status_code, errors(response)) == (429, [LOCKED])
    assert not signed_in(client)
    # mara herself has no failures: from her own address she signs in.
    response = sign_in(client, "mara", PASSWORD, "198.51.100.10")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(marketing_user.pk)


def test_a_successful_sign_in_clears_the_count(client, marketing_user, limit):
    for _ in range(2):
        assert sign_in(client, "mara", "wrong").status_code == 200
        assert sign_in(client, "mara", "wrong").status_code == 200
        assert sign_in(client, "mara", PASSWORD).status_code == 302
        assert AccessAttempt.objects.count() == 0
        client.logout()


def test_the_lockout_ends_after_the_cool_off(client, marketing_user, limit):
    for _ in range(3):
        sign_in(client, "mara", "wrong")
    assert sign_in(client, "mara", PASSWORD).status_code == 429
    # Each refused attempt counts as a failure, so the period runs from the last one.
    AccessAttempt.objects.update(attempt_time=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=14))
    assert sign_in(client, "mara", PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=16))
    assert sign_in(client, "mara", PASSWORD).status_code == 302


def test_the_admin_sign_in_is_locked_out_the_same(client, admin_user, limit):
    responses = [sign_in(client, "ada", "wrong", path=ADMIN_LOGIN) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 429]
    response = sign_in(client, "ada", PASSWORD, path=ADMIN_LOGIN)
    assert response.status_code == 429
    assert errors(response) == [LOCKED]
    assert f'<p class="errornote">\n    {LOCKED}\n</p>' in response.content.decode()
    assert not signed_in(client)
    # One count for both sign-in pages.
    assert sign_in(client, "ada", PASSWORD).status_code == 429


def test_an_administrator_unlocks_in_the_admin(client, marketing_user, admin_user, limit):
    for _ in range(3):
        sign_in(client, "mara", "wrong")
    assert sign_in(client, "mara", PASSWORD).status_code == 429
    staff = type(client)()
    staff.force_login(admin_user)
    listing = staff.get("/admin/axes/accessattempt/?locked_out=yes")
    assert listing.status_code == 200
    assert list(listing.context["cl"].result_list) == list(AccessAttempt.objects.all())
    attempt = AccessAttempt.objects.get()
    response = staff.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert AccessAttempt.objects.count() == 0
    response = sign_in(client, "mara", PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(marketing_user.pk)


def test_api_keys_and_tokens_are_not_locked_out(client, marketing_user, limit):
    """Locking mara and the address out changes nothing for machines."""
    _, key = make_client(scopes=["products:read"])
    token = Token.objects.create(user=marketing_user)
    for _ in range(3):
        sign_in(client, "mara", "wrong", "127.0.0.1")
    assert sign_in(client, "mara", PASSWORD, "127.0.0.1").status_code == 429
    assert bearer(key).get("/api/v1/products/", REMOTE_ADDR="127.0.0.1").status_code == 200
    tokens = APIClient()
    tokens.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert tokens.get("/api/v1/products/", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert AccessAttempt.objects.get().failures_since_start == 4


# --- the client's address behind a proxy -----------------------------------------------


def meta_request(remote, forwarded=None, header="HTTP_X_FORWARDED_FOR"):
    extra = {header: forwarded} if forwarded is not None else {}
    return RequestFactory().post(LOGIN, REMOTE_ADDR=remote, **extra)


def test_the_forwarded_header_counts_only_from_a_trusted_proxy(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/24"]
    # Not from the proxy: the header is the client's own invention.
    assert signin.client_ip(meta_request("198.51.100.7", "1.2.3.4")) == "198.51.100.7"
    # From the proxy: the address it appended; the client's own entries are ignored.
    assert signin.client_ip(meta_request("10.0.0.2", "1.2.3.4, 198.51.100.7")) == "198.51.100.7"
    # Two trusted proxies in a row, then the client.
    assert signin.client_ip(meta_request("10.0.0.2", "198.51.100.7, 10.0.0.3")) == "198.51.100.7"
    # Garbage in the header: trust stops at the last trusted hop.
    assert signin.client_ip(meta_request("10.0.0.2", "198.51.100.7, nonsense")) == "10.0.0.2"
    assert signin.client_ip(meta_request("10.0.0.2")) == "10.0.0.2"
    # Without TRUSTED_PROXIES nobody's header counts.
    settings.TRUSTED_PROXIES = []
    assert signin.client_ip(meta_request("10.0.0.2", "198.51.100.7")) == "10.0.0.2"


def test_another_header_can_be_named(settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1/32"]
    settings.CLIENT_IP_HEADER = "X-Real-IP"
    request = meta_request("127.0.0.1", "203.0.113.9", header="HTTP_X_REAL_IP")
    assert signin.client_ip(request) == "203.0.113.9"
    assert signin.client_ip(meta_request("127.0.0.1", "203.0.113.9")) == "127.0.0.1"


def test_clients_behind_a_trusted_proxy_are_counted_apart(client, marketing_user, limit, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/24"]

    def through_proxy(username, password, client_address):
        return client.post(
            LOGIN,
            {"username": username, "password": password},
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR=f"203.0.113.77, {client_address}",
        )

    for name in ("root", "admin", "x"):
        through_proxy(name, "wrong", "198.51.100.66")
    assert through_proxy("mara", PASSWORD, "198.51.100.66").status_code == 429
    assert through_proxy("mara", PASSWORD, "198.51.100.67").status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.66"}


def test_the_thresholds_come_from_the_environment():
    assert config.env_int({}, "SIGNIN_FAILURE_LIMIT", default=10) == 10
    assert config.env_int({"SIGNIN_FAILURE_LIMIT": " 5 "}, "SIGNIN_FAILURE_LIMIT", default=10) == 5
    for bad in ("0", "-3", "ten", "2.5"):
        with pytest.raises(config.ImproperlyConfigured, match="SIGNIN_FAILURE_LIMIT must be"):
            config.env_int({"SIGNIN_FAILURE_LIMIT": bad}, "SIGNIN_FAILURE_LIMIT", default=10)
