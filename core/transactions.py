"""Side effects (tasks, WebSocket events, outbound webhooks) run only after the change commits."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from django.db import transaction


def after_commit(func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
    """Run `func(*args, **kwargs)` once the current transaction commits; never if it rolls back.

    Robust: a failing side effect is logged and does not stop the others.
    """
    callback = partial(func, *args, **kwargs)
    # Django names the callback in its error log; a bare partial has no name.
    callback.__qualname__ = getattr(func, "__qualname__", repr(func))  # type: ignore[attr-defined]
    transaction.on_commit(callback, robust=True)
