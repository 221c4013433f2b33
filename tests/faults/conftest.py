"""Fixtures of the fault tests: real processes on the test database, stopped (and their
logs shown on failure) before pytest-django empties the database."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from coordination import roles
from tests.factories import PASSWORD, UserFactory
from tests.faults import stack


@pytest.fixture
def real_services(transactional_db):
    stack.require_real_services()


@pytest.fixture
def redis_server(tmp_path):
    """A private redis-server for a test that needs no other process."""
    stack.require_redis_server()
    server = stack.RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def processes(real_services, tmp_path, request):
    """Starts services; at the end stops them (a failed test prints their logs)."""
    started: list = []

    class Processes:
        folder = tmp_path

        def redis(self) -> stack.RedisServer:
            server = stack.RedisServer(tmp_path)
            started.append(server)
            server.start()
            return server

        def start(self, service: stack.Service) -> stack.Service:
            started.append(service)
            return service.start()

    yield Processes()
    stack.stop_all(started)
    report = getattr(request.node, "_faults_report_call", None)
    if report is not None and report.failed:
        for process in started:
            if isinstance(process, stack.Service):
                print(f"\n----- {process.name} log (end) -----\n{process.tail(6000)}")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item._faults_report_call = report
    return report


@pytest.fixture
def person(real_services):
    """Makes a user whose password the app's own processes can check: the test process
    hashes with MD5 for speed (tests/conftest.py), which they do not accept."""

    def make(role: str, username: str):
        user = UserFactory(roles=[role], username=username)
        # Few iterations: a sign-in costs milliseconds, not a second.
        user.password = PBKDF2PasswordHasher().encode(PASSWORD, "faultsalt", iterations=1000)
        user.save(update_fields=["password"])
        return user

    return make


@pytest.fixture
def marketer(person):
    return person(roles.MARKETING, "mara")
