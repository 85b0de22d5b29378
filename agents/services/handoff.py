"""Handing a conversation from an AI agent to the team (by the agent, a person, or automatically
when the runner fails)."""

from __future__ import annotations

from accounts.services.audit import SYSTEM, RequestContext
from core.principals import Principal
from inbox.models import Conversation


def conversation_handoff(
    *, conversation: Conversation, actor: Principal | None, reason: str, context: RequestContext = SYSTEM
) -> Conversation:
    """Take the conversation from its agent: open it for people, assign it per the channel's rule,
    and tell the inbox feed (`conversation.handoff`). `actor` None means the platform did it."""
    raise NotImplementedError
