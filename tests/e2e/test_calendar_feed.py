"""The calendar feed page in a real Chromium: make the address, copy it, subscribe (read
it with no session, as a calendar app does), revoke it."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from icalendar import Calendar
from playwright.sync_api import expect

from tests.factories import PromotionFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - the live server
            return answer.status, answer.read()
    except urllib.error.HTTPError as refused:
        return refused.code, b""


def test_a_person_copies_their_address_subscribes_and_revokes_it(page, login, marketing_user):
    promotion = PromotionFactory(name="Summer lemonade", status="confirmed")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    login(page, marketing_user)

    page.get_by_role("link", name="Calendar feed").click()
    page.get_by_role("button", name="Make my calendar address").click()
    address = page.get_by_label("Address of your calendar feed").input_value()
    page.get_by_role("button", name="Copy the address").click()

    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == address
    status, body = fetch(address)
    assert status == 200
    (event,) = Calendar.from_ical(body).walk("VEVENT")
    assert str(event["SUMMARY"]) == "Promotion: Summer lemonade"
    assert str(event["URL"]).endswith(f"/promotions/{promotion.pk}/")

    page.get_by_role("link", name="Calendar feed").click()
    expect(page.get_by_text("Your address is active.")).to_be_visible()
    page.get_by_role("button", name="Revoke the address").click()  # the dialog is accepted

    expect(page.get_by_text("Your calendar address is revoked")).to_be_visible()
    assert fetch(address) == (404, b"")
