"""Operational endpoints: liveness, readiness, metrics, and JSON error pages for API paths."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

import structlog
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import RequestDataTooBig
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from core.exceptions import error_response
from core.middleware import client_ip, request_too_large_response

logger = structlog.get_logger(__name__)

# A readiness probe must answer quickly even when a dependency hangs.
CHECK_TIMEOUT_SECONDS = 3


def _get_only(view: Callable[[HttpRequest], JsonResponse]) -> Callable[[HttpRequest], JsonResponse]:
    """Like `require_GET`, but the 405 is the API's JSON error."""

    @wraps(view)
    def wrapper(request: HttpRequest) -> JsonResponse:
        if request.method not in ("GET", "HEAD"):
            response = error_response(405, "method_not_allowed", f'Method "{request.method}" not allowed.')
            response["Allow"] = "GET, HEAD"
            return response
        return view(request)

    return wrapper


@never_cache
@_get_only
def health(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Touches nothing else."""
    return JsonResponse({"status": "ok"})


def _check_database() -> None:
    pool = getattr(connection, "pool", None)
    if pool is not None:
        # PostgreSQL with a pool: wait for a connection only briefly, not the pool's own timeout.
        pool.open()
        with pool.connection(timeout=CHECK_TIMEOUT_SECONDS) as conn:
            conn.execute("SELECT 1")
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_cache() -> None:
    key = f"ready:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=5)
    if cache.get(key) != "1":
        raise RuntimeError("cache did not return the value it was given")
    cache.delete(key)


def _check_channel_layer() -> None:
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer configured")

    async def roundtrip() -> None:
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "ready.check"})
        await layer.receive(channel)

    async def bounded() -> None:
        await asyncio.wait_for(roundtrip(), timeout=CHECK_TIMEOUT_SECONDS)

    async_to_sync(bounded)()


def _check_broker() -> None:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return  # embedded mode: tasks run in-process, there is no broker to reach
    from celery import current_app

    with current_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=CHECK_TIMEOUT_SECONDS)


READINESS_CHECKS: dict[str, Callable[[], None]] = {
    "database": _check_database,
    "cache": _check_cache,
    "channel_layer": _check_channel_layer,
    "broker": _check_broker,
}


# Facts an app adds to the readiness answer without deciding it (the plugins app tells whether its
# sandbox is complete); each is called per request and must be cheap.
READINESS_INFO: dict[str, Callable[[], dict[str, Any]]] = {}


@never_cache
@_get_only
def ready(request: HttpRequest) -> JsonResponse:
    """Readiness: 200 when every dependency answers, else 503 naming the failing checks."""
    checks: dict[str, str] = {}
    for name, check in READINESS_CHECKS.items():
        try:
            check()
            checks[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready"; the type is reported
            checks[name] = f"error: {type(exc).__name__}"
            logger.warning("readiness_check_failed", check=name, error=f"{type(exc).__name__}: {exc}")
    failing = sorted(name for name, result in checks.items() if result != "ok")
    body: dict[str, Any] = {"status": "ok" if not failing else "unavailable", "checks": checks}
    if failing:
        body["failing"] = failing
    for name, info in READINESS_INFO.items():
        try:
            body[name] = info()
        except Exception as exc:  # noqa: BLE001 - an informational fact never fails readiness
            body[name] = {"error": type(exc).__name__}
    return JsonResponse(body, status=503 if failing else 200)


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics for a bearer token (METRICS_TOKEN) or an allow-listed address."""
    from django_prometheus.exports import ExportToDjangoView

    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    by_token = bool(token) and constant_time_compare(header, f"Bearer {token}")
    # A forwarded request's REMOTE_ADDR is the proxy's, not the caller's: only direct calls count.
    forwarded = "X-Forwarded-For" in request.headers or "Forwarded" in request.headers
    by_address = not forwarded and client_ip(request) in settings.METRICS_ALLOWED_IPS
    if not (by_token or by_address):
        return error_response(404, "not_found", "Not found.")
    return ExportToDjangoView(request)


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith(("/api/", "/webhooks/"))


@csrf_exempt
def api_not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    """Every unknown /api/ path: a JSON 404 whatever DEBUG says."""
    return error_response(404, "not_found", "Not found.")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return error_response(404, "not_found", "Not found.")
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if _wants_json(request):
        return error_response(500, "server_error", "Internal server error.")
    return render(request, "500.html", status=500)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if isinstance(exception, RequestDataTooBig):
        return request_too_large_response()  # a middleware read an oversized body without Content-Length
    if _wants_json(request):
        return error_response(400, "bad_request", "Bad request.")
    return render(request, "400.html", status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return error_response(403, "permission_denied", "Permission denied.")
    return render(request, "403.html", status=403)
