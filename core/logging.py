"""Structured logging set-up and the redaction that keeps secrets out of every log line."""

from __future__ import annotations

import logging
import logging.config
import re
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

SENSITIVE_KEYS = re.compile(
    r"pass(word)?|secret|token|api[_-]?key|authorization|cookie|signature|refresh|access|session",
    re.IGNORECASE,
)
SECRET_VALUES = [
    re.compile(r"sk_live_[A-Za-z0-9]+_[A-Za-z0-9]+"),  # our API keys
    re.compile(r"whsec_[A-Za-z0-9+/=]+"),  # webhook signing secrets
    re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+"),  # JWTs
    re.compile(r"(?i)(bearer\s+)[^\s\"']+"),
    re.compile(r"(/magic-link/)[^/\s?]+"),
]
REDACTED = "[redacted]"
_PASS_THROUGH = frozenset({"exc_info", "stack_info", "level", "logger", "timestamp", "request_id"})


def redact_text(value: str) -> str:
    for pattern in SECRET_VALUES:
        value = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + REDACTED, value)
    return value


def redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {
            key: REDACTED if isinstance(key, str) and SENSITIVE_KEYS.search(key) else redact_value(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [redact_value(item) for item in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    if hasattr(value, "META") and hasattr(value, "path"):
        # An HttpRequest (Django's request logger passes one): its repr carries the query string.
        return f"{getattr(value, 'method', '')} {value.path}"
    return redact_text(repr(value))


def redact_secrets(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: drop values under secret-looking keys and mask secret-looking text."""
    for key in list(event_dict):
        if key in _PASS_THROUGH or key.startswith("_"):
            continue  # structlog's own bookkeeping (the exception, the stdlib record)
        if key == "event":
            event_dict[key] = redact_value(event_dict[key])
        elif SENSITIVE_KEYS.search(key):
            event_dict[key] = REDACTED
        else:
            event_dict[key] = redact_value(event_dict[key])
    return event_dict


def configure_logging(*, level: str, json_output: bool) -> None:
    """Route structlog and stdlib logging through one formatter (JSON or console).

    Redaction runs twice on purpose: before a structlog event leaves for the stdlib (so anything else
    listening to log records, such as Sentry breadcrumbs, gets the redacted dict) and again in the
    formatter, after exceptions are rendered to text, for records from any logger.
    """
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
        redact_secrets,
    ]
    renderer: Any = structlog.processors.JSONRenderer() if json_output else structlog.dev.ConsoleRenderer(colors=False)
    render_exception: list[Any] = [structlog.processors.format_exc_info] if json_output else []
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {
                "structured": {
                    "()": structlog.stdlib.ProcessorFormatter,
                    "foreign_pre_chain": shared,
                    "processors": [
                        structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                        *render_exception,
                        redact_secrets,
                        renderer,
                    ],
                }
            },
            "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
            "root": {"handlers": ["console"], "level": level},
            "loggers": {
                "django.server": {"level": "WARNING"},
                "django.request": {"level": "ERROR"},
                "daphne": {"level": "WARNING"},
            },
        }
    )
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
