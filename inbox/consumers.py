"""`/ws/inbox/`: message.created, message.status, conversation.created, conversation.updated,
conversation.handoff, lead.created, lead.updated.

The inbox carries a big tenant's traffic, so its sockets also take the events of one published
batch in one channel-layer message (`feed.batch`, see `core.realtime`); the browser still gets one
frame per event."""

from __future__ import annotations

from typing import Any

from accounts.consumers import TenantFeedConsumer
from core.realtime import batch_group, batch_listener_joined, batch_listener_left, observe_delivery


class InboxConsumer(TenantFeedConsumer):
    feed = "inbox"
    batches: str | None = None  # the batch group joined, once admitted

    async def connect(self) -> None:
        await super().connect()
        if self.group is not None:  # admitted to the feed
            self.batches = batch_group(self.group)
            await self.channel_layer.group_add(self.batches, self.channel_name)
            await batch_listener_joined(self.group)

    async def disconnect(self, code: int) -> None:
        if self.batches is not None and self.group is not None:
            await batch_listener_left(self.group)
            await self.channel_layer.group_discard(self.batches, self.channel_name)
            self.batches = None
        await super().disconnect(code)

    async def feed_event(self, message: dict[str, Any]) -> None:
        await super().feed_event(message)
        if self.user_id is not None:  # still signed in: the event went out, it was not a close
            observe_delivery(self.feed, message)

    async def feed_batch(self, message: dict[str, Any]) -> None:
        for event in message["events"]:
            await self.feed_event(event)
