"""Production settings: `check --deploy` is clean with the environment the README gives,
https is enforced (redirect, HSTS, secure cookies) unless plain http is asked for, and
the proxy's https header is the only one believed."""

from __future__ import annotations

import datetime as dt
import os
import re
import runpy
import secrets
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from coordination import config

ROOT = Path(__file__).resolve().parents[1]
SETTING_NAMES = re.compile(
    r"^(DATABASE_URL|CELERY_|CACHE_URL|DEBUG|SECRET_KEY|ALLOWED_HOSTS|CSRF_|SECURE_|"
    r"WEBHOOK_|SIGNIN_|TRUSTED_PROXIES|CLIENT_IP_HEADER|"
    # Set by tests/e2e for Playwright's event loop; never in a deployment.
    r"DJANGO_ALLOW_ASYNC_UNSAFE)"
)


def readme_production_environment() -> dict[str, str]:
    """The variables the README's "Production setup" exports, with a real secret key."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Production setup", 1)[1].split("\n## ", 1)[0]
    env = {}
    for line in section.splitlines():
        if line.startswith("export "):
            env.update(word.split("=", 1) for word in shlex.split(line)[1:])
    assert env["SECRET_KEY"] == "..."
    env["SECRET_KEY"] = secrets.token_urlsafe(50)
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not SETTING_NAMES.match(k)}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "coordination.settings", **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_check_deploy_is_clean_with_the_readmes_production_environment():
    env = readme_production_environment()
    assert {"DATABASE_URL", "ALLOWED_HOSTS", "SECURE_HSTS_INCLUDE_SUBDOMAINS"} <= set(env)
    assert "DEBUG" not in env  # DATABASE_URL turns it off
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."


def test_without_the_hsts_options_check_deploy_names_exactly_them():
    env = readme_production_environment()
    del env["SECURE_HSTS_INCLUDE_SUBDOMAINS"], env["SECURE_HSTS_PRELOAD"]
    result = run(["manage.py", "check", "--deploy"], env)
    assert re.findall(r"\(security\.(W\d+)\)", result.stderr + result.stdout) == ["W005", "W021"]


def settings_under(monkeypatch, env: dict[str, str]) -> dict:
    """coordination/settings.py evaluated afresh with only `env` set."""
    for name in list(os.environ):
        if SETTING_NAMES.match(name):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "coordination" / "settings.py"))


HTTPS_SETTINGS = (
    "DEBUG",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_PROXY_SSL_HEADER",
)
KEY = "k" * 50
FORWARDED_PROTO = ("HTTP_X_FORWARDED_PROTO", "https")


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        # The local run: plain http, nothing enforced.
        ({}, (True, False, 0, False, False, False, False, None)),
        # Production defaults: https everywhere, behind a proxy saying X-Forwarded-Proto.
        (
            {"DEBUG": "0", "SECRET_KEY": KEY},
            (False, True, 31536000, False, False, True, True, FORWARDED_PROTO),
        ),
        # Plain http on purpose (docker compose on localhost).
        (
            {"DEBUG": "0", "SECRET_KEY": KEY, "SECURE_COOKIES": "0"},
            (False, False, 0, False, False, False, False, FORWARDED_PROTO),
        ),
        (
            {
                "DEBUG": "0",
                "SECRET_KEY": KEY,
                "SECURE_HSTS_SECONDS": "3600",
                "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
                "SECURE_HSTS_PRELOAD": "yes",
                "SECURE_SSL_REDIRECT": "0",
                "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Scheme",
            },
            (False, False, 3600, True, True, True, True, ("HTTP_X_FORWARDED_SCHEME", "https")),
        ),
        (
            {"DEBUG": "0", "SECRET_KEY": KEY, "SECURE_PROXY_SSL_HEADER": ""},
            (False, True, 31536000, False, False, True, True, None),
        ),
    ],
)
def test_the_https_settings_follow_the_environment(monkeypatch, env, expected):
    values = settings_under(monkeypatch, env)
    assert tuple(values[name] for name in HTTPS_SETTINGS) == expected


def test_the_signin_and_webhook_settings_follow_the_environment(monkeypatch):
    values = settings_under(monkeypatch, {})
    assert (values["AXES_FAILURE_LIMIT"], values["AXES_COOLOFF_TIME"]) == (
        10,
        dt.timedelta(minutes=15),
    )
    assert (values["WEBHOOK_ALLOWED_NETWORKS"], values["TRUSTED_PROXIES"]) == ([], [])
    assert values["CLIENT_IP_HEADER"] == "X-Forwarded-For"
    values = settings_under(
        monkeypatch,
        {
            "SIGNIN_FAILURE_LIMIT": "5",
            "SIGNIN_LOCKOUT_MINUTES": "60",
            "WEBHOOK_ALLOWED_NETWORKS": "10.20.0.0/16",
            "TRUSTED_PROXIES": "10.0.0.2",
            "CLIENT_IP_HEADER": "X-Real-IP",
        },
    )
    assert (values["AXES_FAILURE_LIMIT"], values["AXES_COOLOFF_TIME"]) == (
        5,
        dt.timedelta(minutes=60),
    )
    assert (values["WEBHOOK_ALLOWED_NETWORKS"], values["TRUSTED_PROXIES"]) == (
        ["10.20.0.0/16"],
        ["10.0.0.2"],
    )
    assert values["CLIENT_IP_HEADER"] == "X-Real-IP"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SECURE_HSTS_SECONDS", "a year", "SECURE_HSTS_SECONDS must be a whole number"),
        ("SECURE_HSTS_SECONDS", "-1", "SECURE_HSTS_SECONDS must be a whole number"),
        ("SECURE_SSL_REDIRECT", "sometimes", "SECURE_SSL_REDIRECT must be one of"),
        ("SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto: https", "SECURE_PROXY_SSL_HEADER must"),
        ("WEBHOOK_ALLOWED_NETWORKS", "intranet", "WEBHOOK_ALLOWED_NETWORKS must list"),
        ("TRUSTED_PROXIES", "10.0.0.0/33", "TRUSTED_PROXIES must list"),
        ("SIGNIN_LOCKOUT_MINUTES", "0", "SIGNIN_LOCKOUT_MINUTES must be a whole number"),
        (
            "PLANNING_HORIZON_WEEKS",
            "12",
            "PLANNING_HORIZON_WEEKS must be a whole number from 13 to 104; got '12'.",
        ),
        (
            "PLANNING_HORIZON_WEEKS",
            "105",
            "PLANNING_HORIZON_WEEKS must be a whole number from 13 to 104; got '105'.",
        ),
        ("PLANNING_HORIZON_WEEKS", "half a year", "PLANNING_HORIZON_WEEKS must be a whole"),
        (
            "QUOTE_MARGIN_FLOOR_PERCENT",
            "-5",
            "QUOTE_MARGIN_FLOOR_PERCENT must be a whole number of at least 0; got '-5'.",
        ),
    ],
)
def test_a_bad_value_stops_the_start(monkeypatch, name, value, message):
    with pytest.raises(ImproperlyConfigured, match=re.escape(message)):
        settings_under(monkeypatch, {name: value})


@pytest.mark.parametrize(
    ("env", "expected"),
    [({}, (26, 10)), ({"PLANNING_HORIZON_WEEKS": "13", "QUOTE_MARGIN_FLOOR_PERCENT": "0"}, (13, 0)),
     ({"PLANNING_HORIZON_WEEKS": "104", "QUOTE_MARGIN_FLOOR_PERCENT": "25"}, (104, 25))],
)  # fmt: skip
def test_the_horizon_and_the_quote_floor_follow_the_environment(monkeypatch, env, expected):
    values = settings_under(monkeypatch, env)
    assert (values["PLANNING_HORIZON_WEEKS"], values["QUOTE_MARGIN_FLOOR_PERCENT"]) == expected


def test_proxy_ssl_header_parsing():
    assert config.proxy_ssl_header({}, default="X-Forwarded-Proto") == (
        "HTTP_X_FORWARDED_PROTO",
        "https",
    )
    assert config.proxy_ssl_header({}, default="") is None
    assert config.proxy_ssl_header({"SECURE_PROXY_SSL_HEADER": " "}, default="X-A") is None
    with pytest.raises(ImproperlyConfigured):
        config.proxy_ssl_header({"SECURE_PROXY_SSL_HEADER": "X_Bad Header"}, default="")


# --- in action -------------------------------------------------------------------------


@pytest.fixture
def https_enforced(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")


@pytest.mark.django_db
def test_plain_http_is_redirected_and_https_gets_hsts(client, https_enforced):
    response = client.get("/accounts/login/?next=/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/accounts/login/?next=/"
    assert "Strict-Transport-Security" not in response
    secure = client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "script-src 'self'" in secure["Content-Security-Policy"]


# ------------------------------------------------------------------ docker-compose


def _compose() -> dict:
    import yaml

    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def test_every_celery_queue_has_a_worker_and_every_worker_a_declared_queue():
    from coordination.celery import app as celery_app

    declared = {queue.name for queue in celery_app.conf.task_queues}
    consumed = {}
    for name, service in _compose().items():
        command = service.get("command", [])
        if command[:4] == ["celery", "-A", "coordination", "worker"]:
            queues = command[command.index("-Q") + 1].split(",")
            consumed[name] = queues
    assert consumed == {"worker": ["planning"], "webhooks": ["webhooks"]}
    assert {q for queues in consumed.values() for q in queues} == declared


def test_the_app_reaches_postgresql_through_pgbouncer_in_transaction_mode_migrations_directly():
    services = _compose()
    assert services["pgbouncer"]["environment"]["POOL_MODE"] == "transaction"
    for name in ("web", "worker", "webhooks", "beat"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://tandem:tandem@pgbouncer:"), name
        assert env["DATABASE_POOLED"] == "1", name
    migrate = services["migrate"]["environment"]
    assert migrate["DATABASE_URL"].startswith("postgres://tandem:tandem@postgres:")
    assert "DATABASE_POOLED" not in migrate
