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
    re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+"),  # JWTs
    re.compile(r"(?i)(bearer\s+)[^\s\"']+"),
    re.compile(r"(/magic-link/)[^/\s?]+"),
]
REDACTED = "[redacted]"


def _redact_text(value: str) -> str:
    for pattern in SECRET_VALUES:
        value = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + REDACTED, value)
    return value


def _redact(value: Any) -> Any:
    if isinstance(value, str):
        return _redact_text(value)
    if isinstance(value, Mapping):
        return {
            key: REDACTED if isinstance(key, str) and SENSITIVE_KEYS.search(key) else _redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(_redact(item) for item in value)
    return value


def redact_secrets(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: drop values under secret-looking keys and mask secret-looking text."""
    for key in list(event_dict):
        if key == "event":
            event_dict[key] = _redact(event_dict[key])
        elif SENSITIVE_KEYS.search(key):
            event_dict[key] = REDACTED
        else:
            event_dict[key] = _redact(event_dict[key])
    return event_dict


def configure_logging(*, level: str, json_output: bool) -> None:
    """Route structlog and stdlib logging through one formatter (JSON or console)."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
        redact_secrets,
    ]
    renderer: Any = structlog.processors.JSONRenderer() if json_output else structlog.dev.ConsoleRenderer(colors=False)
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
                        structlog.processors.format_exc_info,
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
