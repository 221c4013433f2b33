from celery import shared_task


@shared_task(name="coordination.ping")
def ping() -> str:
    """Touches nothing: `celery -A coordination call coordination.ping` shows (in the
    worker's log, "succeeded ... 'pong'") that a worker takes tasks from the broker.
    Results are not stored (CELERY_TASK_IGNORE_RESULT); `celery -A coordination inspect
    ping` asks the workers directly."""
    return "pong"


@shared_task(name="coordination.expire_idempotency_keys")
def expire_idempotency_keys() -> int:
    """Hourly: forget the answers to creates sent with an Idempotency-Key over a day ago."""
    from coordination.services.idempotency import idempotency_keys_expire

    return idempotency_keys_expire()


@shared_task(name="coordination.send_email_notification")
def send_email_notification(notification_id: int) -> str | None:
    """Send one e-mail of the outbox; a second delivery of the task sends nothing."""
    from coordination.services.notifications import email_send

    return email_send(notification_id)


@shared_task(name="coordination.send_pending_email_notifications")
def send_pending_email_notifications() -> list[int]:
    """Every minute: send e-mails whose attempt failed or whose task was lost."""
    from coordination.services.notifications import pending_send

    return pending_send()


@shared_task(name="coordination.queue_daily_digests")
def queue_daily_digests() -> list[int]:
    """Daily: a digest of their home page to each person with something waiting."""
    from coordination.services.notifications import digests_queue

    return digests_queue()
