"""`/ws/inbox/`: message.created, message.status, conversation.created, conversation.updated."""

from __future__ import annotations

from core.consumers import TenantFeedConsumer


class InboxConsumer(TenantFeedConsumer):
    feed = "inbox"
