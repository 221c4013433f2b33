"""E-mail notifications end to end against a real SMTP server started by the test: the
daily digest of the home page, the outbox that sends each message once, retries after
a failed send, the profile page and the signed unsubscribe link."""

from __future__ import annotations

import datetime as dt
import re
import threading

import pytest
from celery.schedules import crontab
from django.core import signing
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from coordination import home, roles
from coordination.models import CustomerRequest, EmailKind, EmailNotification, EmailPreference
from coordination.services import notifications
from coordination.tasks import (
    queue_daily_digests,
    send_email_notification,
    send_pending_email_notifications,
)
from tests.conftest import SITE_URL
from tests.factories import CustomerRequestFactory

pytestmark = pytest.mark.django_db

Status = EmailNotification.Status
UNSUBSCRIBE = re.compile(r"<(https://tandem\.example\.com/e-mails/unsubscribe/([^/]+)/)>")


@pytest.fixture
def people(make_user):
    return {
        "mara": make_user(roles.MARKETING, username="mara", first_name="Mara"),
        "petra": make_user(roles.PRODUCTION, username="petra", first_name="Petra"),
        "sam": make_user(roles.SALES, username="sam", first_name="Sam"),
        "nomail": make_user(roles.PRODUCTION, username="nomail", email=""),
    }


@pytest.fixture
def inbox_request(people):
    """One open request in production's inbox, due yesterday: overdue there."""
    return CustomerRequestFactory(
        department="production",
        status=CustomerRequest.Status.TRIAGED,
        due_date=timezone.localdate() - dt.timedelta(days=1),
    )


def _digest(django_capture_on_commit_callbacks) -> list[int]:
    with django_capture_on_commit_callbacks(execute=True):
        return queue_daily_digests.delay().get()


# --- the daily digest --------------------------------------------------------------------


def test_the_digest_lists_exactly_the_home_items_and_skips_people_with_nothing_waiting(
    smtp_server, people, inbox_request, django_capture_on_commit_callbacks
):
    petra = people["petra"]
    expected = [
        (todo.count, todo.label, f"{SITE_URL}{todo.url}")
        for panel in home.panels_for(petra)
        for todo in panel["todos"]
    ]
    assert [(count, label) for count, label, _ in expected] == [
        (1, "Overdue in the Production inbox"),
        (1, "Open in the Production inbox"),
    ]

    ids = _digest(django_capture_on_commit_callbacks)

    # Mara and Sam have nothing waiting, "nomail" has no address: only Petra hears.
    [row] = EmailNotification.objects.all()
    assert ids == [row.pk]
    assert (row.user, row.kind, row.key, row.status, row.attempts) == (
        petra,
        EmailKind.DAILY_DIGEST,
        timezone.localdate().isoformat(),
        Status.SENT,
        1,
    )
    [mail] = smtp_server.received
    assert mail.rcpt_tos == ["petra@example.com"]
    assert mail.mail_from == "tandem@tandem.example.com"
    assert mail.subject == f"Tandem: 2 things need you ({timezone.localdate():%a %d %b})"
    assert mail.message["To"] == "petra@example.com"
    assert mail.message["Auto-Submitted"] == "auto-generated"
    text, html = mail.part("text/plain"), mail.part("text/html")
    for count, label, url in expected:
        assert f"  {count}  {label}\n     {url}\n" in text
        assert f'<a href="{escape(url)}"><strong>{count}</strong> {label}</a>' in html
    assert f"Your home page: {SITE_URL}/\n" in text
    assert f'href="{SITE_URL}/"' in html
    assert f"<title>{escape(mail.subject)}</title>" in html

    # A second run the same day (beat fired twice, a task redelivered) sends nothing.
    assert _digest(django_capture_on_commit_callbacks) == []
    assert send_email_notification.delay(row.pk).get() is None
    assert send_pending_email_notifications.delay().get() == []
    assert len(smtp_server.received) == 1
    assert EmailNotification.objects.count() == 1


def test_someone_who_switched_the_digest_off_gets_none(
    smtp_server, people, inbox_request, django_capture_on_commit_callbacks
):
    notifications.email_preferences_set(
        user=people["petra"], enabled={EmailKind.DAILY_DIGEST: False}
    )
    assert _digest(django_capture_on_commit_callbacks) == []
    assert smtp_server.received == []
    assert EmailNotification.objects.count() == 0


# --- the outbox: once, and again after a failure ------------------------------------------


