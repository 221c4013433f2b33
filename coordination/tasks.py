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
