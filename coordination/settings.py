"""Tandem settings: one module, driven by environment variables.

Embedded default (nothing set): SQLite in the project folder, tasks run in-process,
DEBUG on. Production: DATABASE_URL=postgres://..., CELERY_BROKER_URL=redis://...,
SECRET_KEY, ALLOWED_HOSTS; DEBUG then defaults to off. See README.md.
"""

import datetime as dt
import os
from pathlib import Path

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

from coordination import config
from coordination.roles import ROLES

BASE_DIR = Path(__file__).resolve().parent.parent
ENV = os.environ

DEBUG = config.env_bool(ENV, "DEBUG", default=config.debug_default(ENV))
SECRET_KEY = config.secret_key(ENV, debug=DEBUG)
ALLOWED_HOSTS = config.env_list(
    ENV, "ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = config.env_list(ENV, "CSRF_TRUSTED_ORIGINS", default=[])
# The address people reach Tandem at, for links read outside the browser (calendar feeds,
# e-mails); empty: the address the request came to, or in e-mails DEFAULT_SITE_URL.
SITE_URL = config.site_url(ENV)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "axes",
    "csp",
    "coordination",
    "demand",
    "production",
    "recalls",
    "planning",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Refuses NUL characters anywhere in a request; JSON error pages under /api/.
    "coordination.boundary.BoundaryMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last: turns a locked-out sign-in into its answer (coordination/signin.py).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "coordination.urls"
WSGI_APPLICATION = "coordination.wsgi.application"
ASGI_APPLICATION = "coordination.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "coordination.context_processors.navigation",
            ],
            "builtins": [
                "django_htmx.templatetags.django_htmx",
                "template_partials.templatetags.partials",
                "coordination.templatetags.tandem",
            ],
        },
    },
]

# Project templates may override the form field markup (templates/django/forms/).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

