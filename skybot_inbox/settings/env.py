"""The one place that reads the process environment.

Every setting that can change between deployments is read here, with its embedded-mode default, so
that `.env.example`, the README's configuration table and this module describe the same variables.
Production mode (`DJANGO_ENV=production`) refuses weak or missing secrets at start-up.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# A developer's local overrides; never committed (see .gitignore). CI and production use real env.
_dotenv = BASE_DIR / ".env"
if _dotenv.is_file():
    environ.Env.read_env(str(_dotenv))

DJANGO_ENV: str = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in {"development", "production"}:
    raise ImproperlyConfigured("DJANGO_ENV must be 'development' or 'production'.")
IS_PRODUCTION = DJANGO_ENV == "production"

# Embedded-mode secrets: fixed and public, so a fresh clone works. Production refuses them.
_DEV_SECRET_KEY = "dev-insecure-secret-key-change-me-0123456789abcdef"
_DEV_JWT_SIGNING_KEY = "dev-insecure-jwt-signing-key-change-me-0123456789"
_DEV_ENCRYPTION_KEY = "dev:" + base64.urlsafe_b64encode(b"dev-insecure-encryption-key-32b!").decode()

_DURATION_RE = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_DURATION_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(value: str, *, name: str) -> timedelta:
    """Parse '15m', '7d', '3600s' or '12h' into a timedelta."""
    match = _DURATION_RE.match(value)
    if not match:
        raise ImproperlyConfigured(f"{name} must look like 15m, 12h or 7d (got {value!r}).")
    amount, unit = match.groups()
    return timedelta(**{_DURATION_UNITS[unit]: int(amount)})


def parse_encryption_keys(value: str, *, name: str = "ENCRYPTION_KEY") -> dict[str, bytes]:
    """Parse `kid:base64key[,kid:base64key...]`; the first key encrypts, all of them decrypt.

    A bare base64 key is accepted and gets the key id `k1`.
    """
    keys: dict[str, bytes] = {}
    for index, item in enumerate(part.strip() for part in value.split(",") if part.strip()):
        kid, sep, encoded = item.partition(":")
        if not sep:
            kid, encoded = f"k{index + 1}", item
        try:
            raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except (binascii.Error, ValueError) as exc:
            raise ImproperlyConfigured(f"{name}: key {kid!r} is not valid base64.") from exc
        if len(raw) != 32:
            raise ImproperlyConfigured(f"{name}: key {kid!r} must decode to 32 bytes (AES-256).")
        keys[kid] = raw
    if not keys:
        raise ImproperlyConfigured(f"{name} is empty.")
    return keys


def default_site_url(host: str, port: int) -> str:
    """`http://host:port` for a server started on `host` and `port`; a wildcard address (0.0.0.0,
    ::) listens on every interface, and a browser on the same machine reaches it at 127.0.0.1."""
    host = host.strip().strip("[]")
    if host in {"", "0.0.0.0", "::"}:  # noqa: S104 - the wildcard addresses, recognised, not bound
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _site_url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ImproperlyConfigured(
            f"SITE_URL must be an http(s) address such as https://inbox.example.com (got {value!r})."
        )
    if parts.path.strip("/") or parts.query or parts.fragment:
        raise ImproperlyConfigured(f"SITE_URL is the site's origin, without a path (got {value!r}).")
    return f"{parts.scheme}://{parts.netloc}"


def _port(name: str, *, default: int) -> int:
    value: str = env.str(name, default="").strip()
    if not value:
        return default
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise ImproperlyConfigured(f"{name} must be a port number between 1 and 65535 (got {value!r}).")
    return int(value)


def _secret(name: str, dev_default: str, *, min_length: int = 0) -> str:
    """The secret `name`; in production it must be set, not the public default, long and varied."""
    value: str = env.str(name, default="")
    if not IS_PRODUCTION:
        return value or dev_default
    if not value:
        raise ImproperlyConfigured(f"{name} must be set when DJANGO_ENV=production.")
    if value == dev_default or value.startswith(("dev-insecure-", "django-insecure-")):
        raise ImproperlyConfigured(f"{name} is a public development value; set a real secret.")
    if len(value) < min_length:
        raise ImproperlyConfigured(f"{name} must be at least {min_length} characters long.")
    if min_length and len(set(value)) < 5:
        raise ImproperlyConfigured(f"{name} is too weak: use a long random value.")
    return value


def _optional_secret(name: str, *, min_length: int) -> str:
    """The secret `name`, empty turning its feature off; in production, when set, long and varied."""
    value: str = env.str(name, default="")
    if IS_PRODUCTION and value:
        if value.startswith(("dev-insecure-", "django-insecure-")):
            raise ImproperlyConfigured(f"{name} is a public development value; set a real secret.")
        if len(value) < min_length:
            raise ImproperlyConfigured(f"{name} must be at least {min_length} characters long.")
        if len(set(value)) < 5:
            raise ImproperlyConfigured(f"{name} is too weak: use a long random value.")
    return value


SECRET_KEY = _secret("SECRET_KEY", _DEV_SECRET_KEY, min_length=50)
JWT_SIGNING_KEY = _secret("JWT_SIGNING_KEY", _DEV_JWT_SIGNING_KEY, min_length=32)
ENCRYPTION_KEYS = parse_encryption_keys(_secret("ENCRYPTION_KEY", _DEV_ENCRYPTION_KEY))
if IS_PRODUCTION:
    _dev_key_bytes = next(iter(parse_encryption_keys(_DEV_ENCRYPTION_KEY).values()))
    for _kid, _key in ENCRYPTION_KEYS.items():
        if _key == _dev_key_bytes or len(set(_key)) < 8:
            raise ImproperlyConfigured(
                f"ENCRYPTION_KEY: key {_kid!r} is a public or weak value; generate a random one."
            )

DEBUG: bool = env.bool("DEBUG", default=not IS_PRODUCTION)
ALLOWED_HOSTS: list[str] = env.list(
    "ALLOWED_HOSTS", default=[] if IS_PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"]
)
if IS_PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DJANGO_ENV=production.")
CORS_ALLOWED_ORIGINS: list[str] = env.list("CORS_ALLOWED_ORIGINS", default=[])
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])

DATABASE_URL: str = env.str("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
DATABASE_POOL: bool = env.bool("DATABASE_POOL", default=True)
DATABASE_POOL_MAX_SIZE: int = env.int("DATABASE_POOL_MAX_SIZE", default=10)
# Only without the pool: seconds a connection is kept between requests.
CONN_MAX_AGE: int = env.int("CONN_MAX_AGE", default=60)
REDIS_URL: str = env.str("REDIS_URL", default="")

JWT_ACCESS_EXPIRY = parse_duration(env.str("JWT_ACCESS_EXPIRY", default="15m"), name="JWT_ACCESS_EXPIRY")
JWT_REFRESH_EXPIRY = parse_duration(env.str("JWT_REFRESH_EXPIRY", default="7d"), name="JWT_REFRESH_EXPIRY")

GOOGLE_CLIENT_ID: str = env.str("GOOGLE_CLIENT_ID", default="")
GOOGLE_CLIENT_SECRET: str = env.str("GOOGLE_CLIENT_SECRET", default="")

BILLING_PORTAL_URL: str = env.str("BILLING_PORTAL_URL", default="")
BILLING_SSO_SECRET: str = _optional_secret("BILLING_SSO_SECRET", min_length=32)
# The `iss` and `aud` claims of billing SSO tokens; the issuer defaults to SITE_URL.
BILLING_SSO_ISSUER: str = env.str("BILLING_SSO_ISSUER", default="")
BILLING_SSO_AUDIENCE: str = env.str("BILLING_SSO_AUDIENCE", default="skybot-billing")

LOG_LEVEL: str = env.str("LOG_LEVEL", default="INFO").upper()
LOG_FORMAT: str = env.str("LOG_FORMAT", default="json" if IS_PRODUCTION else "console")
SLOW_QUERY_MS: int = env.int("SLOW_QUERY_MS", default=100)

SENTRY_DSN: str = env.str("SENTRY_DSN", default="")
SENTRY_TRACES_SAMPLE_RATE: float = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)
SENTRY_PROFILES_SAMPLE_RATE: float = env.float("SENTRY_PROFILES_SAMPLE_RATE", default=0.0)

EMAIL_URL: str = env.str("EMAIL_URL", default="consolemail://")
DEFAULT_FROM_EMAIL: str = env.str("DEFAULT_FROM_EMAIL", default="SkyBot Inbox <no-reply@localhost>")
# The address the server was started on: `make run` passes its HOST and PORT to the settings and to
# `runserver`, so that SITE_URL's default is the address the server really listens on.
SERVER_HOST: str = env.str("HOST", default="127.0.0.1")
SERVER_PORT: int = _port("PORT", default=8000)
# The one public address of the site: emailed links, the API reference's server, the Developers
# pages, the CSP's WebSocket origin. Unset: the address the server was started on (HOST and PORT).
SITE_URL: str = _site_url(env.str("SITE_URL", default="") or default_site_url(SERVER_HOST, SERVER_PORT))

# Legacy single platform key: off when unset. Acts as platform staff; prefer per-tenant API keys.
# When set in production it must be as long and varied as the other secrets.
LEGACY_API_KEY: str = _secret("API_KEY", "", min_length=32) if env.str("API_KEY", default="") else ""

METRICS_TOKEN: str = env.str("METRICS_TOKEN", default="")
# Production trusts no address by default: behind a reverse proxy every request comes from the proxy.
METRICS_ALLOWED_IPS: list[str] = env.list("METRICS_ALLOWED_IPS", default=[] if IS_PRODUCTION else ["127.0.0.1", "::1"])
# Reverse proxies in front of the app that append to X-Forwarded-For; 0 means use REMOTE_ADDR only.
NUM_PROXIES: int = env.int("NUM_PROXIES", default=0)

_RATE_RE = re.compile(r"^\d+/(s|sec|m|min|h|hour|d|day)$")


def _rate(name: str, default: str) -> str:
    value: str = env.str(name, default=default).strip()
    if not _RATE_RE.match(value):
        raise ImproperlyConfigured(f"{name} must look like 10/s, 120/m, 1000/h or 5000/d (got {value!r}).")
    return value


def _times(rate: str, factor: int) -> str:
    count, _, unit = rate.partition("/")
    return f"{int(count) * factor}/{unit}"


# Per caller (API key, person, legacy key or anonymous address), then per tenant (all its keys and
# people together; ten times the caller's rate unless set). Plans may override them (accounts.PlanRateLimit).
THROTTLE_RATES: dict[str, str] = {
    "burst": _rate("THROTTLE_BURST", "10/s"),
    "sustained": _rate("THROTTLE_SUSTAINED", "120/m"),
    "hourly": _rate("THROTTLE_HOURLY", "1000/h"),
}
THROTTLE_RATES |= {
    "tenant_burst": _rate("THROTTLE_TENANT_BURST", _times(THROTTLE_RATES["burst"], 10)),
    "tenant_sustained": _rate("THROTTLE_TENANT_SUSTAINED", _times(THROTTLE_RATES["sustained"], 10)),
    "tenant_hourly": _rate("THROTTLE_TENANT_HOURLY", _times(THROTTLE_RATES["hourly"], 10)),
}
_FAILURE_RATE_RE = re.compile(r"^\d+/\d*[smhd]$")


def _failure_rate(name: str, default: str) -> str:
    value: str = env.str(name, default=default).strip()
    if not _FAILURE_RATE_RE.match(value):
        raise ImproperlyConfigured(f"{name} must look like 10/15m, 20/m or 100/h (got {value!r}).")
    return value


# Failed sign-ins: per (email, address) pair, per email from every address, per address for every email.
LOGIN_FAILURE_LIMIT: str = _failure_rate("LOGIN_FAILURE_LIMIT", "10/15m")
LOGIN_FAILURE_EMAIL_LIMIT: str = _failure_rate("LOGIN_FAILURE_EMAIL_LIMIT", "50/15m")
LOGIN_FAILURE_ADDRESS_LIMIT: str = _failure_rate("LOGIN_FAILURE_ADDRESS_LIMIT", "20/15m")
# API requests with a refused API key, access token or legacy key, per client address.
API_AUTH_FAILURE_LIMIT: str = _failure_rate("API_AUTH_FAILURE_LIMIT", "20/m")
MAX_REQUEST_BODY_BYTES: int = env.int("MAX_REQUEST_BODY_BYTES", default=2 * 1024 * 1024)

SECURE_SSL_REDIRECT: bool = env.bool("SECURE_SSL_REDIRECT", default=IS_PRODUCTION)
SECURE_HSTS_SECONDS: int = env.int("SECURE_HSTS_SECONDS", default=31536000 if IS_PRODUCTION else 0)
SECURE_HSTS_PRELOAD: bool = env.bool("SECURE_HSTS_PRELOAD", default=IS_PRODUCTION)
USE_X_FORWARDED_PROTO: bool = env.bool("USE_X_FORWARDED_PROTO", default=IS_PRODUCTION)

# Celery runs tasks in-process when no broker is configured (the embedded default).
CELERY_BROKER_URL: str = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_TASK_ALWAYS_EAGER: bool = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
# With Redis, API-key usage is counted there and written to the database this often (Celery beat).
API_KEY_USAGE_FLUSH_SECONDS: int = env.int("API_KEY_USAGE_FLUSH_SECONDS", default=60)
if API_KEY_USAGE_FLUSH_SECONDS < 1:
    raise ImproperlyConfigured("API_KEY_USAGE_FLUSH_SECONDS must be a whole number of seconds, at least 1.")

# --- WhatsApp Cloud API and the n8n router (inbox) ---------------------------------------------
# Defaults for channels that do not carry their own app secret / verify token.
WHATSAPP_APP_SECRET: str = env.str("WHATSAPP_APP_SECRET", default="")
WHATSAPP_VERIFY_TOKEN: str = env.str("WHATSAPP_VERIFY_TOKEN", default="")
GRAPH_API_BASE_URL: str = env.str("GRAPH_API_BASE_URL", default="https://graph.facebook.com/v21.0").rstrip("/")
GRAPH_API_TIMEOUT: float = env.float("GRAPH_API_TIMEOUT", default=10.0)
N8N_MASTER_ROUTER_URL: str = env.str("N8N_MASTER_ROUTER_URL", default="")
N8N_MASTER_ROUTER_NAME: str = env.str("N8N_MASTER_ROUTER_NAME", default="master-router")
N8N_MASTER_ROUTER_SECRET: str = env.str("N8N_MASTER_ROUTER_SECRET", default="")

# --- SkyBot runner (AI agents) -------------------------------------------------------------------
SKYBOT_API_URL: str = env.str("SKYBOT_API_URL", default="").rstrip("/")
SKYBOT_API_KEY: str = env.str("SKYBOT_API_KEY", default="")
SKYBOT_WEBHOOK_SECRET: str = env.str("SKYBOT_WEBHOOK_SECRET", default="")
SKYBOT_CONNECT_TIMEOUT: float = env.float("SKYBOT_CONNECT_TIMEOUT", default=5.0)
SKYBOT_READ_TIMEOUT: float = env.float("SKYBOT_READ_TIMEOUT", default=30.0)
AGENT_CREATE_RATE: str = env.str("AGENT_CREATE_RATE", default="5/m")

# --- plugins (docs/plugins/) ------------------------------------------------------------------------
# Third-party plugins run only in a complete sandbox (Landlock + seccomp + rlimits); this lets them
# run where a layer is missing (macOS, an old kernel). Never in production with untrusted authors.
PLUGINS_ALLOW_UNSANDBOXED: bool = env.bool("PLUGINS_ALLOW_UNSANDBOXED", default=False)
PLUGINS_TIMEOUT_SECONDS: float = env.float("PLUGINS_TIMEOUT_SECONDS", default=5.0)
PLUGINS_MEMORY_MB: int = env.int("PLUGINS_MEMORY_MB", default=256)
# The unprivileged uid a plugin runs as when the platform runs as root (nobody by default).
PLUGINS_SANDBOX_UID: int = env.int("PLUGINS_SANDBOX_UID", default=65534)
# The fork server's unix socket (one per host); empty: a name in the temporary directory.
PLUGINS_SANDBOX_SOCKET: str = env.str("PLUGINS_SANDBOX_SOCKET", default="")
# Sandbox layers to switch off (comma list of landlock, rlimits, seccomp): for a host where one
# misbehaves, or to see the platform as on an older kernel. The sandbox is then incomplete.
PLUGINS_SANDBOX_SKIP_LAYERS: list[str] = env.list("PLUGINS_SANDBOX_SKIP_LAYERS", default=[])
if unknown_layers := set(PLUGINS_SANDBOX_SKIP_LAYERS) - {"landlock", "rlimits", "seccomp"}:  # confine.SKIPPABLE_LAYERS
    raise ImproperlyConfigured(
        f"PLUGINS_SANDBOX_SKIP_LAYERS names unknown layers: {', '.join(sorted(unknown_layers))} "
        "(known: landlock, rlimits, seccomp)."
    )
PLUGINS_MAX_PACKAGE_BYTES: int = env.int("PLUGINS_MAX_PACKAGE_BYTES", default=1_000_000)
PLUGINS_STORAGE_BYTES: int = env.int("PLUGINS_STORAGE_BYTES", default=64_000)
# An installation whose runs fail this many times in a row is switched off (its admins are told).
PLUGINS_FAILURE_LIMIT: int = env.int("PLUGINS_FAILURE_LIMIT", default=5)

# --- outbound HTTP to URLs tenants choose (webhooks, Zapier hooks, a tenant's n8n router) -------
# Loopback (127.0.0.1, ::1, localhost) is reachable only for local development and tests.
OUTBOUND_ALLOW_LOOPBACK: bool = env.bool("OUTBOUND_ALLOW_LOOPBACK", default=not IS_PRODUCTION)
# Private networks (CIDRs) an operator wants tenants' URLs to reach, e.g. an on-premises n8n.
OUTBOUND_ALLOWED_NETWORKS: list[str] = env.list("OUTBOUND_ALLOWED_NETWORKS", default=[])
for _network in OUTBOUND_ALLOWED_NETWORKS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError as _exc:
        raise ImproperlyConfigured(f"OUTBOUND_ALLOWED_NETWORKS: {_network!r} is not a network (CIDR).") from _exc
# Webhook and Zapier hook URLs must be https (default: in production).
OUTBOUND_REQUIRE_HTTPS: bool = env.bool("OUTBOUND_REQUIRE_HTTPS", default=IS_PRODUCTION)
