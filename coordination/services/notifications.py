"""E-mail notifications: what needs a person reaches them by e-mail.

Urgent events (a stop-ship, a promotion put at risk) call `notify_now` inside their own
transaction; once a day `digests_queue` lists each person's non-zero home-page items
(coordination/home.py's panels, the very numbers the home page shows). Both write outbox
rows, rendered then, and hand each to a worker after commit; `email_send` sends a row at
most once (a row lock, its status), and `pending_send` (every minute) sends the rows a
failed attempt or a lost task left pending. Each kind can be switched off on the profile
page or by the signed unsubscribe link every message carries."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator

from coordination import home
from coordination.celery import publish
from coordination.models import EmailKind, EmailNotification, EmailPreference

logger = logging.getLogger(__name__)

SEND_TASK = "coordination.send_email_notification"
Status = EmailNotification.Status
# Who may get each kind: the permission of the page it links to (the home panel's).
KIND_PERMISSIONS = {
    EmailKind.STOP_SHIP: "recalls.view_recallincident",
    EmailKind.PROMOTION_AT_RISK: "demand.change_promotion",
    EmailKind.DAILY_DIGEST: None,
}
UNSUBSCRIBE_SALT = "coordination.email-unsubscribe"
# A failed send is tried again after 1, 2, 4, ... minutes, at most an hour apart; after
# MAX_ATTEMPTS (about two hours of trying) the row is failed for good, shown in the admin.
RETRY_BASE_SECONDS = 60
RETRY_CAP_SECONDS = 3600
MAX_ATTEMPTS = 8


def digest_hour() -> str:
    return f"{settings.EMAIL_DIGEST_HOUR:02d}:00"


def site_url() -> str:
    """Where e-mail links point: SITE_URL, else the first host name Tandem answers to."""
    return settings.SITE_URL or settings.DEFAULT_SITE_URL


def absolute(url: str) -> str:
    return f"{site_url()}{url}" if url.startswith("/") else url


def kinds_for(user) -> list[str]:
    """The kinds this person may get (a salesperson is never told of promotions)."""
    return [
        kind
        for kind, permission in KIND_PERMISSIONS.items()
        if permission is None or user.has_perm(permission)
    ]


def preferences_of(user) -> dict[str, bool]:
    """Each kind the person may get, on unless they switched it off."""
    off = set(
        EmailPreference.objects.filter(user=user, enabled=False).values_list("kind", flat=True)
    )
    return {kind: kind not in off for kind in kinds_for(user)}


def digest_panels_off(user) -> list[str]:
    """The home panels the person's digest leaves out."""
    row = EmailPreference.objects.filter(user=user, kind=EmailKind.DAILY_DIGEST).first()
    return list(row.panels_off) if row else []


@transaction.atomic
def email_preferences_set(
    *, user, enabled: dict[str, bool], digest_panels_off: list[str] | None = None
) -> dict[str, bool]:
    allowed = kinds_for(user)
    unknown = sorted(set(enabled) - set(allowed))
    if unknown:
        raise ValidationError(f"Unknown kind of e-mail: {', '.join(unknown)}.")
    for kind, on in enabled.items():
        EmailPreference.objects.update_or_create(user=user, kind=kind, defaults={"enabled": on})
    if digest_panels_off is not None:
        panels = home.titles_for(user)
        if set(digest_panels_off) - set(panels):
            raise ValidationError({"digest_panels": "Choose panels of your home page."})
        EmailPreference.objects.update_or_create(
            user=user,
            kind=EmailKind.DAILY_DIGEST,
            defaults={"panels_off": [title for title in panels if title in digest_panels_off]},
        )
    return preferences_of(user)