DATABASES = {"default": config.database_config(ENV, BASE_DIR)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "coordination.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Who issues the public recall notices (consumers must know whose product it is). The
# default is the demo data's company; a deployment sets its own.
COMPANY_NAME = ENV.get("COMPANY_NAME", "").strip() or "Brookfield Beverages"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = ENV.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Security headers. With DEBUG off Tandem is served over https, normally by a reverse
# proxy that terminates TLS and says so in SECURE_PROXY_SSL_HEADER; SECURE_COOKIES=0
# means plain http, and then neither redirects to https nor sends HSTS unless told to.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie.
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
_HTTPS = config.env_bool(ENV, "SECURE_COOKIES", default=not DEBUG)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = _HTTPS
SECURE_SSL_REDIRECT = config.env_bool(ENV, "SECURE_SSL_REDIRECT", default=_HTTPS)
SECURE_HSTS_SECONDS = config.env_int(
    ENV, "SECURE_HSTS_SECONDS", default=365 * 24 * 3600 if _HTTPS else 0, minimum=0
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = config.env_bool(
    ENV, "SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False
)
SECURE_HSTS_PRELOAD = config.env_bool(ENV, "SECURE_HSTS_PRELOAD", default=False)
SECURE_PROXY_SSL_HEADER = config.proxy_ssl_header(ENV, default="" if DEBUG else "X-Forwarded-Proto")
# Content-Security-Policy (django-csp): scripts, styles and everything else from Tandem
# itself; no inline script, event handler, style attribute or eval anywhere (page
# behaviour is in static/js/tandem.js). data: images are Swagger UI's icons.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# People sign in with their role permissions; API clients' service users get exactly
# their scopes' permissions from ApiClientBackend (coordination/auth.py).
# Single sign-on (OpenID Connect, coordination/sso.py): off unless OIDC_ISSUER is set.
_SSO_SETTINGS = config.sso_config(ENV, roles=ROLES)
globals().update(_SSO_SETTINGS)
AUTHENTICATION_BACKENDS = [
    # First: refuses any sign-in, right or wrong, while the username or address is
    # locked out (coordination/signin.py); single sign-on included.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    *(["coordination.sso.SingleSignOnBackend"] if _SSO_SETTINGS["OIDC_ENABLED"] else []),
    "coordination.api.auth.ApiClientBackend",
]

# Password guessing (django-axes; coordination/signin.py): SIGNIN_FAILURE_LIMIT failed
# sign-ins for one username, or from one address, lock it out for SIGNIN_LOCKOUT_MINUTES
# after its last attempt; an administrator unlocks in the admin ("Access attempts").
AXES_FAILURE_LIMIT = config.env_int(ENV, "SIGNIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = dt.timedelta(minutes=config.env_int(ENV, "SIGNIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "coordination.signin.lockout_response"
AXES_CLIENT_IP_CALLABLE = "coordination.signin.client_ip"
AXES_DISABLE_ACCESS_LOG = True  # successful sign-ins are not kept, only failures
AXES_VERBOSE = False
# The client address comes from CLIENT_IP_HEADER only on connections from these proxies.
TRUSTED_PROXIES = config.env_networks(ENV, "TRUSTED_PROXIES")
CLIENT_IP_HEADER = ENV.get("CLIENT_IP_HEADER", "X-Forwarded-For").strip() or "X-Forwarded-For"

# E-mail (coordination/services/notifications.py): printed on the console unless
# EMAIL_HOST names an SMTP server. A hung server holds a worker EMAIL_TIMEOUT seconds at
# most; the message stays in the outbox and is tried again.
EMAIL_HOST = ENV.get("EMAIL_HOST", "").strip()
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = config.env_int(ENV, "EMAIL_PORT", default=25, maximum=65535)
EMAIL_HOST_USER = ENV.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = ENV.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = config.env_bool(ENV, "EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = config.env_bool(ENV, "EMAIL_USE_SSL", default=False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("Set EMAIL_USE_TLS (STARTTLS, port 587) or EMAIL_USE_SSL, not both.")
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = ENV.get("DEFAULT_FROM_EMAIL", "").strip() or "Tandem <tandem@localhost>"
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Links in e-mails are absolute: SITE_URL, or unless told the first host name Tandem
# answers to (runserver's address in development); coordination.services.notifications.
_SITE_HOSTS = [h for h in ALLOWED_HOSTS if h not in {"127.0.0.1", "localhost", "[::1]", "*"}]
_SITE_HOSTS = [h for h in _SITE_HOSTS if not h.startswith(".")]
DEFAULT_SITE_URL = (
    f"{'https' if _HTTPS else 'http'}://{_SITE_HOSTS[0]}"
    if _SITE_HOSTS
    else "http://127.0.0.1:8000"
)
# The daily digest goes out at this hour (TIME_ZONE), to people with something waiting.
EMAIL_DIGEST_HOUR = config.env_int(ENV, "EMAIL_DIGEST_HOUR", default=7, minimum=0, maximum=23)

# Quoting a customization (coordination/services/customer_requests.py): a price whose
# margin over unit cost + the customization's extra cost is below this percentage (or a
# price below cost) needs an explicit confirmation with a reason, kept on the timeline.
QUOTE_MARGIN_FLOOR_PERCENT = config.env_int(
    ENV, "QUOTE_MARGIN_FLOOR_PERCENT", default=10, minimum=0
)

# Money (production/economics): every figure is a Decimal in this one currency, and says
# so. Stock built ahead costs this percentage of its unit cost per year to hold, unless its
# production line sets its own rate (Line.holding_cost_rate_pct).
CURRENCY = (ENV.get("CURRENCY", "EUR").strip() or "EUR").upper()
if not (len(CURRENCY) == 3 and CURRENCY.isascii() and CURRENCY.isalpha()):
    raise ImproperlyConfigured(f"CURRENCY must be a three-letter code, e.g. EUR; got {CURRENCY!r}.")
HOLDING_COST_RATE_PERCENT = config.env_int(
    ENV, "HOLDING_COST_RATE_PERCENT", default=20, minimum=0, maximum=100
)

# The throttle counters live in the cache; per process unless CACHE_URL names Redis.
CACHES = {
    "default": config.cache_config(ENV),
    # Per process, never over the network: results that are costly to compute and cheap
    # to recompute (what a product line's promotions taught, demand/selectors/lift.py),
    # so a lost Redis never fails a page.
    "local": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "tandem-local",
        "OPTIONS": {"MAX_ENTRIES": 2000},
    },
}

# REST framework: API-client keys (Bearer) and user tokens for machines, session auth
# for the browser; JSON only (CSV where a view offers it).
REST_FRAMEWORK = {
    # Bearer first: an unauthenticated API call answers 401 with
    # `WWW-Authenticate: Bearer realm="api"`.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "coordination.api.auth.BearerKeyAuthentication",
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["coordination.api.support.ActionPermissions"],
    "DEFAULT_THROTTLE_CLASSES": ["coordination.api.throttling.ClientRateThrottle"],
    "EXCEPTION_HANDLER": "coordination.api.support.exception_handler",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["coordination.boundary.BoundaryJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "coordination.api.schema.TandemAutoSchema",
    "DEFAULT_PAGINATION_CLASS": "coordination.api.support.StandardPagination",
    "PAGE_SIZE": 50,
}
# Requests per API client and per signed-in person (DRF rate syntax: "600/min").
API_THROTTLE_RATES = {
    "client": ENV.get("API_CLIENT_RATE", "600/min"),
    "user": ENV.get("API_USER_RATE", "3000/min"),
}
# Webhooks reach public addresses only; these networks (CIDRs) are let through too, for
# receivers on the company's own network (production/services/webhook_transport.py).
WEBHOOK_ALLOWED_NETWORKS = config.env_networks(ENV, "WEBHOOK_ALLOWED_NETWORKS")
SPECTACULAR_SETTINGS = {
    "TITLE": "Tandem API",
    "DESCRIPTION": (
        "Demand signals in, approved production schedules out.\n\n"
        "**Authentication.** Machines send `Authorization: Bearer <key>` with a key an "
        "administrator created (Django admin, or `manage.py create_api_client NAME "
        "--scopes ...`); a key may only do what its scopes allow. People's tokens "
        "(`Authorization: Token ...`) and browser sessions also work.\n\n"
        '**Errors** are always `{"error": {"code", "message", "fields"}}` with '
        "400, 401, 403, 404, 409, 422 or 429.\n\n"
        "**Schedule sync.** Pull `GET /api/v1/schedules/`, keep `schedule_version`, then "
        "pull `?changed_since=<version>`; see that operation for ETags and CSV.\n\n"
        "**Edits and decisions carry what they were made on**: the `version` read, or for "
        "quota decisions the recommendation's `run` and `accepted_entry` (`seen_run_id`, "
        "`seen_entry_id`) and for a range accept the `seen_schedule_version`. They are "
        "required; a stale one answers 409 saying who changed what.\n\n"
        "**Retries are safe**: send an `Idempotency-Key` header (a UUID) with every create "
        "and the same key when you retry it; the first answer comes back and nothing is "
        "created twice, even when both attempts arrive at once."
    ),
    "VERSION": "1.0.0",
    # Group operations by resource (schedules, quota-recommendations, ...), not "v1".
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Choice sets whose field names ("status", "source", "channel") other apps use too.
    "ENUM_NAME_OVERRIDES": {
        "SourceEnum": "coordination.models.RecomputeRequest.Source",
        "RecallStatusEnum": "recalls.models.RecallIncident.Status",
        "RecallSourceEnum": "recalls.models.RecallIncident.Source",
        "RecallClassificationEnum": "recalls.models.RecallIncident.Classification",
        "PressInquiryStatusEnum": "recalls.models.PressInquiry.Status",
        "StatementStatusEnum": "recalls.models.Statement.Status",
        "NotificationChannelEnum": "recalls.models.CustomerNotification.Channel",
        "CustomerRequestChannelEnum": "coordination.models.CustomerRequest.Channel",
        "CustomerRequestKindEnum": "coordination.models.CustomerRequest.Kind",
        "PromotionChannelEnum": "demand.models.Promotion.Channel",
        "PromotionStatusEnum": "demand.models.Promotion.Status",
        "RecomputeStatusEnum": "coordination.models.RecomputeRequest.Status",
    },
}

# Celery: JSON only, acknowledge after the work is done, and give a task back to the
# queue if its worker process dies, so a killed worker never loses a recompute. The
# timings below are one consistent set (README, "What survives what");
# tests/coordination/test_celery.py checks how they relate.
_CELERY_SETTINGS = config.celery_config(ENV)
globals().update(_CELERY_SETTINGS)
_EAGER = _CELERY_SETTINGS.get("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
# Two queues, so that a burst of webhook deliveries (each may wait seconds on a slow
# receiver) never delays a re-plan: "planning" (recomputes, the nightly re-plan, the
# reconcilers, housekeeping, the daily digest) and "webhooks" (deliveries, e-mails and
# their reconcilers). A worker started without -Q consumes both; at scale, run workers
# per queue (README, "Production setup"). Every task is routed by name:
# tests/coordination/test_celery.py checks that none is left to a default.
CELERY_TASK_QUEUES = (Queue("planning"), Queue("webhooks"))
CELERY_TASK_DEFAULT_QUEUE = "planning"
CELERY_TASK_ROUTES = {
    "production.deliver_webhook": {"queue": "webhooks"},
    "production.reconcile_webhook_deliveries": {"queue": "webhooks"},
    "production.process_recompute_request": {"queue": "planning"},
    "production.reconcile_recompute_requests": {"queue": "planning"},
    "production.nightly_recompute": {"queue": "planning"},
    "production.refresh_share_prior": {"queue": "planning"},
    "coordination.ping": {"queue": "planning"},
    "coordination.expire_idempotency_keys": {"queue": "planning"},
    "coordination.queue_daily_digests": {"queue": "planning"},
    # Sending e-mail waits on an SMTP server, as a delivery waits on its receiver.
    "coordination.send_email_notification": {"queue": "webhooks"},
    "coordination.send_pending_email_notifications": {"queue": "webhooks"},
}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
# Nothing reads a task's result (pages and API clients read the database), so none is
# stored. A result backend on Redis also made every publish wait ~20 s of reconnects
# while Redis was down.
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_EXPIRES = 24 * 3600
# A recompute of a line takes seconds, the nightly re-plan of a big line well under a
# minute (bench/): a task running for minutes is hung. The soft limit raises inside it
# (the re-plan rolls back, its run fails visibly); the hard limit kills the process,
# whose runs stop beating and are found dead by the reconciler within seconds. Runs
# still "running" STALE_RUNNING (hard limit + 5 min) after they started are failed even
# if they beat (production/services/pipeline.py).
CELERY_TASK_SOFT_TIME_LIMIT = 14 * 60
CELERY_TASK_TIME_LIMIT = 15 * 60
# A publish from a web request gives up within a second when the broker is down or hung
# (coordination.celery.publish); the outbox row (RecomputeRequest, WebhookDelivery) then
# waits for the reconciler. Workers and beat wait out a broker outage of any length,
# retrying every few seconds (coordination/celery.py), instead of exiting after 100
# attempts.
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Redis gives an unacknowledged task to another worker after this long. It must
    # exceed the longest a live worker holds one: the hard time limit, and the longest
    # retry countdown (webhook back-off, at most an hour); else a task would run twice
    # at once. Recovery from a dead worker does not wait for it: the reconciler finds
    # the dead runs by their heartbeat and queues their requests again within seconds;
    # the old message, redelivered later, finds its request done.
    "visibility_timeout": 2 * 3600,
}
# Periodic tasks run by `celery beat` (the hook every app adds its schedule entries to).
# The reconcilers run every few seconds: work a broker outage left pending is handed
# over within seconds of the broker's return, and a dead worker's request is queued
# again HEARTBEAT_TIMEOUT (15 s) after its last beat at most RECONCILE_SECONDS later. A
# reconcile message older than its interval is dropped (`expires`), so a worker outage
# does not fill the queue with them.
RECONCILE_SECONDS = 5

# Weeks ahead, from this week, that forecasts, the plan, the production dashboard and the
# planning review cover: one horizon for every app. Weeks beyond it (a long promotion, a
# far order) are kept and planned when they enter it; the answers say so.
PLANNING_HORIZON_WEEKS = config.env_int(
    ENV, "PLANNING_HORIZON_WEEKS", default=26, minimum=13, maximum=104
)
# A promotion longer than this many weeks needs an explicit confirmation when saved.
LONG_PROMOTION_WEEKS = 26
CELERY_BEAT_SCHEDULE: dict = {
    "reconcile-recompute-requests": {
        "task": "production.reconcile_recompute_requests",
        "schedule": float(RECONCILE_SECONDS),
        "options": {"expires": RECONCILE_SECONDS},
    },
    "reconcile-webhook-deliveries": {
        "task": "production.reconcile_webhook_deliveries",
        "schedule": float(RECONCILE_SECONDS),
        "options": {"expires": RECONCILE_SECONDS},
    },
    "expire-idempotency-keys": {
        "task": "coordination.expire_idempotency_keys",
        "schedule": crontab(minute=17),
    },
    # Messages whose send failed (or whose task a broker outage lost) go out again.
    "send-pending-email-notifications": {
        "task": "coordination.send_pending_email_notifications",
        "schedule": 60.0,
        "options": {"expires": 60},
    },
    "daily-digests": {
        "task": "coordination.queue_daily_digests",
        "schedule": crontab(hour=EMAIL_DIGEST_HOUR, minute=0),
    },
    "nightly-recompute": {
        "task": "production.nightly_recompute",
        "schedule": crontab(hour=2, minute=30),
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"client_errors": {"()": "coordination.logs.ClientErrorsWithoutTraceback"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["client_errors"],
        }
    },
    "root": {"handlers": ["console"], "level": ENV.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own default gives "django" a console handler of its own (with DEBUG
        # on) and lets it propagate to the root's: every line came out twice. One
        # handler, the root's. (django.server keeps its own: runserver's access log.)
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.db.backends": {"level": "WARNING"},
        # Failed sign-ins and lockouts are warnings; every successful one would be INFO.
        "axes": {"level": "WARNING"},
        # In-process (eager) mode the memory:// broker has no host: kombu warns every task.
        "kombu.connection": {"level": "ERROR" if _EAGER else "WARNING"},
        "celery.app.trace": {"level": "WARNING" if _EAGER else "INFO"},
    },
}
