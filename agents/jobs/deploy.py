"""Celery tasks: deploying an agent's workflow to the SkyBot runner.

Activation, deactivation and deletion are synchronous calls in the services (the caller gets the
runner's answer: 502/503 on failure), so only the deployment is a job.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task

from core.tasks import backoff, retry_task

__all__ = ["deploy_agent"]


@shared_task(bind=True, acks_late=True, max_retries=6)
def deploy_agent(self: Any, agent_id: int, activate: bool = True) -> None:
    """Deploy a `deploying` agent; retried with exponential backoff while the runner is unavailable
    (5xx, 429, timeouts), never after it rejected the workflow (4xx). Every attempt, retry or
    duplicate sends the agent's `deploy_key` as idempotency key, so the runner makes one workflow."""
    from agents.services.agents import agent_deployment_run
    from agents.skybot import SkyBotUnavailable

    final_attempt = self.request.retries >= self.max_retries
    try:
        agent_deployment_run(agent_id=agent_id, activate=activate, final_attempt=final_attempt)
    except SkyBotUnavailable as exc:
        retry_task(self, exc=exc, countdown=backoff(self.request.retries, cap=300))
