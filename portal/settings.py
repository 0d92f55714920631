"""Settings for the SLA Portal, driven by environment variables.

Defaults are safe for production (DEBUG off, secure cookies, HSTS); `make run`
sets DEBUG=1 for local development. See README.md for every variable.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")

# Without DEBUG there is no default key: Django refuses anything that signs
# (sessions, CSRF, password resets) with "The SECRET_KEY setting must not be
# empty", and `check --deploy` fails, while key-free commands (migrations) still run.
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY and DEBUG:
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "simple_history",
    "guardian",
    "csp",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # The ground, then the domain apps from the bottom up, then the pages across them.
    "core",
    "api",
    "audit",
    "notifications",
    "search",
    "approvals",
    "sla_registry",
    "reviews",
    "releases",
    "incidents",
    "operations",
    "insights",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a lockout noticed during the login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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
                "approvals.context_processors.pending_approvals",
                "insights.navigation.main_menu",
            ],
        },
    },
]

# Database: SQLite under var/ by default, anything dj-database-url understands
# through DATABASE_URL (postgres://user@host:5432/name in production and CI).
DEFAULT_SQLITE_PATH = BASE_DIR / "var" / "portal.sqlite3"
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{DEFAULT_SQLITE_PATH}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if "DATABASE_URL" not in os.environ:
    DEFAULT_SQLITE_PATH.parent.mkdir(exist_ok=True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the writer; IMMEDIATE takes the write lock at
    # BEGIN so two writers queue on the busy timeout instead of failing mid-way.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # First, so a locked-out username is refused before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "sla-portal@localhost")

# Security: secure by default, relaxed only for local development over http.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY") else None
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp 4): only this site's own files run or style a
# page. Nothing inline anywhere: no <script> bodies, <style> blocks, style=""
# attributes or on* handlers; htmx's indicator styles are turned off on the search page.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}

# Login throttling (django-axes), counted per username and per address separately:
# LOGIN_FAILURE_LIMIT wrong passwords for one username (from anywhere) or from one
# address (across usernames, so one password tried on many accounts is caught too)
# lock that username or address for 15 minutes. Someone who locks out a colleague
# does not keep them out: a password-reset link signs its owner in and lifts the
# lock (`manage.py axes_reset_username NAME` also does). The address is the client's
# through TRUSTED_PROXIES only (core.addresses), never a header anyone can set.
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "core.addresses.client_address"
# Reverse proxies whose X-Forwarded-For is believed: addresses or networks, comma separated.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False  # no start-up banner on every management command

SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

# Change governance: the team model decisions are made for, and the object
# permission (django-guardian) that lets a user decide for a team.
APPROVALS_TEAM_MODEL = "sla_registry.Team"
APPROVALS_APPROVE_PERMISSION = "sla_registry.approve_for_team"
# Absolute links in notifications.
# After a webhook's signing secret is rotated, the old one signs beside the new one this long.
WEBHOOK_SECRET_OVERLAP = timedelta(hours=int(os.environ.get("WEBHOOK_SECRET_OVERLAP_HOURS", "24")))
PORTAL_BASE_URL = os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8000")

# Calendar feeds are fetched from outside; internal addresses only in development (or when set).
RELEASES_FEEDS_MAY_BE_INTERNAL = env_bool("RELEASES_FEEDS_MAY_BE_INTERNAL", DEBUG)
# Bounds on expanding recurring calendar events (a 250-byte RRULE must not take a worker down): steps of one
# event's rule before the import window ends, occurrences of one event and of one file within the window.
CALENDAR_MAX_RECURRENCE_STEPS = int(os.environ.get("CALENDAR_MAX_RECURRENCE_STEPS", "200000"))
CALENDAR_MAX_OCCURRENCES_PER_EVENT = int(os.environ.get("CALENDAR_MAX_OCCURRENCES_PER_EVENT", "2000"))
CALENDAR_MAX_OCCURRENCES_PER_FILE = int(os.environ.get("CALENDAR_MAX_OCCURRENCES_PER_FILE", "50000"))
# Release calendars under attack and failure (releases app): one calendar's import or feed sync (fetch, parse,
# expansion, store) stops after CALENDAR_SYNC_TIME_LIMIT seconds and writes nothing; an upload larger than
# CALENDAR_BACKGROUND_IMPORT_BYTES is imported by the worker, with its progress on the calendar's page; a
# personal feed link (the token calendar programs read feeds with) expires FEED_TOKEN_LIFETIME_DAYS after it is made.
CALENDAR_SYNC_TIME_LIMIT = float(os.environ.get("CALENDAR_SYNC_TIME_LIMIT", "60"))
CALENDAR_BACKGROUND_IMPORT_BYTES = int(os.environ.get("CALENDAR_BACKGROUND_IMPORT_BYTES", str(2 * 1024 * 1024)))
FEED_TOKEN_LIFETIME_DAYS = int(os.environ.get("FEED_TOKEN_LIFETIME_DAYS", "90"))
# The on-call card links a team's chat channel through this address, {channel} standing for the channel's name
# without its "#" (e.g. "https://slack.com/app_redirect?channel={channel}"); empty: the channel is shown as text.
CHAT_URL_TEMPLATE = os.environ.get("CHAT_URL_TEMPLATE", "")

# Background work (notification delivery, scheduled applies) runs in
# `manage.py worker`, reading tasks from the database: no extra service.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# A running task whose worker has not reported for this long (a fifth of it between reports) was abandoned
# (the worker was killed, its machine restarted): it is returned to the queue and run again (core.workers).
TASK_LEASE = timedelta(seconds=float(os.environ.get("TASK_LEASE_SECONDS", "300")))
GUARDIAN_RAISE_403 = True

# REST API under /api/v1/: personal tokens (django-rest-knox, stored as SHA-512
# digests, expiring) for automation, the session for the browser; signed in for
# everything; paginated, filtered and ordered the same way on every resource.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.PortalTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.PortalPagination",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "api.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
# A request body is read up to DATA_UPLOAD_MAX_MEMORY_SIZE (Django's, 2.5 MB by default) and the API's JSON
# nested at most API_MAX_JSON_DEPTH deep (api.parsers); past either the API answers 413 or 400 as JSON.
API_MAX_JSON_DEPTH = int(os.environ.get("API_MAX_JSON_DEPTH", "64"))
KNOX_TOKEN_MODEL = "api.ApiToken"
# knox's own migrations create its default token table even when the model is swapped
# for ours, leaving a table no model owns (PostgreSQL then refuses to truncate users
# in tests). Its only model is swapped out, so the app needs no migrations here.
MIGRATION_MODULES = {"knox": None}
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=90),
    "AUTO_REFRESH": False,
    "TOKEN_PREFIX": "slap_",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "SLA Portal API",
    "DESCRIPTION": (
        "The registry of SLAs, escalation matrices and post-incident reviews, and the change requests that "
        "govern them. Authenticate with a personal token from your profile page: `Authorization: Token <token>`. "
        "Governed documents are read-only: change them by proposing a change request."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Request bodies are documented, and exemplified, as JSON: the form parsers DRF also accepts
    # cannot carry a proposal's nested document, so automation should not be pointed at them.
    "PARSER_WHITELIST": ["rest_framework.parsers.JSONParser"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "AgreementStatus": "sla_registry.choices.AgreementStatus",
        "Channel": "sla_registry.choices.Channel",
        "TeamKind": "sla_registry.choices.TeamKind",
        "ServiceTier": "sla_registry.choices.ServiceTier",
        "ChangeKind": "approvals.choices.ChangeKind",
        "ChangeState": "approvals.choices.ChangeState",
        "ReviewStatus": "reviews.choices.ReviewStatus",
        "ActionKind": "reviews.choices.ActionKind",
        "ActionStatus": "reviews.choices.ActionStatus",
        "ReleaseKind": "releases.choices.ReleaseKind",
        "LowMediumHigh": "releases.choices.ReleaseRisk",  # a release's risk and an action item's priority
        "ReleaseStatus": "releases.choices.ReleaseStatus",
        "IncidentStatus": "incidents.choices.IncidentStatus",
        "IncidentSource": "incidents.choices.IncidentSource",
        "IncidentEventKind": "incidents.choices.EventKind",
        "ClockKind": "incidents.choices.ClockKind",
    },
}
# Webhooks: receivers on loopback or private addresses only in development (the
# portal must not become a way into its own network); a team's address is told
# when its webhook has failed this many times in a row.
WEBHOOKS_MAY_BE_INTERNAL = env_bool("WEBHOOKS_MAY_BE_INTERNAL", DEBUG)
WEBHOOK_FALLBACK_AFTER_FAILURES = 3

# How long a POST's Idempotency-Key is remembered.
API_IDEMPOTENCY_KEY_TTL = timedelta(hours=24)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
