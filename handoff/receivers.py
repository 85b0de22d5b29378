"""How `handoff` hears what the inbox and the agents announce (subscribed in `HandoffConfig.ready()`).

Each handler is thin: it calls a service, at the moment the event is announced (see `inbox.hooks`
and `agents.hooks` for when that is).
"""

from __future__ import annotations

import structlog

from agents.hooks import AgentLetGo, AgentReplied, AgentStopped
from core.exceptions import Conflict
from core.hooks import subscribe
from handoff.selectors import Agents
from handoff.services import (
    conversation_handoff,
    conversations_give_default_agent,
    execution_reply_post,
    handoff_from_agent,
)
from handoff.tasks import route_to_agent
from inbox.hooks import ConversationsOpening, CustomerMessageArrived, agent_directory_register

logger = structlog.get_logger(__name__)


def conversations_opening(event: ConversationsOpening) -> None:
    conversations_give_default_agent(conversations=event.conversations, default_agents=event.default_agents)


def customer_message_arrived(event: CustomerMessageArrived) -> None:
    """After commit: the agent holding the conversation gets the message (a task, retried)."""
    if event.message.conversation.agent_id is not None:
        route_to_agent.delay(event.message.pk)


def agent_replied(event: AgentReplied) -> None:
    execution_reply_post(execution=event.execution, agent=event.agent, conversation=event.conversation, text=event.text)


def agent_let_go(event: AgentLetGo) -> None:
    try:
        conversation_handoff(conversation=event.conversation, actor=None, reason=event.reason)
    except Conflict:  # let go by the agent meanwhile: nothing left to hand off
        logger.info("skybot_handoff_ignored", conversation=event.conversation.pk, reason="not_held_by_agent")


def agent_stopped(event: AgentStopped) -> None:
    agent = event.agent
    for conversation_id in agent.conversations.values_list("pk", flat=True):
        handoff_from_agent(conversation_id=conversation_id, agent_id=agent.pk, reason=event.reason)


def connect() -> None:
    subscribe(ConversationsOpening, conversations_opening)
    subscribe(CustomerMessageArrived, customer_message_arrived)
    subscribe(AgentReplied, agent_replied)
    subscribe(AgentLetGo, agent_let_go)
    subscribe(AgentStopped, agent_stopped)
    agent_directory_register(Agents())
