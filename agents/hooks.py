"""What the agents app tells the apps built on it (`core.hooks` events; `handoff` and `plugins`
subscribe), and the runtimes those apps lend it.

Each event is announced inside the transaction that decides it, so what a handler writes commits or
rolls back with it, and an error it raises reaches the caller.

An agent whose template's runtime is not the SkyBot runner (`AgentRuntime.PLUGIN`) is answered by
the runtime an upper app registers under that name (`agent_runtime_register`; `plugins` does in its
`ready()`): the agents app never imports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from agents.models import Agent, AgentExecution
    from inbox.models import Conversation, Message


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


@dataclass(frozen=True)
class AgentStarted:
    """The agent starts answering: a plugin agent on creation, any agent when it is activated."""

    agent: Agent


class Runtime(Protocol):
    """Runs the agents of one non-runner runtime."""

    def answer(self, *, message: Message, agent: Agent) -> None:
        """Answer the customer `message` as `agent`, which holds its conversation (in a worker)."""


_runtimes: dict[str, Runtime] = {}


def agent_runtime_register(name: str, runtime: Runtime) -> None:
    """Answer the agents whose template's runtime is `name` with `runtime` (the last one wins)."""
    _runtimes[name] = runtime


def agent_runtime(name: str) -> Runtime | None:
    """The runtime registered under `name`, or None when no installed app provides it."""
    return _runtimes.get(name)
