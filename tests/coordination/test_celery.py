import pytest

from coordination.celery import app as celery_app
from coordination.tasks import ping
from tests.conftest import broker_configured


def test_celery_configuration_is_safe_for_long_jobs():
    conf = celery_app.conf
    assert conf.task_serializer == "json"
    assert conf.result_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_soft_time_limit < conf.task_time_limit


@pytest.mark.worker
def test_ping_round_trips_through_a_worker(celery_worker):
    result = ping.delay()
    assert result.get(timeout=20) == "pong"
    if broker_configured():
        # Went through the broker and a real worker, not inline.
        assert celery_worker is not None
        assert result.backend.__class__.__name__ == "RedisBackend"
    else:
        assert result.__class__.__name__ == "EagerResult"
