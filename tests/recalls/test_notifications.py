"""The urgent e-mails: a stop-ship reaches everyone who reads recalls, and the
promotions it puts at risk reach marketing, at once, through a real SMTP server."""

from __future__ import annotations

import re
import time

import pytest
from django.db import transaction

from coordination import roles
from coordination.models import EmailKind, EmailNotification
from coordination.services import notifications
from coordination.services.locking import UNCHECKED
from coordination.tasks import send_email_notification, send_pending_email_notifications
from coordination.weeks import iso_label
from recalls.services import incidents
from tests.conftest import SITE_URL
from tests.factories import ProductFactory, PromotionFactory, PromotionItemFactory

pytestmark = pytest.mark.django_db

# From the stop-ship's commit to the last of its four e-mails in the SMTP server.
LATENCY_SECONDS = 5.0
UNSUBSCRIBE = re.compile(rf"^<{re.escape(SITE_URL)}/e-mails/unsubscribe/([^/]+)/>$")


@pytest.fixture
def people(make_user):
    return {
        "mara": make_user(roles.MARKETING, username="mara", first_name="Mara"),
        "petra": make_user(roles.PRODUCTION, username="petra", first_name="Petra"),
        "sam": make_user(roles.SALES, username="sam", first_name="Sam"),
        "quinn": make_user(roles.QUALITY, username="quinn", first_name="Quinn"),
        "nobody": make_user(username="nobody"),  # no role: reads no recalls
    }


@pytest.fixture
def tea():
    product = ProductFactory(sku="TEA-MAN-05", name="Iced Tea Mango 500 ml")
    promotion = PromotionFactory(name="Winter warm-up", status="planned")
    PromotionItemFactory(promotion=promotion, product=product)
    return product, promotion


