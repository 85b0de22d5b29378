"""`/ws/agents/`: agent.status, execution.started, execution.finished."""

from __future__ import annotations

from accounts.consumers import TenantFeedConsumer


class AgentsConsumer(TenantFeedConsumer):
    feed = "agents"