def test_a_failed_send_stays_pending_and_a_later_run_sends_it_once(
    smtp_server, people, inbox_request, django_capture_on_commit_callbacks
):
    smtp_server.stop()
    before = timezone.now()
    _digest(django_capture_on_commit_callbacks)

    [row] = EmailNotification.objects.all()
    assert (row.status, row.attempts, row.sent_at) == (Status.PENDING, 1, None)
    assert row.last_error.startswith("ConnectionRefusedError")
    wait = (row.next_attempt_at - before).total_seconds()
    assert notifications.RETRY_BASE_SECONDS <= wait < notifications.RETRY_BASE_SECONDS + 5

    smtp_server.start()
    # Not due yet: the run a few seconds later leaves it alone.
    assert send_pending_email_notifications.delay().get() == []
    assert smtp_server.received == []

    EmailNotification.objects.filter(pk=row.pk).update(
        next_attempt_at=timezone.now() - dt.timedelta(seconds=1)
    )  # the minute has passed
    assert send_pending_email_notifications.delay().get() == [row.pk]
    assert send_pending_email_notifications.delay().get() == []
    assert send_email_notification.delay(row.pk).get() is None
    [mail] = smtp_server.received
    assert mail.rcpt_tos == ["petra@example.com"]
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (Status.SENT, 2, "")


def test_a_send_that_keeps_failing_is_failed_for_good_after_the_last_attempt(
    smtp_server, people, inbox_request, django_capture_on_commit_callbacks
):
    smtp_server.stop()
    _digest(django_capture_on_commit_callbacks)
    [row] = EmailNotification.objects.all()
    for _ in range(notifications.MAX_ATTEMPTS - 1):
        EmailNotification.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
        assert send_pending_email_notifications.delay().get() == []
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.FAILED, notifications.MAX_ATTEMPTS)
    smtp_server.start()
    assert send_pending_email_notifications.delay().get() == []
    assert smtp_server.received == []


def test_a_message_for_someone_who_unsubscribed_meanwhile_is_skipped(
    smtp_server, people, inbox_request, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        [pk] = queue_daily_digests.delay().get()  # written, not yet sent
    notifications.email_unsubscribe(
        token=notifications.unsubscribe_token(people["petra"], EmailKind.DAILY_DIGEST)
    )
    assert send_email_notification.delay(pk).get() == Status.SKIPPED
    assert smtp_server.received == []
    assert EmailNotification.objects.get(pk=pk).sent_at is None


def test_the_same_event_reported_twice_writes_one_message_per_person(people):
    kwargs = {
        "kind": EmailKind.DAILY_DIGEST,
        "key": "2026-12-07",
        "subject": "Digest",
        "template": "coordination/email/digest",
        "context": {"panels": [], "day": dt.date(2026, 12, 7)},
        "link": "/",
    }
    first = notifications.notify_now(**kwargs)
    assert notifications.notify_now(**kwargs) == []
    # Mara, Petra and Sam; not "nomail".
    assert len(first) == 3
    assert EmailNotification.objects.count() == 3


# --- unsubscribe ------------------------------------------------------------------------


def test_the_unsubscribe_link_asks_then_switches_off_that_kind_only(client, people):
    mara = people["mara"]
    url = reverse(
        "email_unsubscribe", args=[notifications.unsubscribe_token(mara, EmailKind.STOP_SHIP)]
    )
    asked = client.get(url)  # link scanners follow links: a GET changes nothing
    assert asked.status_code == 200
    assert "Stop sending “Stop-ships, the moment one is placed” to mara@example.com" in (
        asked.content.decode()
    )
    assert EmailPreference.objects.count() == 0

    # What a mail program's own button sends (RFC 8058): no session, no CSRF token.
    done = client.post(
        url,
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert done.status_code == 200
    assert "You are unsubscribed" in done.content.decode()
    assert list(EmailPreference.objects.values_list("user__username", "kind", "enabled")) == [
        ("mara", "stop_ship", False)
    ]
    assert notifications.preferences_of(mara) == {
        "stop_ship": False,
        "promotion_at_risk": True,
        "daily_digest": True,
    }


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),  # signature
        lambda token: "x" + token,  # payload
        lambda token: token.split(":")[0],  # cut short
        lambda token: signing.dumps({"user": 1, "kind": "stop_ship"}),  # another salt
        lambda token: "not-a-token",
    ],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_tampered_unsubscribe_link_answers_400_and_changes_nothing(
    client, people, tamper, method
):
    token = notifications.unsubscribe_token(people["mara"], EmailKind.DAILY_DIGEST)
    response = getattr(client, method)(reverse("email_unsubscribe", args=[tamper(token)]))
    assert response.status_code == 400
    assert "This unsubscribe link is not valid" in response.content.decode()
    assert EmailPreference.objects.count() == 0