def _stop_ship(actor, product, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return incidents.recall_open(
            actor=actor,
            title="Caps may not seal",
            classification="class_ii",
            hazard="The drink may ferment.",
            source="internal_test",
            product_ids=[product.pk],
            stop_ship=True,
        )


def test_a_stop_ship_emails_everyone_who_reads_recalls_but_who_placed_it(
    smtp_server, people, tea, django_capture_on_commit_callbacks
):
    product, promotion = tea
    incident = _stop_ship(people["quinn"], product, django_capture_on_commit_callbacks)

    stop_ship = [m for m in smtp_server.received if m.subject.startswith("Stop-ship")]
    assert sorted(m.rcpt_tos[0] for m in stop_ship) == [
        "mara@example.com",
        "petra@example.com",
        "sam@example.com",
    ]
    [mail] = smtp_server.to("petra@example.com")
    assert mail.subject == f"Stop-ship {incident.code}: Caps may not seal"
    assert mail.mail_from == "tandem@tandem.example.com"
    link = f"{SITE_URL}/recalls/{incident.code}/"
    text, html = mail.part("text/plain"), mail.part("text/html")
    assert text.startswith(
        f"Hello Petra,\n\nStop-ship {incident.code} (Class II — temporary or remote harm): "
        "Caps may not seal\n\nProduction of 1 product is held: "
        "TEA-MAN-05 Iced Tea Mango 500 ml.\n\nHazard: The drink may ferment.\n\n"
        f"Promotions put at risk: Winter warm-up.\n\nThe recall: {link}\n"
    )
    assert f'<a href="{link}"' in html
    assert "<li>TEA-MAN-05 Iced Tea Mango 500 ml</li>" in html
    # Folded onto its own line (a long header): the value is the same.
    [token] = UNSUBSCRIBE.match(mail.message["List-Unsubscribe"].strip()).groups()
    assert notifications.unsubscribe_target(token) == (people["petra"], EmailKind.STOP_SHIP)
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f"Unsubscribe from these: {SITE_URL}/e-mails/unsubscribe/{token}/\n" in text

    # Marketing also hears that its promotion is at risk, in a message of its own.
    [at_risk] = [m for m in smtp_server.to("mara@example.com") if "at risk" in m.subject]
    assert at_risk.subject == "Promotion at risk: Winter warm-up"
    promotion_link = f"{SITE_URL}/promotions/{promotion.pk}/"
    assert (
        f"  Winter warm-up (Planned, {iso_label(promotion.start_week)} to "
        f"{iso_label(promotion.end_week)})\n  {promotion_link}\n"
    ) in at_risk.part("text/plain")
    assert len(smtp_server.received) == 4

    rows = EmailNotification.objects.order_by("pk")
    assert [(r.user.username, r.kind, r.status) for r in rows] == [
        ("mara", "promotion_at_risk", "sent"),
        ("mara", "stop_ship", "sent"),
        ("petra", "stop_ship", "sent"),
        ("sam", "stop_ship", "sent"),
    ]
    # Sent once: the task delivered again, and the minute's run, send nothing more.
    for row in rows:
        assert send_email_notification.delay(row.pk).get() is None
    assert send_pending_email_notifications.delay().get() == []
    assert len(smtp_server.received) == 4


def test_someone_who_unsubscribed_from_stop_ships_hears_of_none(
    smtp_server, people, tea, django_capture_on_commit_callbacks
):
    notifications.email_unsubscribe(
        token=notifications.unsubscribe_token(people["sam"], EmailKind.STOP_SHIP)
    )
    _stop_ship(people["quinn"], tea[0], django_capture_on_commit_callbacks)
    assert smtp_server.to("sam@example.com") == []
    assert not EmailNotification.objects.filter(user=people["sam"]).exists()
    assert len(smtp_server.received) == 3  # Mara twice, Petra


def test_a_stop_ship_placed_again_after_its_release_is_a_new_message(
    smtp_server, people, tea, django_capture_on_commit_callbacks
):
    quinn = people["quinn"]
    incident = _stop_ship(quinn, tea[0], django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        incidents.recall_set_stop_ship(
            actor=quinn, incident_id=incident.pk, expected_version=UNCHECKED, stop=False
        )
    assert len(smtp_server.received) == 4  # a release is not urgent
    with django_capture_on_commit_callbacks(execute=True):
        incidents.recall_set_stop_ship(
            actor=quinn, incident_id=incident.pk, expected_version=UNCHECKED, stop=True
        )
    assert len(smtp_server.received) == 8
    assert len(smtp_server.to("petra@example.com")) == 2
    assert EmailNotification.objects.filter(kind=EmailKind.STOP_SHIP).count() == 6


def test_a_stop_ship_rolled_back_sends_nothing(
    smtp_server, people, tea, django_capture_on_commit_callbacks
):
    with (
        pytest.raises(RuntimeError),
        django_capture_on_commit_callbacks(execute=True),
        transaction.atomic(),
    ):
        incidents.recall_open(
            actor=people["quinn"],
            title="Caps may not seal",
            classification="class_ii",
            hazard="The drink may ferment.",
            source="internal_test",
            product_ids=[tea[0].pk],
            stop_ship=True,
        )
        raise RuntimeError("the request failed after the stop-ship")
    assert EmailNotification.objects.count() == 0
    assert smtp_server.received == []


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_stop_ship_reaches_the_inboxes_through_the_broker_and_a_worker(
    smtp_server, people, tea, celery_worker
):
    started = time.monotonic()
    incident = incidents.recall_open(  # commits: the rows go to the broker
        actor=people["quinn"],
        title="Caps may not seal",
        classification="class_ii",
        hazard="The drink may ferment.",
        source="internal_test",
        product_ids=[tea[0].pk],
        stop_ship=True,
    )
    while len(smtp_server.received) < 4 and time.monotonic() - started < LATENCY_SECONDS:
        time.sleep(0.02)
    latency = time.monotonic() - started
    assert len(smtp_server.received) == 4, f"{len(smtp_server.received)} after {latency:.2f} s"
    assert latency < LATENCY_SECONDS
    assert sorted(
        (m.rcpt_tos[0], m.subject) for m in smtp_server.received if "Stop-ship" in m.subject
    ) == [
        (f"{name}@example.com", f"Stop-ship {incident.code}: Caps may not seal")
        for name in ("mara", "petra", "sam")
    ]
    time.sleep(0.5)  # nothing else is on its way
    assert len(smtp_server.received) == 4
    assert set(EmailNotification.objects.values_list("status", flat=True)) == {"sent"}
