"""Reading Tandem's configuration from environment variables.

Pure functions over a mapping, so the rules (SQLite unless DATABASE_URL says otherwise,
eager tasks unless a broker is configured, no production start without a real secret)
can be tested without reloading the settings module.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

# Only ever used when DEBUG is on: the local, embedded run.
INSECURE_DEV_SECRET_KEY = "django-insecure-tandem-local-development-only"  # noqa: S105
MIN_SECRET_KEY_LENGTH = 32
CACHE_SOCKET_TIMEOUT = 0.2

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def env_bool(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(
        f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}."
    )


def env_list(environ: Mapping[str, str], name: str, default: list[str]) -> list[str]:
    raw = environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_int(
    environ: Mapping[str, str],
    name: str,
    default: int,
    minimum: int = 1,
    maximum: int | None = None,
) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum or (maximum is not None and value > maximum):
        within = f"from {minimum} to {maximum}" if maximum is not None else f"of at least {minimum}"
        raise ImproperlyConfigured(f"{name} must be a whole number {within}; got {raw!r}.")
    return value


def env_networks(environ: Mapping[str, str], name: str) -> list[str]:
    """Comma-separated IP networks in CIDR form ("10.20.0.0/16, fd00::/8"); a bare address
    is one host. A typo stops the start rather than silently allowing nothing (or more)."""
    networks = env_list(environ, name, default=[])
    for network in networks:
        try:
            ipaddress.ip_network(network)
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"{name} must list IP networks such as 10.20.0.0/16; {network!r}: {exc}"
            ) from None
    return networks


def proxy_ssl_header(environ: Mapping[str, str], default: str) -> tuple[str, str] | None:
    """SECURE_PROXY_SSL_HEADER names the header (X-Forwarded-Proto) that the TLS proxy in
    front of Tandem sets to "https"; empty: no proxy, trust no such header."""
    raw = environ.get("SECURE_PROXY_SSL_HEADER")
    name = (default if raw is None else raw).strip()
    if not name:
        return None
    if not re.fullmatch(r"[A-Za-z0-9-]+", name):
        raise ImproperlyConfigured(
            f"SECURE_PROXY_SSL_HEADER must be a header name such as X-Forwarded-Proto; got {raw!r}."
        )
    return ("HTTP_" + name.upper().replace("-", "_"), "https")


def database_config(environ: Mapping[str, str], base_dir: Path) -> dict:
    """SQLite in the project folder unless DATABASE_URL names another database."""
    url = environ.get("DATABASE_URL", "").strip()
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": base_dir / "db.sqlite3",
            # Eager tasks and the dev server share one file: wait for locks instead of failing.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    try:
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"DATABASE_URL is not a database URL Tandem understands: {exc}"
        ) from exc
    # Behind PgBouncer in transaction mode a server connection serves another client
    # after each transaction: a named cursor (QuerySet.iterator()) would not survive it.
    # Tandem keeps no other session state (its locks are transaction-scoped), and the
    # database's time zone must be UTC (README, "Connection pooling").
    if env_bool(environ, "DATABASE_POOLED", default=False):
        config["DISABLE_SERVER_SIDE_CURSORS"] = True
    return config


def debug_default(environ: Mapping[str, str]) -> bool:
    """DEBUG is on by default only for the embedded local run (no DATABASE_URL)."""
    return not environ.get("DATABASE_URL", "").strip()


def secret_key(environ: Mapping[str, str], debug: bool) -> str:
    key = environ.get("SECRET_KEY", "").strip()
    if debug:
        return key or INSECURE_DEV_SECRET_KEY
    if not key or key.startswith("django-insecure") or len(key) < MIN_SECRET_KEY_LENGTH:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set to a random value of at least "
            f"{MIN_SECRET_KEY_LENGTH} characters when DEBUG is off. Generate one with: "
            'python -c "import secrets; print(secrets.token_urlsafe(50))"'
        )
    return key


def celery_config(environ: Mapping[str, str]) -> dict:
    """Real workers when CELERY_BROKER_URL is set; otherwise tasks run in-process."""
    broker = environ.get("CELERY_BROKER_URL", "").strip()
    if not broker:
        return {
            "CELERY_BROKER_URL": "memory://",
            "CELERY_RESULT_BACKEND": None,
            "CELERY_TASK_ALWAYS_EAGER": True,
            "CELERY_TASK_EAGER_PROPAGATES": True,
        }
    return {
        "CELERY_BROKER_URL": broker,
        # No result store unless one is named: nothing reads task results, and a Redis
        # result backend blocks the caller for ~20 s of reconnects when Redis is down.
        "CELERY_RESULT_BACKEND": environ.get("CELERY_RESULT_BACKEND", "").strip() or None,
        "CELERY_TASK_ALWAYS_EAGER": False,
        "CELERY_TASK_EAGER_PROPAGATES": False,
    }


def cache_config(environ: Mapping[str, str]) -> dict:
    """Per-process memory unless CACHE_URL names Redis (shared by every web process, so
    API rate limits hold across them)."""
    url = environ.get("CACHE_URL", "").strip()
    if not url:
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    if not url.startswith(("redis://", "rediss://")):
        raise ImproperlyConfigured(f"CACHE_URL must be a redis:// URL; got {url!r}.")
    return {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": url,
        # Redis answers in well under a millisecond; a hung one must not hold a request
        # for redis-py's default 5 s (the throttle then counts in memory instead).
        "OPTIONS": {
            "socket_connect_timeout": CACHE_SOCKET_TIMEOUT,
            "socket_timeout": CACHE_SOCKET_TIMEOUT,
        },
    }


def sso_config(environ: Mapping[str, str], roles: tuple[str, ...]) -> dict:
    """Single sign-on (OpenID Connect, coordination/sso.py) from OIDC_* variables; off
    without OIDC_ISSUER. The mozilla-django-oidc names (OIDC_RP_*, OIDC_OP_*) are the
    library's own settings; endpoints left unset come from the issuer's discovery
    document when first needed, so an unreachable provider never stops a start."""
    local_passwords = env_bool(environ, "LOCAL_PASSWORDS", default=True)
    issuer = environ.get("OIDC_ISSUER", "").strip()
    if not issuer:
        if not local_passwords:
            raise ImproperlyConfigured("LOCAL_PASSWORDS=off needs single sign-on: set OIDC_ISSUER.")
        return {"OIDC_ENABLED": False, "LOCAL_PASSWORDS": True}
    missing = [name for name in ("OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET") if not environ.get(name)]
    if missing:
        raise ImproperlyConfigured(f"OIDC_ISSUER is set: set {' and '.join(missing)} too.")
    role_map: dict[str, list[str]] = {}
    for pair in env_list(environ, "OIDC_ROLE_MAP", default=[]):
        group, _, role = (part.strip() for part in pair.rpartition("="))
        if not group or role not in roles:
            raise ImproperlyConfigured(
                f"OIDC_ROLE_MAP lists identity-provider-group=Role pairs, the role one of "
                f"{', '.join(roles)}; got {pair!r}."
            )
        role_map.setdefault(group, []).append(role)
    if not role_map:
        raise ImproperlyConfigured(
            "OIDC_ROLE_MAP must map at least one identity-provider group to a role, "
            "e.g. tandem-sales=Sales: without it nobody signing in gets a role."
        )
    endpoints = {
        "OIDC_OP_AUTHORIZATION_ENDPOINT": "OIDC_AUTHORIZATION_ENDPOINT",
        "OIDC_OP_TOKEN_ENDPOINT": "OIDC_TOKEN_ENDPOINT",
        "OIDC_OP_USER_ENDPOINT": "OIDC_USERINFO_ENDPOINT",
        "OIDC_OP_JWKS_ENDPOINT": "OIDC_JWKS_URI",
    }
    return {
        "OIDC_ENABLED": True,
        "LOCAL_PASSWORDS": local_passwords,
        "OIDC_ISSUER": issuer,
        "OIDC_PROVIDER_NAME": environ.get("OIDC_PROVIDER_NAME", "").strip()
        or issuer.split("//", 1)[-1].split("/", 1)[0],
        "OIDC_RP_CLIENT_ID": environ["OIDC_CLIENT_ID"],
        "OIDC_RP_CLIENT_SECRET": environ["OIDC_CLIENT_SECRET"],
        "OIDC_RP_SIGN_ALGO": environ.get("OIDC_SIGN_ALGORITHM", "").strip() or "RS256",
        "OIDC_RP_SCOPES": environ.get("OIDC_SCOPES", "").strip() or "openid email profile",
        "OIDC_USE_PKCE": True,
        "OIDC_TIMEOUT": env_int(environ, "OIDC_TIMEOUT_SECONDS", default=10),
        "OIDC_USERNAME_CLAIM": environ.get("OIDC_USERNAME_CLAIM", "").strip() or "sub",
        "OIDC_GROUPS_CLAIM": environ.get("OIDC_GROUPS_CLAIM", "").strip() or "groups",
        "OIDC_ROLE_MAP": role_map,
        **{
            setting: environ[name].strip()
            for setting, name in endpoints.items()
            if environ.get(name, "").strip()
        },
    }


def site_url(environ: Mapping[str, str]) -> str:
    """SITE_URL: the address people reach Tandem at (https://tandem.example.com), for links
    that leave the browser (calendar feeds, e-mails). Empty: links use the address the
    request came to."""
    raw = environ.get("SITE_URL", "").strip()
    if not raw:
        return ""
    url = raw.rstrip("/")
    if not re.fullmatch(r"https?://[A-Za-z0-9.\-\[\]:]+(/[^\s?#]*)?", url):
        raise ImproperlyConfigured(
            f"SITE_URL must be an http(s) address such as https://tandem.example.com; got {raw!r}."
        )
    return url