def test_a_signed_link_for_an_unknown_kind_or_user_answers_400(client, people):
    for data in ({"user": people["mara"].pk, "kind": "weekly"}, {"user": 0, "kind": "stop_ship"}):
        token = signing.dumps(data, salt=notifications.UNSUBSCRIBE_SALT)
        response = client.post(reverse("email_unsubscribe", args=[token]))
        assert response.status_code == 400
    assert EmailPreference.objects.count() == 0


# --- the profile page and the home box ----------------------------------------------------


def test_the_profile_page_offers_the_kinds_of_the_role_and_saves_them(client, people):
    client.force_login(people["sam"])
    page = client.get(reverse("profile")).content.decode()
    # Sales is never told of promotions at risk: that box is not offered.
    assert 'name="stop_ship" id="id_stop_ship" checked' in page
    assert 'name="daily_digest" id="id_daily_digest" checked' in page
    assert "promotion_at_risk" not in page

    response = client.post(reverse("profile"), {"stop_ship": "on"})
    assert response.status_code == 302
    assert response["Location"] == reverse("profile")
    assert notifications.preferences_of(people["sam"]) == {
        "stop_ship": True,
        "daily_digest": False,
    }
    home_page = client.get(reverse("home")).content.decode()
    assert '<span class="badge badge-ok">on</span> Stop-ships, the moment one is placed' in (
        home_page
    )
    assert '<span class="badge">off</span> A daily digest of what needs you' in home_page
    assert f'href="{reverse("profile")}">Change on your profile</a>' in home_page


def test_a_kind_the_role_does_not_get_cannot_be_switched_through_the_service(people):
    with pytest.raises(Exception, match="Unknown kind of e-mail: promotion_at_risk"):
        notifications.email_preferences_set(user=people["sam"], enabled={"promotion_at_risk": True})
    assert EmailPreference.objects.count() == 0


def test_the_profile_page_says_when_there_is_no_address(client, people):
    client.force_login(people["nomail"])
    page = client.get(reverse("profile")).content.decode()
    assert "Tandem has no e-mail address for you" in page


