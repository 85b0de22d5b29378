"""Reads: the AI agents a person may give a conversation to, as the inbox asks for them."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from agents.models import Agent, AgentStatus
from agents.selectors import agents_visible
from inbox.hooks import Agent as AgentRef


class Agents:
    """The inbox's `AgentDirectory`, answered from the agents app (registered in `ready()`)."""

    def active(self, *, account_id: int) -> QuerySet[Agent]:
        return Agent.objects.filter(account_id=account_id, status=AgentStatus.ACTIVE)

    def may_hold(self, agent: AgentRef, *, account_id: int) -> bool:
        return isinstance(agent, Agent) and agent.account_id == account_id and agent.status == AgentStatus.ACTIVE

    def selectable(self, *, account_id: int) -> QuerySet[Agent]:
        return agents_visible(scoped=Agent.objects.filter(account_id=account_id)).prefetch_related(None)

    def label(self, agent: Any) -> str:
        return f"{agent.name} ({agent.get_status_display().lower()})"
