"""Live events to the web UI: published to a tenant's channel-layer group after commit.

Consumers join `tenant_group(account_id, feed)` and forward what arrives; with REDIS_URL set the
channel layer is Redis, so an event raised in any process reaches sockets held by any other.

Each group's open sockets are counted in the shared cache, so a burst of events for tenants with
nobody watching costs one cache read instead of a channel-layer round trip per event. A count can
only err upwards (a server that died with sockets open), which costs sends, never lost events.

Besides its feed's group, every socket joins a group for its person and one for its tenant, so the
sign-ins of a person (or a whole tenant) that lost access can be closed wherever they are open
(`close_sockets`).

Other consumers of the same events register a sink (`add_sink`): it sees every published batch
inside the publishing transaction, so what it stores (outgoing webhooks) commits or rolls back with
the change itself.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache
from prometheus_client import Gauge

from core.transactions import after_commit

logger = structlog.get_logger(__name__)

open_sockets = Gauge("skybot_websocket_open", "WebSocket connections open in this process, by feed.", ["feed"])


def tenant_group(account_id: int, feed: str) -> str:
    return f"tenant.{account_id}.{feed}"


def person_group(user_id: int) -> str:
    """Every open socket of one person, whatever the feed."""
    return f"access.user.{user_id}"


def account_group(account_id: int) -> str:
    """Every open socket of one tenant's people, whatever the feed."""
    return f"access.account.{account_id}"


def close_sockets(*, group: str, code: int) -> None:
    """Close every socket in `group` with `code` (4401 signed out, 4403 no access). Call after commit."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, {"type": "access.revoked", "code": code})
    except Exception:
        # The consumers re-check access before they forward anything, so a lost message costs a
        # few seconds, never an event sent to someone who may no longer read it.
        logger.warning("realtime_close_failed", group=group, exc_info=True)


def _listeners_key(group: str) -> str:
    return f"realtime:listeners:{group}"


async def listener_joined(group: str, feed: str) -> None:
    key = _listeners_key(group)
    if not await cache.aadd(key, 1, timeout=None):
        try:
            await cache.aincr(key)
        except ValueError:
            # The key reads as missing: it expired meanwhile, or it holds 0 and the embedded mode's
            # cache (django-prometheus's LocMemCache) answers a stored 0 as a miss. Either way this
            # socket is the group's only listener.
            await cache.aset(key, 1, timeout=None)
    open_sockets.labels(feed=feed).inc()


async def listener_left(group: str, feed: str) -> None:
    with contextlib.suppress(ValueError):  # the cache was flushed meanwhile: nothing to count down
        await cache.adecr(_listeners_key(group))
    open_sockets.labels(feed=feed).dec()


def _watched(groups: set[str]) -> set[str]:
    counts = cache.get_many([_listeners_key(group) for group in groups])
    return {group for group in groups if (counts.get(_listeners_key(group)) or 0) > 0}


def _send_many(messages: list[tuple[str, dict[str, Any]]]) -> None:
    layer = get_channel_layer()
    if layer is None or not messages:
        return
    watched = _watched({group for group, _ in messages})
    wanted = [(group, message) for group, message in messages if group in watched]
    if not wanted:
        return

    async def send_all() -> None:
        for group, message in wanted:
            await layer.group_send(group, message)

    try:
        async_to_sync(send_all)()  # one event loop and one Redis connection for the whole batch
    except Exception:
        logger.warning("realtime_publish_failed", events=len(wanted), exc_info=True)


@dataclass(frozen=True)
class FeedEvent:
    account_id: int
    feed: str
    event: str
    data: dict[str, Any]

    def message(self) -> tuple[str, dict[str, Any]]:
        return tenant_group(self.account_id, self.feed), {"type": "feed.event", "event": self.event, "data": self.data}


def publish(*, account_id: int, feed: str, event: str, data: dict[str, Any]) -> None:
    """Send `{"event": event, "data": data}` to the tenant's `feed` sockets once the transaction commits."""
    publish_many([FeedEvent(account_id, feed, event, data)])


EventSink = Callable[[Sequence[FeedEvent]], None]
_sinks: list[EventSink] = []


def add_sink(sink: EventSink) -> None:
    """Also hand every published batch to `sink`, at publication time (inside the transaction)."""
    if sink not in _sinks:
        _sinks.append(sink)


def publish_many(events: list[FeedEvent]) -> None:
    """Send many events (in order) once the transaction commits."""
    if events:
        for sink in _sinks:
            sink(events)
        after_commit(_send_many, [event.message() for event in events])