def test_the_profile_needs_a_sign_in(client):
    response = client.get(reverse("profile"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db(transaction=True)
def test_a_row_another_worker_is_sending_is_skipped_not_sent_twice(
    smtp_server, people, inbox_request, monkeypatch
):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no row locks; one process sends there")
    monkeypatch.setattr(notifications, "enqueue", lambda pk: False)  # written, not sent
    [pk] = queue_daily_digests.delay().get()
    holding, release = threading.Event(), threading.Event()

    def other_worker():
        # Another worker in the middle of sending the row: it holds the row's lock.
        with transaction.atomic():
            EmailNotification.objects.select_for_update().get(pk=pk)
            holding.set()
            release.wait(10)
        connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert holding.wait(10)
        assert send_email_notification.delay(pk).get() is None  # skipped, not waited for
        assert send_pending_email_notifications.delay().get() == []
    finally:
        release.set()
        thread.join()
    assert smtp_server.received == []
    assert EmailNotification.objects.get(pk=pk).status == Status.PENDING
    assert send_email_notification.delay(pk).get() == Status.SENT
    assert len(smtp_server.received) == 1


def test_failed_emails_are_sent_again_from_the_admin_once_the_server_is_back(
    smtp_server, people, inbox_request, admin_client, django_capture_on_commit_callbacks
):
    smtp_server.stop()
    _digest(django_capture_on_commit_callbacks)  # Petra's, and the signed-in admin's
    failed = EmailNotification.objects.get(user=people["petra"])
    EmailNotification.objects.filter(pk=failed.pk).update(
        status=Status.FAILED, attempts=notifications.MAX_ATTEMPTS
    )
    sent = EmailNotification.objects.create(
        user=people["mara"],
        kind=EmailKind.STOP_SHIP,
        key="RC-2026-0001",
        subject="Stop-ship",
        body_text="Held.",
        body_html="<p>Held.</p>",
        link=SITE_URL,
        status=Status.SENT,
        sent_at=timezone.now(),
    )
    smtp_server.start()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:coordination_emailnotification_changelist"),
            {"action": "send_again", "_selected_action": [failed.pk, sent.pk]},
            follow=True,
        )
    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == [
        "1 failed e-mail(s) queued to send again.",
        "1 not failed: left as they are.",
    ]
    [mail] = smtp_server.received
    assert mail.rcpt_tos == ["petra@example.com"]
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (Status.SENT, 1)
    assert EmailNotification.objects.get(pk=sent.pk).status == Status.SENT


def test_the_home_box_says_when_there_is_no_address(client, people):
    client.force_login(people["nomail"])
    page = client.get(reverse("home")).content.decode()
    assert "Tandem has no e-mail address for you: ask an administrator to add one." in page


def test_a_panel_that_fails_for_one_person_costs_the_others_nothing(
    smtp_server, people, inbox_request, monkeypatch, django_capture_on_commit_callbacks
):
    real_panels_for = home.panels_for

    def panels_for(user, leave_out=frozenset()):
        if user.username == "petra":
            raise RuntimeError("a broken panel")
        return real_panels_for(user, leave_out)

    monkeypatch.setattr(home, "panels_for", panels_for)
    people["sam"].groups.add(*people["petra"].groups.all())  # Sam is in production too
    ids = _digest(django_capture_on_commit_callbacks)
    assert [row.user.username for row in EmailNotification.objects.filter(pk__in=ids)] == ["sam"]
    assert [mail.rcpt_tos for mail in smtp_server.received] == [["sam@example.com"]]
    monkeypatch.setattr(home, "panels_for", real_panels_for)
    assert len(_digest(django_capture_on_commit_callbacks)) == 1  # the next run: Petra's
    assert sorted(mail.rcpt_tos[0] for mail in smtp_server.received) == [
        "petra@example.com",
        "sam@example.com",
    ]


def test_beat_sends_the_digest_daily_at_its_hour_and_retries_every_minute(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE
    digest = schedule["daily-digests"]
    assert digest["task"] == "coordination.queue_daily_digests"
    assert digest["schedule"] == crontab(hour=settings.EMAIL_DIGEST_HOUR, minute=0)
    assert settings.EMAIL_DIGEST_HOUR == 7
    pending = schedule["send-pending-email-notifications"]
    assert (pending["task"], pending["schedule"], pending["options"]) == (
        "coordination.send_pending_email_notifications",
        60.0,
        {"expires": 60},
    )


def test_unticking_every_box_switches_every_kind_off(client, people):
    client.force_login(people["mara"])
    assert client.post(reverse("profile"), {}).status_code == 302
    assert notifications.preferences_of(people["mara"]) == {
        "stop_ship": False,
        "promotion_at_risk": False,
        "daily_digest": False,
    }


def test_the_digest_leaves_out_the_panels_the_person_unticked(
    client, smtp_server, people, inbox_request, django_capture_on_commit_callbacks
):
    petra = people["petra"]
    client.force_login(petra)
    page = client.get(reverse("profile")).content.decode()
    titles = home.titles_for(petra)
    assert "Customer requests" in titles
    for title in titles:
        assert f'value="{title}"' in page
    assert page.count('name="digest_panels"') == len(titles)
    assert page.count('name="digest_panels" value=') == len(titles)

    kept = [title for title in titles if title != "Customer requests"]
    response = client.post(
        reverse("profile"),
        {"stop_ship": "on", "daily_digest": "on", "digest_panels": kept},
    )
    assert response.status_code == 302
    assert notifications.digest_panels_off(petra) == ["Customer requests"]
    # Her only items were in that panel: no digest at all.
    assert _digest(django_capture_on_commit_callbacks) == []
    assert smtp_server.received == []

    response = client.post(
        reverse("profile"),
        {"stop_ship": "on", "daily_digest": "on", "digest_panels": titles},
    )
    assert notifications.digest_panels_off(petra) == []
    assert len(_digest(django_capture_on_commit_callbacks)) == 1


def test_a_panel_the_person_does_not_see_is_refused_at_the_field(client, people):
    client.force_login(people["sam"])
    response = client.post(
        reverse("profile"), {"daily_digest": "on", "digest_panels": ["Promotions"]}
    )
    assert response.status_code == 200
    assert (
        "Select a valid choice. Promotions is not one of the available choices."
        in response.content.decode()
    )
    assert EmailPreference.objects.count() == 0
    with pytest.raises(Exception, match="Choose panels of your home page"):
        notifications.email_preferences_set(
            user=people["sam"], enabled={}, digest_panels_off=["Promotions"]
        )
    assert EmailPreference.objects.count() == 0
