"""Single sign-on in a real browser: Chromium clicks "Sign in with ...", the test's
OpenID Connect issuer (tests/oidc_issuer.py) sends it back, and Tandem signs the person
in with the role their groups map to, or shows who to ask; under the
Content-Security-Policy like every page."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from tests.oidc_issuer import Issuer, configure, sso_env

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ERIN = {
    "sub": "e-1042",
    "email": "erin.walsh@brookfield.example",
    "given_name": "Erin",
    "family_name": "Walsh",
    "groups": ["tandem-sales"],
}


@pytest.fixture
def issuer(settings):
    with Issuer() as running:
        configure(settings, sso_env(running.url, LOCAL_PASSWORDS="off"))
        yield running


def test_a_person_signs_in_with_the_provider_and_lands_on_their_home(page, issuer):
    issuer.person = ERIN
    page.goto("/products/")
    expect(page.get_by_label("Password")).to_have_count(0)  # LOCAL_PASSWORDS=off
    page.get_by_role("link", name="Sign in with Brookfield ID").click()
    page.wait_for_url("**/products/")
    expect(page.locator(".usermenu")).to_contain_text("Erin Walsh")
    expect(page.locator(".usermenu .badge-role")).to_have_text(["Sales"])
    assert issuer.requests[:2] == ["/.well-known/openid-configuration", "/authorize"]


def test_a_person_without_a_mapped_group_is_told_to_ask_their_administrator(page, issuer):
    issuer.person = {**ERIN, "groups": ["finance"]}
    page.goto("/accounts/login/")
    page.get_by_role("link", name="Sign in with Brookfield ID").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ask your administrator for access")
    expect(page.get_by_role("alert")).to_contain_text("none of your groups gives you a role")
    assert get_user_model().objects.filter(username="e-1042").count() == 0
