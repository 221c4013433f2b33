"""Suite-wide fixtures: users per role, Celery in eager mode or through a real worker."""

from __future__ import annotations

import ipaddress
import os
import socket

import pytest
from django.conf import settings
from django.core.cache import cache, caches
from django.test import override_settings

from coordination import roles
from coordination.celery import app as celery_app
from tests.factories import UserFactory

IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(autouse=True)
def _static_without_manifest(settings):
    # Tests do not run collectstatic; the manifest storage is exercised by the Dockerfile.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(scope="session", autouse=True)
def _plain_http(django_test_environment):
    # The test client and the live server speak plain http; with DEBUG off (as in CI)
    # Tandem would redirect them to https (tests/test_deploy_settings.py checks that).
    # Session-wide and autouse, so it is in force before the live server loads its
    # middleware (SecurityMiddleware reads the setting once, when it starts).
    with override_settings(SECURE_SSL_REDIRECT=False):
        yield


@pytest.fixture(autouse=True)
def _fresh_cache():
    # API rate counters live in the cache; each test starts with none counted, and with
    # nothing a product line learned in another test's data (the local cache).
    cache.clear()
    caches["local"].clear()
    yield
    cache.clear()
    caches["local"].clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Real hashing costs ~100 ms per user; the suite creates hundreds.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# Webhook hosts in tests: names under the reserved .example TLD (RFC 2606) and example.com
# resolve to this public address, without a network.
PUBLIC_TEST_ADDRESS = "93.184.215.14"


class FakeDNS:
    """Stands in for production.services.webhook_transport.resolve: `records` (host to
    addresses) first; .example and example.com names to PUBLIC_TEST_ADDRESS;
    metadata.google.internal to the link-local address it has on Google Cloud; .invalid
    names do not resolve; anything else (localhost, IP literals) as the system does.
    Every lookup is recorded in `lookups`."""

    def __init__(self, system_resolve):
        self.system_resolve = system_resolve
        self.records: dict[str, list[str]] = {}
        self.lookups: list[str] = []

    def __call__(self, host: str, port: int):
        self.lookups.append(host)
        if host in self.records:
            return [ipaddress.ip_address(address) for address in self.records[host]]
        if host == "example.com" or host.endswith((".example", ".example.com")):
            return [ipaddress.ip_address(PUBLIC_TEST_ADDRESS)]
        if host == "metadata.google.internal":
            return [ipaddress.ip_address("169.254.169.254")]
        if host.endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return self.system_resolve(host, port)


@pytest.fixture(autouse=True)
def webhook_dns(monkeypatch):
    """Webhook host names resolve the same on every machine, network or not."""
    from production.services import webhook_transport

    dns = FakeDNS(webhook_transport.resolve)
    monkeypatch.setattr(webhook_transport, "resolve", dns)
    return dns


@pytest.fixture
def measured_lines(monkeypatch) -> list[tuple[int, ...]]:
    """The product line ids of every measurement of past promotions from here on
    (demand.selectors.lift._measure_lines, which the caches exist to spare), in order."""
    from demand.selectors import lift

    calls, measure = [], lift._measure_lines

    def counted(line_ids, **kwargs):
        calls.append(tuple(line_ids))
        return measure(line_ids, **kwargs)

    monkeypatch.setattr(lift, "_measure_lines", counted)
    return calls


@pytest.fixture
def make_user(db):
    def make(*role_names: str, **kwargs):
        return UserFactory(roles=list(role_names), **kwargs)

    return make


@pytest.fixture
def marketing_user(make_user):
    return make_user(roles.MARKETING, username="mara")


@pytest.fixture
def sales_user(make_user):
    return make_user(roles.SALES, username="sam")


@pytest.fixture
def production_user(make_user):
    return make_user(roles.PRODUCTION, username="petra")


@pytest.fixture
def quality_user(make_user):
    return make_user(roles.QUALITY, username="quinn")


@pytest.fixture
def admin_user(make_user):
    return make_user(roles.ADMIN, username="ada", is_staff=True)


def broker_configured() -> bool:
    return not settings.CELERY_TASK_ALWAYS_EAGER


@pytest.fixture(autouse=True)
def _celery_mode(request):
    """Eager tasks for ordinary tests, so they are deterministic. Tests marked `worker`
    run through a real Celery worker thread when a broker is configured (as in CI)."""
    wants_worker = request.node.get_closest_marker("worker") is not None
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = not (wants_worker and broker_configured())
    if wants_worker and IN_CI and not broker_configured():
        pytest.fail("CI=true but CELERY_BROKER_URL is not set: worker tests need Redis.")
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def celery_worker():
    """A real worker (solo pool, in a thread) consuming from the configured broker.
    Yields None in eager mode, where tasks run inline instead."""
    if not broker_configured():
        yield None
        return
    from celery.contrib.testing.worker import start_worker

    celery_app.control.purge()  # stale messages from an earlier run must not leak in
    with start_worker(
        celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30
    ) as worker:
        yield worker


SITE_URL = "https://tandem.example.com"


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on 127.0.0.1, and Tandem sending to it (links to SITE_URL)."""
    from tests.mailserver import MailServer

    server = MailServer()
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    settings.DEFAULT_FROM_EMAIL = "Tandem <tandem@tandem.example.com>"
    settings.SITE_URL = SITE_URL
    yield server
    server.stop()
