from celery import shared_task


@shared_task(name="coordination.ping")
def ping() -> str:
    """Proves the broker and a worker are alive: `ping.delay().get()` returns "pong"."""
    return "pong"


@shared_task(name="coordination.expire_idempotency_keys")
def expire_idempotency_keys() -> int:
    """Hourly: forget the answers to creates sent with an Idempotency-Key over a day ago."""
    from coordination.services.idempotency import idempotency_keys_expire

    return idempotency_keys_expire()
