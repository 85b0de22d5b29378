"""Settings shared by every mode.

With no environment set this is the embedded default (SQLite, in-memory channel layer, local-memory
cache, eager Celery). `DATABASE_URL` and `REDIS_URL` switch to PostgreSQL and Redis. Component
modules (celery, channels, logging, security, sentry, auth) are imported at the bottom.
"""

from __future__ import annotations

from typing import Any

from skybot_inbox.settings import env as config
from skybot_inbox.settings.env import BASE_DIR, env

DJANGO_ENV = config.DJANGO_ENV
IS_PRODUCTION = config.IS_PRODUCTION
SECRET_KEY = config.SECRET_KEY
DEBUG = config.DEBUG
ALLOWED_HOSTS = config.ALLOWED_HOSTS
SITE_URL = config.SITE_URL

INSTALLED_APPS = [
    "daphne",
    "accounts.apps.StaffAdminConfig",  # django.contrib.admin, signing in through our failure limits
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "corsheaders",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_prometheus",
    "django_htmx",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.google",
    "core",
    "accounts",
    "inbox",
    "agents",
    "handoff",  # who holds a conversation: above agents and inbox, subscribes to what they announce
    "billing",
    "plugins",
    "integrations",
    "skybot_inbox",  # the project's own shell: the Settings area, navigation, the demo seed
]

# Request latency histograms (django-prometheus, by view): finer below 0.3 s, where the pages' and
# the API's targets lie (docs/operations.md, "Sizing").
PROMETHEUS_LATENCY_BUCKETS = (
    *(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5),
    *(1.0, 2.5, 5.0, 10.0, 30.0, float("inf")),
)

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "core.observability.QueryCountMiddleware",
    "core.middleware.RequestIdMiddleware",
    "core.middleware.RequestBodyLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.ApiKeyUsageMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "skybot_inbox.urls"
WSGI_APPLICATION = "skybot_inbox.wsgi.application"
ASGI_APPLICATION = "skybot_inbox.asgi.application"
SITE_ID = 1

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
                "skybot_inbox.web.shell.ui",
            ],
            # `datetime` and `day`: the one date format of every page, in the viewer's time zone.
            "builtins": ["core.templatetags.dates"],
        },
    },
]

# Database: SQLite by default; PostgreSQL through psycopg 3 with Django's connection pool, which is
# safe under both WSGI workers and the ASGI server (persistent connections leak under ASGI).
_db: dict[str, Any] = env.db_url_config(config.DATABASE_URL)
if _db["ENGINE"] == "django.db.backends.postgresql":
    _db["ENGINE"] = "django_prometheus.db.backends.postgresql"
    if config.DATABASE_POOL:
        _db["CONN_MAX_AGE"] = 0
        _db.setdefault("OPTIONS", {})["pool"] = {
            "min_size": 1,
            "max_size": config.DATABASE_POOL_MAX_SIZE,
            "timeout": 10,
        }
    else:
        _db["CONN_MAX_AGE"] = config.CONN_MAX_AGE
        _db["CONN_HEALTH_CHECKS"] = True
elif _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["ENGINE"] = "django_prometheus.db.backends.sqlite3"
    # WAL lets the web server read while a task writes; busy timeout instead of "database is locked".
    _db.setdefault("OPTIONS", {}).update(
        {"init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE", "timeout": 20}
    )
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if config.REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "core.cache.RedisCache",
            "LOCATION": config.REDIS_URL,
            "KEY_PREFIX": "skybot",
            "OPTIONS": {"socket_connect_timeout": 1.0, "socket_timeout": 1.0},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django_prometheus.cache.backends.locmem.LocMemCache",
            "LOCATION": "skybot-inbox",
        }
    }

# Flash messages live in the session (loaded lazily), not in a signed cookie built per request.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if IS_PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = BASE_DIR / "media"
MEDIA_URL = "media/"

DATA_UPLOAD_MAX_MEMORY_SIZE = config.MAX_REQUEST_BODY_BYTES
MAX_REQUEST_BODY_BYTES = config.MAX_REQUEST_BODY_BYTES

_email = env.email_url_config(config.EMAIL_URL)
EMAIL_BACKEND = _email.pop("EMAIL_BACKEND")
for _key, _value in _email.items():
    globals()[_key] = _value
DEFAULT_FROM_EMAIL = config.DEFAULT_FROM_EMAIL

REST_FRAMEWORK: dict[str, Any] = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiKeyAuthentication",
        "accounts.authentication.JwtAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.parsers.JSONParser"],
    "DEFAULT_THROTTLE_CLASSES": ["accounts.throttling.PlanRateThrottle"],
    "DEFAULT_THROTTLE_RATES": dict(config.THROTTLE_RATES),
    "NUM_PROXIES": config.NUM_PROXIES,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "core.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.exceptions.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "SkyBot Inbox API",
    "DESCRIPTION": (
        "Multi-tenant WhatsApp inbox with AI agents. Authenticate people with JWT "
        "(`POST /api/v1/auth/token`) and integrations with an API key (`X-API-Key`)."
    ),
    "VERSION": "1.0.0",
    # Importers (Make, n8n, Postman) read the base URL from here; paths start with /api/v1.
    "SERVERS": [{"url": SITE_URL, "description": "This installation (SITE_URL)."}],
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "ConversationStatusEnum": "inbox.models.ConversationStatus",
        "MessageStatusEnum": "inbox.models.MessageStatus",
        "LeadStatusEnum": "inbox.models.LeadStatus",
        "ExecutionStatusEnum": "agents.models.ExecutionStatus",
        "WebhookEventTypeEnum": "integrations.events.EVENT_CHOICES",
        "WebhookSourceEnum": "integrations.models.EndpointSource",
        "WebhookDisabledReasonEnum": "integrations.models.DisabledReason",
        "WebhookDeliveryStatusEnum": "integrations.models.DeliveryStatus",
        "ZapierHookEventEnum": "integrations.services.zapier.HOOK_EVENT_CHOICES",
    },
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "core.openapi.postprocess_schema"],
}

from skybot_inbox.settings.agents import *  # noqa: E402,F403
from skybot_inbox.settings.auth import *  # noqa: E402,F403
from skybot_inbox.settings.celery import *  # noqa: E402,F403
from skybot_inbox.settings.channels import *  # noqa: E402,F403
from skybot_inbox.settings.inbox import *  # noqa: E402,F403
from skybot_inbox.settings.integrations import *  # noqa: E402,F403
from skybot_inbox.settings.logging import *  # noqa: E402,F403
from skybot_inbox.settings.plugins import *  # noqa: E402,F403
from skybot_inbox.settings.security import *  # noqa: E402,F403
from skybot_inbox.settings.sentry import *  # noqa: E402,F403
