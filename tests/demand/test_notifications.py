"""Promotions put at risk reach marketing at once: one e-mail per event, listing them."""

from __future__ import annotations

import pytest

from coordination import roles
from coordination.models import EmailNotification
from coordination.weeks import iso_label
from demand.services.promotions import promotions_flag_at_risk
from tests.conftest import SITE_URL
from tests.factories import ProductFactory, PromotionFactory, PromotionItemFactory

pytestmark = pytest.mark.django_db


def test_two_promotions_put_at_risk_are_one_email_to_each_marketer_naming_both(
    smtp_server, make_user, django_capture_on_commit_callbacks
):
    mara = make_user(roles.MARKETING, username="mara", first_name="Mara")
    make_user(roles.SALES, username="sam")  # sales does not plan promotions
    product = ProductFactory()
    spring = PromotionFactory(name="Spring", status="confirmed")
    summer = PromotionFactory(name="Summer", status="draft")
    for promotion in (spring, summer):
        PromotionItemFactory(promotion=promotion, product=product)
    PromotionFactory(name="Unrelated")

    with django_capture_on_commit_callbacks(execute=True):
        flagged = promotions_flag_at_risk(product_ids=[product.pk], reason="Shortage of caps")
    assert {p.name for p in flagged} == {"Spring", "Summer"}

    [mail] = smtp_server.received
    assert mail.rcpt_tos == ["mara@example.com"]
    assert mail.subject == "2 promotions at risk"
    text = mail.part("text/plain")
    assert text.startswith("Hello Mara,\n\n2 promotions are at risk: Shortage of caps\n")
    for promotion in flagged:
        assert (
            f"  {promotion.name} ({promotion.get_status_display()}, "
            f"{iso_label(promotion.start_week)} to {iso_label(promotion.end_week)})\n"
            f"  {SITE_URL}/promotions/{promotion.pk}/\n"
        ) in text
    assert f"Pause or cancel what cannot be supplied: {SITE_URL}/promotions/\n" in text
    assert "Open the promotion calendar" in mail.part("text/html")
    [row] = EmailNotification.objects.all()
    assert (row.user, row.kind, row.status) == (mara, "promotion_at_risk", "sent")

    # Flagged again (another stop-ship): new versions, a new event, a new e-mail.
    with django_capture_on_commit_callbacks(execute=True):
        promotions_flag_at_risk(product_ids=[product.pk], reason="Second recall")
    assert len(smtp_server.received) == 2
    assert (
        smtp_server.received[1]
        .part("text/plain")
        .startswith("Hello Mara,\n\n2 promotions are at risk: Second recall\n")
    )


def test_nothing_put_at_risk_emails_nobody(smtp_server, make_user):
    make_user(roles.MARKETING, username="mara")
    assert promotions_flag_at_risk(product_ids=[ProductFactory().pk], reason="x") == []
    assert EmailNotification.objects.count() == 0
    assert smtp_server.received == []
