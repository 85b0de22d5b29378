"""Live events to the web UI: published to a tenant's channel-layer group after commit.

Consumers join `tenant_group(account_id, feed)` and forward what arrives; with REDIS_URL set the
channel layer is Redis, so an event raised in any process reaches sockets held by any other.
"""

from __future__ import annotations

from typing import Any

import structlog
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from core.transactions import after_commit

logger = structlog.get_logger(__name__)


def tenant_group(account_id: int, feed: str) -> str:
    return f"tenant.{account_id}.{feed}"


def _send(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:  # noqa: BLE001 - a live-feed hiccup must never fail the change that caused it
        logger.warning("realtime_publish_failed", group=group, event=message.get("event"), exc_info=True)


def publish(*, account_id: int, feed: str, event: str, data: dict[str, Any]) -> None:
    """Send `{"event": event, "data": data}` to the tenant's `feed` sockets once the transaction commits."""
    after_commit(_send, tenant_group(account_id, feed), {"type": "feed.event", "event": event, "data": data})
