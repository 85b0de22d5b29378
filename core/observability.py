"""Sentry set-up, the slow-query logger and the queries-per-request histogram."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, cast

import structlog
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import Histogram

logger = structlog.get_logger(__name__)


# Headers and query parameters named like credentials (auth, token, key, session...) are always
# filtered by the SDK; these terms also drop the ones that identify a person.
_NOT_PERSONAL = {"mode": "denylist", "terms": ["forwarded", "-ip", "remote-", "via", "-user", "cookie", "email"]}
SENTRY_DATA_COLLECTION: dict[str, Any] = {
    "user_info": False,
    "cookies": {"mode": "off"},
    "http_headers": {"request": _NOT_PERSONAL},
    "http_bodies": [],
    "url_query_params": _NOT_PERSONAL,
    "graphql": {"document": False, "variables": False},
    "gen_ai": {"inputs": False, "outputs": False},
    "database_query_data": False,
    "queues": False,
    "stack_frame_variables": False,
}


def _redact_breadcrumb(crumb: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    from core.logging import redact_value

    if isinstance(crumb.get("message"), str):
        crumb["message"] = redact_value(crumb["message"])
    if isinstance(crumb.get("data"), dict):
        crumb["data"] = redact_value(crumb["data"])
    return crumb


def sentry_init(*, dsn: str, environment: str, traces_sample_rate: float, profiles_sample_rate: float) -> None:
    """Report errors to Sentry without personal data: no cookies, auth headers, user email or IP."""
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        traces_sample_rate=traces_sample_rate,
        profiles_sample_rate=profiles_sample_rate,
        # What `send_default_pii=False` means (that option is deprecated in favour of this one), made
        # stricter: no request bodies (customers' messages, sign-in forms), no cookies, no local
        # variables of stack frames, no SQL parameters.
        data_collection=cast(Any, SENTRY_DATA_COLLECTION),
        before_breadcrumb=_redact_breadcrumb,
        integrations=[DjangoIntegration(), CeleryIntegration()],
    )


# The queries of the request being answered, counted by `log_slow_queries` (which every connection
# runs, see `install_slow_query_logger`). A context variable, not a wrapper per request: a wrapper
# added around a request could be unwound in the wrong order when a connection opens inside it.
_request_queries: ContextVar[list[int] | None] = ContextVar("request_queries", default=None)


def log_slow_queries(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
    """Database execute wrapper: log statements slower than SLOW_QUERY_MS (never their params), and
    count the statement for the request being answered (`QueryCountMiddleware`)."""
    counter = _request_queries.get()
    if counter is not None:
        counter[0] += 1
    started = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        duration_ms = (time.perf_counter() - started) * 1000
        if duration_ms >= settings.SLOW_QUERY_MS:
            logger.warning("slow_query", duration_ms=round(duration_ms, 1), sql=sql[:2000])


def install_slow_query_logger(sender: Any, connection: Any, **kwargs: Any) -> None:
    """`connection_created` receiver: wrap every new connection once."""
    if log_slow_queries not in connection.execute_wrappers:
        connection.execute_wrappers.append(log_slow_queries)


# --- per-request figures for Prometheus ----------------------------------------------------------
# django-prometheus already exports request counts and latency histograms by view; the number of
# database queries per request is what shows an N+1 creeping into a page at a big tenant, so it is
# observed here by view too (the same `view` label as django-prometheus's `..._by_view_method`).

QUERY_BUCKETS = (1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 50, 100, 200)

queries_per_request = Histogram(
    "skybot_http_queries_per_request",
    "Database queries run while answering one HTTP request, by view and method.",
    ["view", "method"],
    buckets=QUERY_BUCKETS,
)


class QueryCountMiddleware:
    """Count the database queries of each request into `skybot_http_queries_per_request`."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        count = [0]
        token = _request_queries.set(count)
        try:
            response = self.get_response(request)
        finally:
            _request_queries.reset(token)
        match = request.resolver_match
        view = match.view_name if match is not None else "<unresolved>"
        queries_per_request.labels(view=view, method=request.method or "").observe(count[0])
        return response