def unsubscribe_token(user, kind: str) -> str:
    return signing.dumps({"user": user.pk, "kind": kind}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_url(user, kind: str) -> str:
    return absolute(reverse("email_unsubscribe", args=[unsubscribe_token(user, kind)]))


def unsubscribe_target(token: str):
    """The (user, kind) a link names, or ValidationError for a tampered or stale one."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        user = get_user_model().objects.get(pk=int(data["user"]), is_active=True)
        kind = EmailKind(data["kind"])
    except (signing.BadSignature, KeyError, TypeError, ValueError, get_user_model().DoesNotExist):
        raise ValidationError(
            "This unsubscribe link is not valid: it was changed or cut short. Open it "
            "again from the e-mail, or choose your e-mails on your profile page."
        ) from None
    return user, kind


@transaction.atomic
def email_unsubscribe(*, token: str):
    user, kind = unsubscribe_target(token)
    EmailPreference.objects.update_or_create(user=user, kind=kind, defaults={"enabled": False})
    return user, kind


# --- writing the outbox ----------------------------------------------------------------


def _recipients(kind: str):
    people = get_user_model().objects.filter(is_active=True).exclude(email="")
    permission = KIND_PERMISSIONS[kind]
    if permission is not None:
        people = people.filter(
            pk__in=get_user_model().objects.with_perm(
                permission, backend="django.contrib.auth.backends.ModelBackend"
            )
        )
    off = EmailPreference.objects.filter(kind=kind, enabled=False).values("user_id")
    return people.exclude(pk__in=off).order_by("pk")


def _render(user, kind: str, key: str, subject: str, template: str, context: dict, link: str):
    # A header must be one line: titles typed by people may hold line breaks.
    subject = Truncator(" ".join(subject.split())).chars(200)
    context = {
        **context,
        "subject": subject,
        "user": user,
        "link": absolute(link),
        "site_url": site_url(),
        "kind_label": EmailKind(kind).label,
        "unsubscribe_url": unsubscribe_url(user, kind),
        "profile_url": absolute(reverse("profile")),
    }
    return EmailNotification(
        user=user,
        kind=kind,
        key=key[:200],
        subject=subject,
        body_text=render_to_string(f"{template}.txt", context),
        body_html=render_to_string(f"{template}.html", context),
        link=absolute(link),
    )


def _write(kind: str, key: str, rows: list[EmailNotification]) -> list[int]:
    """Insert the rows (a repeated event inserts nothing: unique per user, kind and key)
    and hand each new one to a worker once the event's transaction has committed."""
    if not rows:
        return []
    mine = EmailNotification.objects.filter(kind=kind, key=key[:200])
    before = set(mine.values_list("pk", flat=True))
    EmailNotification.objects.bulk_create(rows, ignore_conflicts=True)
    users = [row.user_id for row in rows]
    ids = sorted(set(mine.filter(user__in=users).values_list("pk", flat=True)) - before)
    for pk in ids:
        transaction.on_commit(partial(enqueue, pk))
    return ids


def notify_now(
    *, kind: str, key: str, subject: str, template: str, context: dict, link: str, actor=None
) -> list[int]:
    """An urgent message to everyone who may get `kind` and has not switched it off,
    but the person who caused the event. Call it inside the event's transaction."""
    if len(key) > 200:  # e.g. the many promotions one stop-ship puts at risk
        key = f"sha256:{hashlib.sha256(key.encode()).hexdigest()}"
    people = _recipients(kind)
    if actor is not None and actor.is_authenticated:
        people = people.exclude(pk=actor.pk)
    rows = [_render(user, kind, key, subject, template, context, link) for user in people]
    return _write(kind, key, rows)


def digests_queue(day: dt.date | None = None) -> list[int]:
    """One digest per person for `day`, listing their non-zero home-page items; none for
    a person with nothing waiting or who already has that day's digest. Each person's is
    committed (and handed to a worker) on its own, so the first go out while the rest
    are counted, and a run that stops is finished by the next without repeats."""
    day = day or timezone.localdate()
    kind, key = EmailKind.DAILY_DIGEST, day.isoformat()
    done = EmailNotification.objects.filter(kind=kind, key=key).values("user_id")
    people = _recipients(kind).exclude(pk__in=done).filter(groups__isnull=False).distinct()
    ids = []
    for user in people:
        try:
            with transaction.atomic():
                ids += _write(kind, key, _digest_of(user, kind, key, day))
        except Exception:  # one person's failing panel costs the others nothing
            logger.exception("The digest of user %s was not written", user.pk)
    return ids


def _digest_of(user, kind: str, key: str, day: dt.date) -> list[EmailNotification]:
    leave_out = frozenset(digest_panels_off(user))
    panels = [
        {
            "title": panel["title"],
            "todos": [
                {"label": t.label, "count": t.count, "url": absolute(t.url), "hint": t.hint}
                for t in panel["todos"]
            ],
        }
        for panel in home.panels_for(user, leave_out)
        if panel["todos"]
    ]
    if not panels:
        return []
    total = sum(todo["count"] for panel in panels for todo in panel["todos"])
    waiting = "1 thing needs" if total == 1 else f"{total:,} things need"
    subject = f"Tandem: {waiting} you ({day:%a %d %b})"
    context = {"panels": panels, "day": day}
    return [_render(user, kind, key, subject, "coordination/email/digest", context, "/")]


# --- sending ---------------------------------------------------------------------------


def enqueue(notification_id: int) -> bool:
    """Hand a row to a worker. Never raises: the event is committed, and a row the
    broker did not take is sent by `pending_send` within a minute."""
    try:
        publish(SEND_TASK, notification_id)
    except Exception:
        logger.exception("E-mail %s was not handed to a worker", notification_id)
        return False
    return True


def _message(row: EmailNotification) -> EmailMultiAlternatives:
    unsubscribe = unsubscribe_url(row.user, row.kind)
    host = site_url().split("://", 1)[1].split("/", 1)[0].split(":", 1)[0]
    message = EmailMultiAlternatives(
        subject=row.subject,
        body=row.body_text,
        to=[row.user.email],
        headers={
            # The same id on a resend (a crash between sending and recording it), so
            # mail clients show one message.
            "Message-ID": f"<notification-{row.pk}.{row.created_at:%Y%m%d%H%M%S}@{host}>",
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",  # RFC 8058
            "Auto-Submitted": "auto-generated",  # RFC 3834: no out-of-office replies
        },
    )
    message.attach_alternative(row.body_html, "text/html")
    return message


def email_send(notification_id: int) -> str | None:
    """Send one due pending row. Returns its new status, or None when there was nothing
    to do: sent already, not due, or another worker holds it."""
    now = timezone.now()
    with transaction.atomic():
        row = (
            EmailNotification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("user")
            .filter(pk=notification_id, status=Status.PENDING, next_attempt_at__lte=now)
            .first()
        )
        if row is None:
            return None
        wanted = preferences_of(row.user).get(row.kind, False)
        if not (wanted and row.user.is_active and row.user.email):
            row.status = Status.SKIPPED
            row.save(update_fields=["status"])
            return row.status
        row.attempts += 1
        try:
            _message(row).send(fail_silently=False)
        except Exception as error:  # refused, unreachable, timed out, rejected: try again
            row.last_error = Truncator(f"{type(error).__name__}: {error}").chars(500)
            if row.attempts >= MAX_ATTEMPTS:
                row.status = Status.FAILED
                logger.warning("E-mail %s failed for good: %s", row.pk, row.last_error)
            else:
                wait = min(RETRY_BASE_SECONDS * 2 ** (row.attempts - 1), RETRY_CAP_SECONDS)
                row.next_attempt_at = now + dt.timedelta(seconds=wait)
        else:
            row.status, row.sent_at, row.last_error = Status.SENT, timezone.now(), ""
        row.save(update_fields=["status", "sent_at", "attempts", "last_error", "next_attempt_at"])
        return row.status


@transaction.atomic
def emails_retry(*, notification_ids) -> list[int]:
    """Send failed rows again (e.g. once the SMTP settings are fixed): pending, due now,
    with a fresh set of attempts. Rows sent, skipped or pending are left alone."""
    ids = sorted(
        EmailNotification.objects.select_for_update()
        .filter(pk__in=list(notification_ids), status=Status.FAILED)
        .values_list("pk", flat=True)
    )
    EmailNotification.objects.filter(pk__in=ids).update(
        status=Status.PENDING, attempts=0, next_attempt_at=timezone.now()
    )
    for pk in ids:
        transaction.on_commit(partial(enqueue, pk))
    return ids


def pending_send(limit: int = 500) -> list[int]:
    """Every minute: send the rows that are due (retries, and rows whose task was lost).
    Returns the ids sent."""
    due = EmailNotification.objects.filter(
        status=Status.PENDING, next_attempt_at__lte=timezone.now()
    ).order_by("next_attempt_at", "pk")
    ids = list(due.values_list("pk", flat=True)[:limit])
    return [pk for pk in ids if email_send(pk) == Status.SENT]
