"""The real stack for fault tests: a private redis-server the test may stop, Celery
workers and beat, gunicorn — separate processes on pytest-django's test database (the
tests use `transactional_db`, so each side sees what the other committed).

Never the shared Redis: each test starts its own redis-server on a free port and stops
it. Without PostgreSQL or redis-server the tests skip, except in CI (CI=true), where a
missing service is a failure, as for the worker tests (tests/conftest.py)."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[2]
READY_SECONDS = 30


def _require(missing: list[str]) -> None:
    if missing:
        message = "this fault test needs " + " and ".join(missing)
        if IN_CI:
            pytest.fail(f"CI=true but {message}", pytrace=False)
        pytest.skip(message)


def require_redis_server() -> None:
    _require([] if shutil.which("redis-server") else ["redis-server on the PATH"])


def require_real_services() -> None:
    """PostgreSQL (processes share the test database) and redis-server."""
    missing = [] if connection.vendor == "postgresql" else ["PostgreSQL (DATABASE_URL)"]
    if shutil.which("redis-server") is None:
        missing.append("redis-server on the PATH")
    _require(missing)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url_for_tests() -> str:
    """The test database (test_<name>), as a URL for the processes the test starts."""
    s = connection.settings_dict
    user = urllib.parse.quote(s["USER"] or "")
    password = f":{urllib.parse.quote(s['PASSWORD'])}" if s["PASSWORD"] else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def wait_until(check, *, timeout: float, interval: float = 0.05, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


class RedisServer:
    """A private redis-server (no persistence: a restart loses whatever it held)."""

    def __init__(self, folder: Path):
        self.port = free_port()
        self.folder = folder
        self.process: subprocess.Popen | None = None

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", str(self.folder)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self.answers, timeout=10, what=f"redis-server on port {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # in case it was paused
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def pause(self) -> None:
        """Hung, not gone: the port still accepts connections, nothing answers."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)


class Service:
    """A process of the app (worker, beat, web) in its own session, so a kill reaches
    the main process and its children at once; output goes to a log file."""

    def __init__(self, name: str, argv: list[str], env: dict, folder: Path, ready: str):
        self.name, self.argv, self.env, self.ready = name, argv, env, ready
        self.log = folder / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> Service:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_ready(self, timeout: float = READY_SECONDS) -> float:
        """Waits for the ready line in the log; returns when it was seen."""

        def ready():
            if self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited: {self.tail()}")
            return self.ready in self.output()

        wait_until(ready, timeout=timeout, interval=0.1, what=f"{self.name}: {self.tail()}")
        return time.monotonic()

    def tail(self, chars: int = 3000) -> str:
        return self.output()[-chars:]

    def kill(self) -> None:
        """SIGKILL to the whole process group: main process and children, as an OOM
        kill or `docker kill` does."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def terminate(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def stop_all(processes: list) -> None:
    """Asks every service to stop at once (warm shutdown takes a moment each), then
    waits for each; Redis last, so workers do not spend their shutdown reconnecting."""
    services = [p for p in processes if isinstance(p, Service)]
    for service in services:
        service.terminate()
    for service in services:
        service.stop()
    for process in processes:
        if not isinstance(process, Service):
            process.stop()


def app_env(*, broker_url: str, cache_url: str | None = None, debug: bool = False) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "CACHE_URL"))}
    env.update(
        DATABASE_URL=database_url_for_tests(),
        CELERY_BROKER_URL=broker_url,
        PYTHONUNBUFFERED="1",
        DJANGO_SETTINGS_MODULE="coordination.settings",
        SECRET_KEY=env.get("SECRET_KEY") or "fault-tests-" + "k" * 40,
        LOG_LEVEL="INFO",
    )
    if cache_url:
        env["CACHE_URL"] = cache_url
    if debug:
        # Static files from the finders, as in tests/conftest.py: no collectstatic here.
        env["DEBUG"] = "1"
    return env


def celery_worker(env: dict, folder: Path, name: str) -> Service:
    """The docker-compose worker: prefork, one child here."""
    argv = [sys.executable, "-m", "celery", "-A", "coordination", "worker", "--pool", "prefork"]
    argv += ["--concurrency", "1", "--hostname", f"{name}@%h", "--loglevel", "INFO"]
    argv += ["--without-mingle", "--without-gossip"]
    return Service(name, argv, env, folder, ready=" ready.")


def celery_beat(env: dict, folder: Path) -> Service:
    """The real beat with the real schedule (settings.CELERY_BEAT_SCHEDULE)."""
    argv = [sys.executable, "-m", "celery", "-A", "coordination", "beat", "--loglevel", "INFO"]
    argv += ["--schedule", str(folder / "celerybeat-schedule")]
    return Service("beat", argv, env, folder, ready="beat: Starting")


def gunicorn(env: dict, folder: Path, port: int) -> Service:
    """One sync worker (docker-compose runs three): each request is timed on a process
    the test has already warmed up."""
    argv = [sys.executable, "-m", "gunicorn", "coordination.wsgi:application"]
    argv += ["--bind", f"127.0.0.1:{port}", "--workers", "1", "--access-logfile", "-"]
    return Service("web", argv, env, folder, ready="Booting worker")


class Http:
    """A browser-like HTTP client (cookies, CSRF token) that does not follow redirects,
    so the time of a POST is the time of the save alone."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    def __init__(self, base: str):
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), self._NoRedirect
        )

    def request(self, method: str, path: str, *, data=None, headers=None, timeout=30):
        """(status, headers, body text, seconds)."""
        body = None
        headers = dict(headers or {})
        if isinstance(data, dict) and headers.get("Content-Type") == "application/json":
            body = json.dumps(data).encode()
        elif data is not None:
            body = urllib.parse.urlencode(data, doseq=True).encode()
        request = urllib.request.Request(  # noqa: S310 (http://127.0.0.1 only)
            self.base + path, data=body, headers=headers, method=method
        )
        started = time.perf_counter()
        try:
            with self.opener.open(request, timeout=timeout) as response:
                status, answer_headers, text = response.status, response.headers, response.read()
        except urllib.error.HTTPError as exc:
            status, answer_headers, text = exc.code, exc.headers, exc.read()
        return status, answer_headers, text.decode(errors="replace"), time.perf_counter() - started

    def csrf_token(self, path: str) -> str:
        status, _, html, _ = self.request("GET", path)
        assert status == 200, (path, status, html[:500])
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)

    def log_in(self, username: str, password: str) -> None:
        token = self.csrf_token("/accounts/login/")
        status, _, html, _ = self.request(
            "POST",
            "/accounts/login/",
            data={"csrfmiddlewaretoken": token, "username": username, "password": password},
        )
        assert status == 302, (status, html[:1000])

    def answers(self) -> bool:
        try:
            return self.request("GET", "/accounts/login/", timeout=2)[0] == 200
        except OSError:
            return False
