"""Typed in-process events: how a lower app tells the apps above it what happened.

A floor never imports the floors above it (docs/architecture.md). When something it does matters
to an app above — a conversation opens, a customer writes, an agent stops answering — it announces
an event, a frozen dataclass it defines itself; the app above subscribes a handler to that class in
its `AppConfig.ready()`, the way `integrations` registers its event sink with `core.realtime`.

Handlers run synchronously, in the order they subscribed, where the event is announced: inside the
announcer's transaction when it is announced there (a handler's writes commit or roll back with the
change, its errors reach the caller), after commit when the announcer announces from an
`after_commit` callback. Nobody subscribed means nothing happens.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

Event = TypeVar("Event")

_handlers: dict[type[Any], list[Callable[[Any], None]]] = {}


def subscribe(event_type: type[Event], handler: Callable[[Event], None]) -> None:
    """Call `handler(event)` for every `event_type` announced from now on (once, however often
    this is called for the same pair)."""
    handlers = _handlers.setdefault(event_type, [])
    if handler not in handlers:
        handlers.append(handler)


def announce(event: object) -> None:
    """Hand `event` to the handlers subscribed to its class, one after the other."""
    for handler in _handlers.get(type(event), ()):
        handler(event)
