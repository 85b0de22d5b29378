"""Sentry error reporting, on only when SENTRY_DSN is set; no personal data by default."""

from __future__ import annotations

from skybot_inbox.settings import env as config

SENTRY_DSN = config.SENTRY_DSN
SENTRY_TRACES_SAMPLE_RATE = config.SENTRY_TRACES_SAMPLE_RATE
SENTRY_PROFILES_SAMPLE_RATE = config.SENTRY_PROFILES_SAMPLE_RATE

if SENTRY_DSN:
    from core.observability import sentry_init

    sentry_init(
        dsn=SENTRY_DSN,
        environment=config.DJANGO_ENV,
        traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE,
        profiles_sample_rate=SENTRY_PROFILES_SAMPLE_RATE,
    )
