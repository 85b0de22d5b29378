"""WSGI fast path for Meta's notifications: `POST /webhooks/whatsapp` without Django's middleware.

Meta sends up to 1,000 notifications a second per number and retries whatever is not acknowledged
quickly. Measured on a 2-core machine, Django's request machinery and our middleware stack cost
more CPU than verifying and storing the notification itself, so the production WSGI application
(`skybot_inbox.wsgi`) hands this one route straight to `accept_notification` — the same function the
Django view calls — and keeps what matters here: the body-size cap, a request id header and log
line, metrics, database connection hygiene and error reporting.
Everything else, the subscription check (GET) included, goes through Django as usual. See
docs/adr/0001-webhook-fast-path.md.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import structlog
from django.conf import settings
from django.db import connection
from prometheus_client import Histogram

from core.exceptions import error_body
from core.middleware import REQUEST_ID_HEADER, valid_request_id
from inbox.services.webhooks import Outcome, accept_notification

logger = structlog.get_logger("skybot.request")

PATH = "/webhooks/whatsapp"
webhook_seconds = Histogram(
    "skybot_whatsapp_webhook_seconds",
    "Time to acknowledge a WhatsApp notification on the fast path, by HTTP status.",
    ["status"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
)
_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    413: "Request Entity Too Large",
    500: "Internal Server Error",
}

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _read_body(environ: dict[str, Any]) -> bytes | None:
    """The request body, or None when it is larger than MAX_REQUEST_BODY_BYTES."""
    limit = settings.MAX_REQUEST_BODY_BYTES
    stream = environ["wsgi.input"]
    try:
        length = int(environ.get("CONTENT_LENGTH") or -1)
    except ValueError:
        length = -1
    if length > limit:
        return None
    body: bytes = stream.read(length) if length >= 0 else stream.read(limit + 1)
    return None if len(body) > limit else body


class WhatsAppWebhookFastPath:
    """Wrap the Django WSGI application; answer `POST /webhooks/whatsapp` directly."""

    def __init__(self, django_app: WSGIApp) -> None:
        self.django_app = django_app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "POST":
            return self.django_app(environ, start_response)
        started = time.perf_counter()
        incoming = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if valid_request_id(incoming) else uuid.uuid4().hex
        outcome = self._outcome(environ, request_id)
        if outcome.status == 200:
            payload, content_type = b"OK", "text/plain"
        else:
            payload = json.dumps(error_body(outcome.code, outcome.message)).encode()
            content_type = "application/json"
        start_response(
            f"{outcome.status} {_REASONS.get(outcome.status, '')}",
            [
                ("Content-Type", content_type),
                ("Content-Length", str(len(payload))),
                (REQUEST_ID_HEADER, request_id),
                ("X-Content-Type-Options", "nosniff"),
            ],
        )
        duration = time.perf_counter() - started
        webhook_seconds.labels(status=str(outcome.status)).observe(duration)
        logger.info(
            "request",
            method="POST",
            path=PATH,
            status=outcome.status,
            duration_ms=round(duration * 1000, 1),
            request_id=request_id,
        )
        return [payload]

    def _outcome(self, environ: dict[str, Any], request_id: str) -> Outcome:
        body = _read_body(environ)
        if body is None:
            limit = settings.MAX_REQUEST_BODY_BYTES
            return Outcome(413, "request_too_large", f"The request body exceeds {limit} bytes.")
        try:
            return accept_notification(body=body, signature=environ.get("HTTP_X_HUB_SIGNATURE_256", ""))
        except Exception:
            logger.exception("whatsapp_webhook_failed", request_id=request_id)
            if settings.SENTRY_DSN:
                import sentry_sdk

                sentry_sdk.capture_exception()
            return Outcome(500, "server_error", "Internal server error.")
        finally:
            # The worker keeps its connection between notifications (Django's handler would hand
            # it back to the pool and take it again: two extra steps per request on this path);
            # a connection that saw an error is closed, and the next request opens a fresh one.
            if connection.errors_occurred:
                connection.close()
