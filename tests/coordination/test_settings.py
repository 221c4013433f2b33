import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from coordination import config

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str, **env_overrides: str) -> subprocess.CompletedProcess:
    unset = {"DATABASE_URL", "DEBUG", "SECRET_KEY", "COMPANY_NAME"}
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(env_overrides)
    env["DJANGO_SETTINGS_MODULE"] = "coordination.settings"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_embedded_default_is_sqlite_in_the_project_folder_with_debug_on():
    result = run_python(
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.DATABASES['default']['NAME'], s.DEBUG)"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        str(ROOT / "db.sqlite3"),
        "True",
    ]


def test_database_url_selects_postgresql_and_turns_debug_off_by_default():
    result = run_python(
        "import django; django.setup(); from django.conf import settings as s; "
        "d = s.DATABASES['default']; print(d['ENGINE'], d['NAME'], d['HOST'], d['PORT'], s.DEBUG)",
        DATABASE_URL="postgres://tandem@db.internal:5433/tandem_prod",
        SECRET_KEY="x" * 50,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "tandem_prod",
        "db.internal",
        "5433",
        "False",
    ]


@pytest.mark.parametrize(("pooled", "expected"), [("", "False 60 True"), ("1", "True 60 True")])
def test_connections_persist_with_health_checks_and_pgbouncer_gets_no_named_cursors(
    pooled, expected
):
    result = run_python(
        "import django; django.setup(); from django.conf import settings as s; "
        "d = s.DATABASES['default']; "
        "print(d.get('DISABLE_SERVER_SIDE_CURSORS', False), d['CONN_MAX_AGE'], "
        "d['CONN_HEALTH_CHECKS'])",
        DATABASE_URL="postgres://tandem@pgbouncer:6432/tandem",
        SECRET_KEY="x" * 50,
        **({"DATABASE_POOLED": pooled} if pooled else {}),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_production_mode_refuses_to_start_without_a_real_secret_key():
    result = run_python(
        "import django; django.setup()",
        DATABASE_URL="postgres://tandem@db.internal/tandem",
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_mode_refuses_the_insecure_development_key():
    result = run_python(
        "import django; django.setup()", DEBUG="0", SECRET_KEY=config.INSECURE_DEV_SECRET_KEY
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.parametrize(
    ("key", "debug", "expected"),
    [
        ("", True, config.INSECURE_DEV_SECRET_KEY),
        ("k" * 40, True, "k" * 40),
        ("k" * 40, False, "k" * 40),
    ],
)
def test_secret_key_rules(key, debug, expected):
    assert config.secret_key({"SECRET_KEY": key}, debug=debug) == expected


@pytest.mark.parametrize("key", ["", "short", "django-insecure-" + "a" * 40])
def test_secret_key_rejected_when_debug_off(key):
    with pytest.raises(ImproperlyConfigured):
        config.secret_key({"SECRET_KEY": key}, debug=False)


def test_celery_is_eager_without_a_broker_and_real_with_one():
    assert config.celery_config({}) == {
        "CELERY_BROKER_URL": "memory://",
        "CELERY_RESULT_BACKEND": None,
        "CELERY_TASK_ALWAYS_EAGER": True,
        "CELERY_TASK_EAGER_PROPAGATES": True,
    }
    real = config.celery_config({"CELERY_BROKER_URL": "redis://127.0.0.1:6379/1"})
    # No result store defaults to the broker: nothing reads results.
    assert real == {
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/1",
        "CELERY_RESULT_BACKEND": None,
        "CELERY_TASK_ALWAYS_EAGER": False,
        "CELERY_TASK_EAGER_PROPAGATES": False,
    }
    named = config.celery_config(
        {"CELERY_BROKER_URL": "redis://h/1", "CELERY_RESULT_BACKEND": "redis://h/3"}
    )
    assert named["CELERY_RESULT_BACKEND"] == "redis://h/3"


def test_the_cache_is_per_process_unless_redis_is_named_and_then_never_waits_long():
    assert config.cache_config({}) == {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    assert config.cache_config({"CACHE_URL": "redis://h:6379/2"}) == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://h:6379/2",
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }
    with pytest.raises(ImproperlyConfigured, match="CACHE_URL must be a redis:// URL"):
        config.cache_config({"CACHE_URL": "memcached://h"})


def test_env_bool_rejects_unknown_words():
    assert config.env_bool({"DEBUG": "off"}, "DEBUG", default=True) is False
    assert config.env_bool({}, "DEBUG", default=True) is True
    with pytest.raises(ImproperlyConfigured, match="DEBUG must be one of"):
        config.env_bool({"DEBUG": "maybe"}, "DEBUG", default=True)


@pytest.mark.django_db
def test_the_suite_runs_on_the_database_the_environment_names():
    url = os.environ.get("DATABASE_URL", "")
    if os.environ.get("CI", "").lower() == "true" or url.startswith("postgres"):
        assert connection.vendor == "postgresql"
        with connection.cursor() as cursor:
            cursor.execute("select 1")
            assert cursor.fetchone() == (1,)
    else:
        assert connection.vendor == "sqlite"


LOG_REFUSALS = """
import logging
import django
django.setup()
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.core.handlers.exception import response_for_exception
from django.test import Client, RequestFactory

for path, exc in (
    ("/recalls/RC-2026-0001/", PermissionDenied("Only Quality and Production may do that.")),
    ("/boom/", ZeroDivisionError("boom")),
):
    request = RequestFactory().get(path)
    request.user = AnonymousUser()
    print(response_for_exception(request, exc).status_code, flush=True)
print(Client().get("/no-such-page/").status_code, flush=True)
logging.getLogger("coordination").info("A line from the app.")
"""


def test_a_refusal_is_one_log_line_without_a_traceback():
    # DEBUG on, as runserver runs: Django's own "django" handler printed every line twice.
    result = run_python(LOG_REFUSALS, DEBUG="1", ALLOWED_HOSTS="testserver")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["403", "500", "404"]
    lines = result.stderr.splitlines()
    messages = [line.split(" ", 2)[2] for line in lines if line[:4].isdigit()]
    assert messages == [
        "WARNING django.request Forbidden (Permission denied): /recalls/RC-2026-0001/",
        "ERROR django.request Internal Server Error: /boom/",
        "WARNING django.request Not Found: /no-such-page/",
        "INFO coordination A line from the app.",
    ]
    for message in ("Forbidden (Permission denied)", "Not Found", "A line from the app."):
        assert result.stderr.count(message) == 1, message
    # Only the server error carries its exception, once; the refusals are one line each.
    assert "PermissionDenied" not in result.stderr
    assert result.stderr.count("ZeroDivisionError: boom") == 1


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "Brookfield Beverages"),
        ("  ", "Brookfield Beverages"),
        (" Acme Drinks Ltd ", "Acme Drinks Ltd"),
    ],
)
def test_the_company_name_comes_from_the_environment(value, expected):
    env = {} if value is None else {"COMPANY_NAME": value}
    result = run_python(
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.COMPANY_NAME)",
        **env,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


