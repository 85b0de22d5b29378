"""`/ws/agents/`: agent.status, execution.started, execution.finished."""

from __future__ import annotations

from core.consumers import TenantFeedConsumer


class AgentsConsumer(TenantFeedConsumer):
    feed = "agents"
