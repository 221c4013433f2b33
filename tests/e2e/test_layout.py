"""Layout a new user met: pages read at a desktop's 1440 px and a phone's 390 px."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from recalls.models import RecallIncident
from recalls.services import incidents
from tests.factories import CustomerRequestFactory, ProductFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

UNBROKEN = "Pleasecallbackaboutthe" + "x" * 48
CUSTOMER = "Supercalifragilisticexpialidocious-Wholesale-Distribution-GmbH-und-Co-KG-Niederlassung"


def test_long_unbroken_text_wraps_inside_the_requests_table(page, login, sales_user):
    CustomerRequestFactory(summary=UNBROKEN, customer_name=CUSTOMER, customer_account="A" * 40)
    login(page, sales_user)
    page.set_viewport_size({"width": 1440, "height": 900})

    page.goto("/requests/")

    table = page.get_by_role("table", name="Customer requests")
    expect(table.get_by_role("link", name=UNBROKEN[:20], exact=False)).to_be_visible()
    wrap = page.locator(".table-wrap", has=table)
    assert wrap.evaluate("w => w.scrollWidth <= w.clientWidth")
    due = table.get_by_role("columnheader", name="Due")
    assert due.bounding_box()["x"] + due.bounding_box()["width"] <= 1440


def test_the_public_notice_shows_every_lot_column_on_a_phone(page, quality_user):
    tea = ProductFactory(sku="TEA-MAN-05", name="Iced Tea Mango 500 ml bottle")
    incident = incidents.recall_open(
        actor=quality_user,
        product_ids=[tea.pk],
        title="Caps may not seal",
        classification=RecallIncident.Classification.CLASS_II,
        hazard="The tea may ferment.",
        source=RecallIncident.Source.INTERNAL_TEST,
    )
    for code, best_before in (
        ("L-B1-0347", dt.date(2027, 8, 13)),
        ("L-B1-0352", dt.date(2027, 8, 20)),
    ):
        incidents.lot_add(
            actor=quality_user,
            incident_id=incident.pk,
            product_id=tea.pk,
            lot_code=code,
            best_before=best_before,
        )
    incident.refresh_from_db()
    incidents.recall_update(
        actor=quality_user,
        incident_id=incident.pk,
        expected_version=incident.version,
        consumer_instructions="Do not drink it.",
        contact="0800 555 0142",
    )
    for status in ("investigating", "announced"):
        incident.refresh_from_db()
        incidents.recall_transition(
            actor=quality_user,
            incident_id=incident.pk,
            expected_version=incident.version,
            to=status,
        )
    page.set_viewport_size({"width": 390, "height": 800})

    page.goto(f"/recall-notices/{incident.code}/")

    expect(page.locator(".notice-issuer")).to_have_text("Brookfield Beverages")
    for text in ("13 Aug 2027", "20 Aug 2027"):
        cell = page.get_by_role("cell", name=text)
        expect(cell).to_be_visible()
        box = cell.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, text
        assert cell.evaluate("td => getComputedStyle(td, '::before').content") == '"Best before"'
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
