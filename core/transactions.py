"""Side effects (tasks, WebSocket events, outbound webhooks) run only after the change commits."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from django.db import transaction


def after_commit(func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
    """Run `func(*args, **kwargs)` once the current transaction commits; never if it rolls back."""
    transaction.on_commit(partial(func, *args, **kwargs), robust=True)
