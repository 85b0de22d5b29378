"""Celery tasks of the accounts domain."""

from __future__ import annotations

import structlog
from celery import shared_task

from accounts.services.api_key_usage import api_key_usage_flush

logger = structlog.get_logger(__name__)


@shared_task(acks_late=True)
def flush_api_key_usage() -> None:
    """Beat (every `API_KEY_USAGE_FLUSH_SECONDS`): write API-key usage counted in Redis to the database.

    No retry of its own: the next beat is the retry, and a flush stopped at any step is completed
    by the next one without counting anything twice (see `api_key_usage_flush`).
    """
    batches = api_key_usage_flush()
    if batches:
        logger.debug("api_key_usage_flushed", batches=batches)
