"""Sentry set-up and the slow-query logger."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import structlog
from django.conf import settings

logger = structlog.get_logger(__name__)


def sentry_init(*, dsn: str, environment: str, traces_sample_rate: float, profiles_sample_rate: float) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        traces_sample_rate=traces_sample_rate,
        profiles_sample_rate=profiles_sample_rate,
        send_default_pii=False,
        integrations=[DjangoIntegration(), CeleryIntegration()],
    )


def log_slow_queries(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
    """Database execute wrapper: log statements slower than SLOW_QUERY_MS (never their params)."""
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
