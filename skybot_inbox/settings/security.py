"""HTTP security: HTTPS and cookies in production, CSP without inline scripts, CORS, metrics access."""

from __future__ import annotations

from urllib.parse import urlsplit

from csp.constants import NONE, SELF

from skybot_inbox.settings import env as config

SECURE_SSL_REDIRECT = config.SECURE_SSL_REDIRECT
SECURE_REDIRECT_EXEMPT = [r"^api/health$", r"^api/ready$", r"^metrics$"]
SECURE_HSTS_SECONDS = config.SECURE_HSTS_SECONDS
SECURE_HSTS_INCLUDE_SUBDOMAINS = config.IS_PRODUCTION
SECURE_HSTS_PRELOAD = config.SECURE_HSTS_PRELOAD
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if config.USE_X_FORWARDED_PROTO else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = config.IS_PRODUCTION
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SECURE = config.IS_PRODUCTION
CSRF_TRUSTED_ORIGINS = config.CSRF_TRUSTED_ORIGINS

CORS_ALLOWED_ORIGINS = config.CORS_ALLOWED_ORIGINS
CORS_ALLOW_HEADERS = ("accept", "authorization", "content-type", "x-api-key", "x-request-id")
CORS_EXPOSE_HEADERS = ("x-request-id", "retry-after")


def websocket_origin(site_url: str) -> str:
    """The origin the pages' live feeds connect to: `wss://host[:port]` for an https SITE_URL, else `ws://`."""
    parts = urlsplit(site_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return f"{scheme}://{parts.netloc.rpartition('@')[2]}"


# No inline scripts or styles anywhere: every page, Swagger UI included, loads its code from files.
# Scripts may connect only to this site: 'self' and its own WebSocket origin, never any ws:/wss: host.
CONTENT_SECURITY_POLICY = {
    # JSON endpoints render nothing a browser would run; building the header there is pure cost.
    "EXCLUDE_URL_PREFIXES": ["/api/v1/", "/webhooks/", "/metrics"],
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF, websocket_origin(config.SITE_URL)],
        "form-action": [SELF, "https://accounts.google.com"],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    },
}

METRICS_TOKEN = config.METRICS_TOKEN
METRICS_ALLOWED_IPS = config.METRICS_ALLOWED_IPS
