"""Prometheus metrics of the agents."""

from prometheus_client import Counter

agent_executions = Counter(
    "skybot_agent_executions_total",
    "Agent executions the SkyBot runner reported finished, by final status (succeeded/failed).",
    ["status"],
)
