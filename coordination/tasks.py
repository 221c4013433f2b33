from celery import shared_task


@shared_task(name="coordination.ping")
def ping() -> str:
    """Proves the broker and a worker are alive: `ping.delay().get()` returns "pong"."""
    return "pong"
