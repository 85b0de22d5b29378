"""`/ws/inbox/`: message.created, message.status, conversation.created, conversation.updated,
conversation.handoff, lead.created, lead.updated."""

from __future__ import annotations

from accounts.consumers import TenantFeedConsumer


class InboxConsumer(TenantFeedConsumer):
    feed = "inbox"
