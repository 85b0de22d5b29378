"""Request-scoped plumbing: a request id on every log line and response, and a body-size cap."""

from __future__ import annotations

import ipaddress
import re
import time
import uuid
from collections.abc import Callable

import structlog
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework.settings import api_settings

from core.exceptions import error_response

logger = structlog.get_logger("skybot.request")

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
REQUEST_ID_HEADER = "X-Request-ID"


def valid_request_id(value: str) -> bool:
    """A caller's request id is kept only when it is short and plain (no log injection)."""
    return bool(_VALID_REQUEST_ID.match(value))


def client_ip(request: HttpRequest) -> str | None:
    """The caller's address: `REMOTE_ADDR`, or behind `NUM_PROXIES` proxies the address the outermost
    of them appended to `X-Forwarded-For` (the API throttles' rule, so every limit counts alike).

    With `NUM_PROXIES=0` (the default) the header is ignored, so a caller cannot choose its address;
    an entry that is not an IP address (a misconfigured count) falls back to `REMOTE_ADDR`.
    """
    remote_addr = request.META.get("REMOTE_ADDR") or None
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    num_proxies = api_settings.NUM_PROXIES or 0
    if not num_proxies or not forwarded:
        return remote_addr
    addresses = forwarded.split(",")
    candidate = addresses[-min(num_proxies, len(addresses))].strip()
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote_addr


class RequestIdMiddleware:
    """Bind a request id (the caller's X-Request-ID if sane, else a new one) to every log line and
    return it in the `X-Request-ID` header; log one line per request with status and duration."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if valid_request_id(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        logger.info(
            "request",
            method=request.method,
            path=request.path,
            status=response.status_code,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
        )
        structlog.contextvars.clear_contextvars()
        return response


def request_too_large_response() -> JsonResponse:
    return error_response(
        413, "request_too_large", f"The request body exceeds {settings.MAX_REQUEST_BODY_BYTES} bytes."
    )


class RequestBodyLimitMiddleware:
    """Refuse bodies larger than MAX_REQUEST_BODY_BYTES with 413.

    A declared Content-Length over the limit is refused before the body is read. A body without one
    (chunked) is capped when it is read: Django raises `RequestDataTooBig` past
    DATA_UPLOAD_MAX_MEMORY_SIZE (the same limit), which becomes the same 413 here for plain views,
    in `core.exceptions.api_exception_handler` for DRF views, and in `core.views.bad_request` when a
    middleware read the body.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return error_response(400, "bad_request", "Invalid Content-Length header.")
        if length < 0:
            return error_response(400, "bad_request", "Invalid Content-Length header.")
        if length > settings.MAX_REQUEST_BODY_BYTES:
            return request_too_large_response()
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, RequestDataTooBig):
            return request_too_large_response()
        return None
