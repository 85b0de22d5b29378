"""What the agents app tells the apps built on it (`core.hooks` events; `handoff` subscribes).

Each is announced inside the transaction that decides them, so what a handler writes commits or
rolls back with it, and an error it raises reaches the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agents.models import Agent, AgentExecution
    from inbox.models import Conversation


@dataclass(frozen=True)
class AgentReplied:
    """The runner reports the agent's reply to a customer, written by `execution`; `conversation` is
    the one the run names (None: it named none of the tenant's)."""

    execution: AgentExecution
    agent: Agent
    conversation: Conversation | None
    text: str


@dataclass(frozen=True)
class AgentLetGo:
    """The runner says the agent holding `conversation` gives it back to the team (it asked to, or
    its run failed while the customer waited)."""

    conversation: Conversation
    reason: str


@dataclass(frozen=True)
class AgentStopped:
    """The agent was paused or deleted (`reason`: `agent_inactive`, `agent_deleted`): nobody answers
    the conversations it holds any more."""

    agent: Agent
    reason: str
