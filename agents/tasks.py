"""Celery tasks of the agents app: deploying an agent's workflow, writing report exports.

Activation, deactivation and deletion are synchronous calls in the services (the caller gets the
runner's answer: 502/503 on failure), so only the deployment is a job. Each task keeps the name it
was first queued under (`name=`), so tasks already in the broker still resolve after a move.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task

from agents.models import Report
from core.tasks import backoff, retry_task


@shared_task(name="agents.jobs.deploy.deploy_agent", bind=True, acks_late=True, max_retries=6)
def deploy_agent(self: Any, agent_id: int, activate: bool = True) -> None:
    """Deploy a `deploying` agent; retried with exponential backoff while the runner is unavailable
    (5xx, 408, 429, timeouts), never after it rejected the workflow (4xx). Every attempt, retry or
    duplicate sends the agent's `deploy_key` as idempotency key, so the runner makes one workflow."""
    from agents.services.agents import agent_deployment_run
    from agents.skybot import SkyBotUnavailable

    final_attempt = self.request.retries >= self.max_retries
    try:
        agent_deployment_run(agent_id=agent_id, activate=activate, final_attempt=final_attempt)
    except SkyBotUnavailable as exc:
        retry_task(self, exc=exc, countdown=backoff(self.request.retries, cap=300))


@shared_task(name="agents.jobs.reports.generate_report", acks_late=True)
def generate_report(report_id: int) -> None:
    """Write a requested report's CSV and email the requester; a second run does nothing."""
    from agents.services.reports import report_generate

    report = Report.objects.select_related("requested_by").filter(pk=report_id).first()
    if report is None:
        return
    report_generate(report=report)