EMAIL_SETTINGS = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_HOST_USER, "
    "s.EMAIL_USE_TLS, s.DEFAULT_FROM_EMAIL, s.SITE_URL or s.DEFAULT_SITE_URL, sep='|')"
)
EMAIL_ENV = (
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_HOST_USER",
    "EMAIL_HOST_PASSWORD",
    "EMAIL_USE_TLS",
    "EMAIL_USE_SSL",
    "DEFAULT_FROM_EMAIL",
    "SITE_URL",
)


def run_email_settings(**env: str) -> subprocess.CompletedProcess:
    cleared = dict.fromkeys(EMAIL_ENV, "")
    return run_python(EMAIL_SETTINGS, **{**cleared, **env})


def test_email_goes_to_the_console_unless_an_smtp_server_is_named():
    result = run_email_settings()
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().split("|") == [
        "django.core.mail.backends.console.EmailBackend",
        "",
        "25",
        "",
        "False",
        "Tandem <tandem@localhost>",
        "http://127.0.0.1:8000",
    ]


def test_smtp_settings_come_from_the_environment():
    result = run_email_settings(
        EMAIL_HOST="smtp.example.com",
        EMAIL_PORT="587",
        EMAIL_HOST_USER="tandem",
        EMAIL_HOST_PASSWORD="secret",
        EMAIL_USE_TLS="1",
        DEFAULT_FROM_EMAIL="Tandem <tandem@example.com>",
        SITE_URL="https://tandem.example.com/",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().split("|") == [
        "django.core.mail.backends.smtp.EmailBackend",
        "smtp.example.com",
        "587",
        "tandem",
        "True",
        "Tandem <tandem@example.com>",
        "https://tandem.example.com",
    ]


@pytest.mark.parametrize(
    ("env", "site_url"),
    [
        ({"ALLOWED_HOSTS": ".example.com,tandem.example.com"}, "https://tandem.example.com"),
        ({"ALLOWED_HOSTS": "tandem.internal", "SECURE_COOKIES": "0"}, "http://tandem.internal"),
        ({"ALLOWED_HOSTS": "*"}, "http://127.0.0.1:8000"),
        (
            {"ALLOWED_HOSTS": "a.example.com", "SITE_URL": "https://b.example.com"},
            "https://b.example.com",
        ),
    ],
)
def test_email_links_default_to_the_first_host_tandem_answers_to(env, site_url):
    result = run_email_settings(DATABASE_URL="postgres://t@db/t", SECRET_KEY="x" * 50, **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().split("|")[-1] == site_url


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"EMAIL_USE_TLS": "1", "EMAIL_USE_SSL": "1"}, "Set EMAIL_USE_TLS"),
        ({"EMAIL_PORT": "70000"}, "EMAIL_PORT must be a whole number from 1 to 65535"),
        ({"SITE_URL": "tandem.example.com"}, "SITE_URL must be an http(s) address"),
        ({"EMAIL_DIGEST_HOUR": "24"}, "EMAIL_DIGEST_HOUR must be a whole number from 0 to 23"),
    ],
)
def test_bad_email_settings_stop_the_start_with_a_clear_message(env, message):
    result = run_email_settings(**env)
    assert result.returncode != 0
    assert message in result.stderr


BLAS_THREADS = (
    "import os, coordination, numpy; "
    "print(*(os.environ[k] for k in ('OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', "
    "'MKL_NUM_THREADS')), sep='|')"
)


def test_every_process_computes_on_one_blas_thread_unless_told_otherwise():
    unset = {"OPENBLAS_NUM_THREADS": "", "OMP_NUM_THREADS": "", "MKL_NUM_THREADS": ""}
    environ = {k: v for k, v in os.environ.items() if k not in unset}
    quiet = subprocess.run(
        [sys.executable, "-c", BLAS_THREADS],
        cwd=ROOT, env=environ, capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert (quiet.returncode, quiet.stdout.strip()) == (0, "1|1|1"), quiet.stderr
    told = subprocess.run(
        [sys.executable, "-c", BLAS_THREADS],
        cwd=ROOT, env={**environ, "OPENBLAS_NUM_THREADS": "2"}, capture_output=True,
        text=True, check=False, timeout=60,
    )  # fmt: skip
    assert told.stdout.strip() == "2|1|1", told.stderr
