"""Helpers for Celery tasks."""

from __future__ import annotations

import random
from typing import Any


def backoff(retries: int, *, base: float = 2.0, cap: float = 600.0) -> float:
    """Exponential backoff with full jitter: a random wait up to base**(retries+1), capped."""
    return random.uniform(0, min(cap, base ** (retries + 1)))  # noqa: S311 - jitter, not security


def retry_task(task: Any, *, exc: Exception, countdown: float) -> None:
    """Retry the running task after `countdown` seconds.

    With eager execution (the embedded default has no worker to come back later) the next attempt
    runs at once, so retry limits and give-up behaviour are the same in both modes.
    """
    if task.request.is_eager:
        task.apply(args=task.request.args, kwargs=task.request.kwargs, retries=task.request.retries + 1, throw=True)
        return
    raise task.retry(exc=exc, countdown=countdown)
