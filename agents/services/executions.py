"""Agent executions as the SkyBot runner reports them (a reply one carries is `agents.hooks.AgentReplied`),
and as the plugins app records its plugin agents' runs.

The runner reports an execution with a "started" and a "finished" (succeeded/failed) event, which
may arrive in either order or more than once: `execution_record` upserts one row per
(agent, runner execution id) and never moves a finished execution back to running. In the same
transaction it moves the execution's share of the hourly analytics roll-up (`agents.services.rollup`)
when its status, start hour or duration changed, so a repeated event counts nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from django.db import IntegrityError, transaction
from django.utils import timezone

from agents.cache import analytics_invalidate
from agents.metrics import agent_executions
from agents.models import Agent, AgentExecution, ExecutionStatus
from agents.serializers import ExecutionEventSerializer
from agents.services.rollup import HourlyShare, hourly_record
from core.realtime import publish
from core.transactions import after_commit
from inbox.models import Conversation, Message

logger = structlog.get_logger(__name__)

FINISHED = (ExecutionStatus.SUCCEEDED, ExecutionStatus.FAILED)


@dataclass(frozen=True)
class ExecutionReport:
    """What one runner event says about an execution (already validated and tenant-checked)."""

    external_id: str
    status: str
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_ms: int | None = None
    input_summary: str = ""
    output_summary: str = ""
    error: str = ""
    log: str = ""
    conversation: Conversation | None = None
    message: Message | None = None


def execution_event_data(execution: AgentExecution) -> dict[str, Any]:
    return dict(ExecutionEventSerializer(execution).data)


def _duration_ms(started_at: datetime, finished_at: datetime) -> int:
    return max(0, int((finished_at - started_at).total_seconds() * 1000))


def _new_execution(agent: Agent, report: ExecutionReport) -> AgentExecution:
    now = timezone.now()
    finished = report.status in FINISHED
    finished_at = (report.finished_at or now) if finished else None
    started_at = report.started_at
    if started_at is None:
        if finished_at is not None and report.duration_ms is not None:
            started_at = finished_at - timedelta(milliseconds=report.duration_ms)
        else:
            started_at = finished_at or now
    duration_ms = report.duration_ms
    if duration_ms is None and finished_at is not None:
        duration_ms = _duration_ms(started_at, finished_at)
    return AgentExecution(
        account_id=agent.account_id,
        agent=agent,
        external_id=report.external_id,
        status=report.status,
        started_at=started_at,
        finished_at=finished_at,
        duration_ms=duration_ms,
        input_summary=report.input_summary,
        output_summary=report.output_summary,
        error=report.error,
        log=report.log,
        conversation=report.conversation,
        message=report.message,
    )


def _merge(execution: AgentExecution, report: ExecutionReport) -> list[str]:
    """Apply a later report to a stored execution; the names of the fields that changed."""
    changed: list[str] = []

    def put(field: str, value: Any) -> None:
        if getattr(execution, field) != value:
            setattr(execution, field, value)
            changed.append(field)

    def fill(field: str, value: Any) -> None:
        if value and not getattr(execution, field):
            put(field, value)

    if report.status in FINISHED and execution.status == ExecutionStatus.RUNNING:
        started_at = report.started_at or execution.started_at
        finished_at = report.finished_at or timezone.now()
        put("started_at", started_at)
        put("status", report.status)
        put("finished_at", finished_at)
        put(
            "duration_ms",
            report.duration_ms if report.duration_ms is not None else _duration_ms(started_at, finished_at),
        )
        fill("output_summary", report.output_summary)
        fill("error", report.error)
        fill("log", report.log)
    elif (
        report.status == ExecutionStatus.RUNNING
        and report.started_at is not None
        and report.started_at < execution.started_at
        and execution.finished_at is not None
    ):
        # The outcome came first without its start time; the late "started" has the real one.
        put("started_at", report.started_at)
        put("duration_ms", _duration_ms(report.started_at, execution.finished_at))
    elif report.status in FINISHED and report.status != execution.status:
        # A finished execution is final: a contradicting second outcome is kept out, but noted.
        logger.warning(
            "agent_execution_outcome_ignored",
            execution=execution.pk,
            stored=execution.status,
            reported=report.status,
        )
    # Anything else (a late "started", a repeated outcome) only fills what is still unknown.
    fill("input_summary", report.input_summary)
    if execution.conversation_id is None and report.conversation is not None:
        put("conversation", report.conversation)
    if execution.message_id is None and report.message is not None:
        put("message", report.message)
    return changed


def _locked(agent: Agent, external_id: str) -> AgentExecution | None:
    return AgentExecution.objects.select_for_update().filter(agent=agent, external_id=external_id).first()


def _announce(execution: AgentExecution, *, started: bool, finished: bool) -> None:
    """After commit: drop the tenant's cached analytics, tell the live feed, count outcomes."""
    after_commit(analytics_invalidate, execution.account_id)
    data = execution_event_data(execution)
    if started:
        publish(account_id=execution.account_id, feed="agents", event="execution.started", data=data)
    if finished:
        publish(account_id=execution.account_id, feed="agents", event="execution.finished", data=data)
        after_commit(agent_executions.labels(status=execution.status).inc)


@transaction.atomic
def execution_record(*, agent: Agent, report: ExecutionReport) -> AgentExecution:
    """Create or update the agent's execution the runner reported (race-safe upsert)."""
    execution = _locked(agent, report.external_id)
    if execution is None:
        try:
            with transaction.atomic():
                execution = _new_execution(agent, report)
                execution.save(force_insert=True)
        except IntegrityError:
            # Another delivery about the same execution created it first: merge into that row.
            execution = _locked(agent, report.external_id)
            if execution is None:
                raise
        else:
            hourly_record(before=None, after=HourlyShare.of(execution))
            finished = execution.status in FINISHED
            _announce(execution, started=not finished, finished=finished)
            return execution
    was_running = execution.status == ExecutionStatus.RUNNING
    before = HourlyShare.of(execution)
    changed = _merge(execution, report)
    if changed:
        execution.save(update_fields=changed)
        hourly_record(before=before, after=HourlyShare.of(execution))
        _announce(execution, started=False, finished=was_running and execution.status in FINISHED)
    return execution
