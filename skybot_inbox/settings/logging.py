"""Structured logs through structlog: JSON in production, readable in development.

Every line carries the request id bound by `core.middleware.RequestIdMiddleware`; the redaction
processor strips passwords, tokens and keys before anything is written.
"""

from __future__ import annotations

from skybot_inbox.settings import env as config

LOG_LEVEL = config.LOG_LEVEL
LOG_FORMAT = config.LOG_FORMAT
SLOW_QUERY_MS = config.SLOW_QUERY_MS

LOGGING_CONFIG = None  # configured by core.logging.configure_logging below

from core.logging import configure_logging  # noqa: E402

configure_logging(level=LOG_LEVEL, json_output=LOG_FORMAT == "json")
