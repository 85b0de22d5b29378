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

A consumer that can take many events in one channel-layer message also joins `batch_group(group)`
and is counted there. When every listener of a group is, a published batch reaches the group as one
`feed.batch` message instead of one `feed.event` message per event: one `group_send` (four Redis
round trips with channels_redis) per batch instead of per event, and on each socket server one
receive and one consumer dispatch per batch instead of per event. While some listener cannot (another
version of the consumer during a deploy, or counts a crashed server left behind), events go one by
one to everyone: slower, never lost or doubled.

An event raised by an inbound webhook carries, beside its payload, when the platform received the
webhook (`received_at`); a consumer that forwards it observes `skybot_realtime_delivery_seconds`
(`observe_delivery`) and sends the browser only the event and its data.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache
from prometheus_client import Gauge, Histogram

from core.transactions import after_commit

logger = structlog.get_logger(__name__)

open_sockets = Gauge("skybot_websocket_open", "WebSocket connections open in this process, by feed.", ["feed"])
delivery_seconds = Histogram(
    "skybot_realtime_delivery_seconds",
    "Time from receiving a webhook to forwarding the event it raised to one socket, by feed.",
    ["feed"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.2, 0.35, 0.5, 1.0, 2.5, 5.0),
)


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


def batch_group(group: str) -> str:
    """The group a feed's sockets that take `feed.batch` messages join besides `group`."""
    return f"{group}.batch"


def _listeners_key(group: str) -> str:
    return f"realtime:listeners:{group}"


async def _count_up(group: str) -> None:
    key = _listeners_key(group)
    if not await cache.aadd(key, 1, timeout=None):
        try:
            await cache.aincr(key)
        except ValueError:
            # The key reads as missing: it expired meanwhile, or it holds 0 and the embedded mode's
            # cache (django-prometheus's LocMemCache) answers a stored 0 as a miss. Either way this
            # socket is the group's only listener.
            await cache.aset(key, 1, timeout=None)


async def _count_down(group: str) -> None:
    with contextlib.suppress(ValueError):  # the cache was flushed meanwhile: nothing to count down
        await cache.adecr(_listeners_key(group))


async def listener_joined(group: str, feed: str) -> None:
    await _count_up(group)
    open_sockets.labels(feed=feed).inc()


async def listener_left(group: str, feed: str) -> None:
    await _count_down(group)
    open_sockets.labels(feed=feed).dec()


async def batch_listener_joined(group: str) -> None:
    """Count a socket of `group` that has joined `batch_group(group)` (after `listener_joined`)."""
    await _count_up(batch_group(group))


async def batch_listener_left(group: str) -> None:
    """Count it out again (before `listener_left`, so the counts never claim a batch it cannot take)."""
    await _count_down(batch_group(group))


def _addressed(messages: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    """The messages to send: none to a group nobody watches, one `feed.batch` message per group
    whose every listener takes batches, the events one by one to the other groups."""
    groups = {group for group, _ in messages}
    keys = [_listeners_key(name) for group in groups for name in (group, batch_group(group))]
    counts = cache.get_many(keys)
    plain = {group: counts.get(_listeners_key(group)) or 0 for group in groups}
    batched = {
        group
        for group in groups
        if plain[group] and (counts.get(_listeners_key(batch_group(group))) or 0) >= plain[group]
    }
    wanted = [(group, message) for group, message in messages if plain[group] and group not in batched]
    batches: dict[str, list[dict[str, Any]]] = {}
    for group, message in messages:
        if group in batched:
            batches.setdefault(group, []).append(message)
    wanted += [(batch_group(group), {"type": "feed.batch", "events": events}) for group, events in batches.items()]
    return wanted


def _send_many(messages: list[tuple[str, dict[str, Any]]]) -> None:
    layer = get_channel_layer()
    if layer is None or not messages:
        return
    wanted = _addressed(messages)
    if not wanted:
        return

    async def send_all() -> None:
        for group, message in wanted:
            await layer.group_send(group, message)

    try:
        async_to_sync(send_all)()  # one event loop and one Redis connection for the whole batch
    except Exception:
        logger.warning("realtime_publish_failed", events=len(wanted), exc_info=True)


def observe_delivery(feed: str, message: dict[str, Any]) -> None:
    """Record how long after its webhook's receipt an event reached a socket (events without one: nothing).

    Both times are wall-clock times of different processes: a clock that runs behind the web
    server's reads as an instant delivery, never as a negative time."""
    received_at = message.get("received_at")
    if received_at is not None:
        delivery_seconds.labels(feed=feed).observe(max(0.0, time.time() - received_at))


@dataclass(frozen=True)
class FeedEvent:
    account_id: int
    feed: str
    event: str
    data: dict[str, Any]
    received_at: float | None = None  # Unix time the webhook behind the event was received, if any

    def message(self) -> tuple[str, dict[str, Any]]:
        message: dict[str, Any] = {"type": "feed.event", "event": self.event, "data": self.data}
        if self.received_at is not None:
            message["received_at"] = self.received_at
        return tenant_group(self.account_id, self.feed), message


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
