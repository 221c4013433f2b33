"""The Celery app. Configuration lives in settings.py under the CELERY_ namespace."""

import os

from celery import Celery
from celery.app.amqp import AMQP
from kombu import Connection

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coordination.settings")

# Workers and beat retry a lost broker connection with growing pauses, by kombu's default
# up to 30 s: after a long outage they would notice the broker's return half a minute
# late. Retrying at least this often keeps the promise that work a broker outage left
# pending is picked up within 15 s of its return (README, "What survives what").
RECONNECT_MAX_SECONDS = 3

# A web request hands a task to the broker through `publish`, which gives up at once when
# Redis refuses connections, and within three socket timeouts (the attempt, then one
# retry's connect and handshake: 0.6 s) when Redis hangs. Only this path is that short: a
# worker whose acknowledgement timed out would stop taking tasks, so workers keep
# kombu's patient defaults.
PUBLISH_SOCKET_TIMEOUT = 0.2
PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0,
    "interval_max": 0,
}


class BrokerConnection(Connection):
    def ensure_connection(self, *args, **kwargs):
        if len(args) <= 2:  # (errback, max_retries): the pauses are left to the default
            kwargs.setdefault("interval_start", 1)
            kwargs.setdefault("interval_step", 1)
            kwargs.setdefault("interval_max", RECONNECT_MAX_SECONDS)
        return super().ensure_connection(*args, **kwargs)


class TandemAMQP(AMQP):
    Connection = BrokerConnection


app = Celery("tandem", amqp=TandemAMQP)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def publish(task_name: str, *args) -> None:
    """Hand a task to the broker now, or raise. For callers with an outbox row (the
    reconciler hands it over later), never for work that would otherwise be lost."""
    task = app.tasks[task_name]
    if app.conf.task_always_eager:
        task.apply_async(args=args)  # in-process: runs it here
        return
    timeouts = {
        "socket_connect_timeout": PUBLISH_SOCKET_TIMEOUT,
        "socket_timeout": PUBLISH_SOCKET_TIMEOUT,
    }
    with app.connection_for_write(
        connect_timeout=PUBLISH_SOCKET_TIMEOUT, transport_options=timeouts
    ) as connection:
        task.apply_async(
            args=args, connection=connection, retry=True, retry_policy=PUBLISH_RETRY_POLICY
        )
