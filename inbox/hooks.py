"""What the inbox tells the apps built on it, and the one thing it asks them.

The inbox does not know which app lets an AI agent hold a conversation (`handoff` does, with the
agents of the `agents` app). It announces what happens through `core.hooks` events, and asks for
the agents a person may pick through the `AgentDirectory` an app registers. `handoff` subscribes and
registers in its `AppConfig.ready()`.

- `ConversationsOpening`: inside the ingest transaction, before new conversations are written; a
  handler may give each one to an agent to hold.
- `CustomerMessageArrived`: after commit, once per stored customer message, in the order the
  inbox queues its own follow-ups (n8n router, then this, then the media download).

The models keep their foreign keys to "agents.Agent" as lazy references: the inbox stores which
agent holds a conversation, it never loads the agents app to do so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from django.db.models import QuerySet

if TYPE_CHECKING:
    from inbox.models import Conversation, Message


@dataclass(frozen=True)
class ConversationsOpening:
    """New conversations, not saved yet, and each channel's default agent (channel id → agent id).

    A handler may give a conversation to an agent: it sets `agent_id` and `status` on it."""

    conversations: list[Conversation]
    default_agents: dict[int, int]


@dataclass(frozen=True)
class CustomerMessageArrived:
    """A customer's message was stored (its conversation loaded alongside); after commit."""

    message: Message


class Agent(Protocol):
    """An AI agent as the inbox sees one: a row of another app it can name and store a key to."""

    pk: Any
    account_id: int
    name: str


class AgentDirectory(Protocol):
    """The AI agents a person may give a conversation to, or name as a channel's default."""

    def active(self, *, account_id: int) -> QuerySet[Any]:
        """The tenant's agents that may take a conversation now."""

    def may_hold(self, agent: Agent, *, account_id: int) -> bool:
        """Whether `agent` may take one of the tenant's conversations now."""

    def selectable(self, *, account_id: int) -> QuerySet[Any]:
        """The tenant's agents a channel may name as its default (active or not)."""

    def label(self, agent: Agent) -> str:
        """How a choice of agent reads in a form."""


_directory: list[AgentDirectory] = []


def agent_directory_register(directory: AgentDirectory) -> None:
    """Answer the inbox's questions about agents with `directory` (the last one registered wins)."""
    _directory[:] = [directory]


def agent_directory() -> AgentDirectory:
    if not _directory:
        raise LookupError("No installed app registered an agent directory (the `handoff` app does).")
    return _directory[0]
