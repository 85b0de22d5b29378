"""Report exports: ask for one (the CSV is written by a background job), and write it."""

from __future__ import annotations

import csv
import secrets
import tempfile
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import structlog
from django.conf import settings
from django.core.files import File
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from accounts.principals import Principal
from accounts.services.audit import RequestContext, audit_log_record
from agents.models import Agent, AgentExecution, Report, ReportKind, ReportStatus
from core.csv_safety import csv_safe
from core.exceptions import ApplicationError
from core.transactions import after_commit
from inbox.models import Conversation

logger = structlog.get_logger(__name__)

EXECUTION_COLUMNS = [
    "id",
    "agent_id",
    "agent_name",
    "external_id",
    "status",
    "started_at",
    "finished_at",
    "duration_ms",
    "conversation_id",
    "error",
]
CONVERSATION_COLUMNS = [
    "id",
    "channel",
    "contact_name",
    "contact_wa_id",
    "status",
    "priority",
    "assignee",
    "agent_id",
    "created_at",
    "last_message_at",
]
ROWS_PER_FETCH = 2000


@transaction.atomic
def report_request(
    *,
    account: Account,
    kind: str,
    date_from: datetime,
    date_to: datetime,
    actor: Principal,
    context: RequestContext,
    agent: Agent | None = None,
) -> Report:
    """Record the request and queue the job that writes the file (after commit). With `agent`, an
    agent executions report holds only that agent's executions."""
    from agents.tasks import generate_report

    if agent is not None:
        if agent.account_id != account.pk:
            raise ApplicationError("No such agent.", code="validation_error", details={"agent": ["No such agent."]})
        if kind != ReportKind.AGENT_EXECUTIONS:
            raise ApplicationError(
                "Only an agent executions report is of one agent.",
                code="validation_error",
                details={"agent": ["Only with the kind agent_executions."]},
            )
    report = Report.objects.create(
        account=account, requested_by=actor.user, kind=kind, agent=agent, date_from=date_from, date_to=date_to
    )
    metadata: dict[str, Any] = {"kind": kind, "date_from": date_from.isoformat(), "date_to": date_to.isoformat()}
    if agent is not None:
        metadata["agent"] = agent.pk
    audit_log_record(
        action="report.requested", actor=actor, account=account, target=report, context=context, metadata=metadata
    )
    after_commit(generate_report.delay, report.pk)
    return report


def report_download_url(report: Report) -> str:
    return f"{settings.SITE_URL}/api/v1/reports/{report.pk}/download"


def report_generate(*, report: Report) -> Report:
    """Write the report's CSV to the default storage and email the requester; a failure marks it failed."""
    claimed = Report.objects.filter(pk=report.pk, status__in=[ReportStatus.PENDING, ReportStatus.RUNNING]).update(
        status=ReportStatus.RUNNING, updated_at=timezone.now()
    )
    if not claimed:
        return report  # already ready or failed: a redelivered job does nothing
    report.status = ReportStatus.RUNNING
    try:
        header, rows = _rows(report)
        with tempfile.TemporaryFile(mode="w+", newline="", encoding="utf-8") as buffer:
            writer = csv.writer(buffer)
            writer.writerow(header)
            count = 0
            for row in rows:
                writer.writerow([_cell(value) for value in row])
                count += 1
            buffer.seek(0)
            name = f"{report.kind}-{report.pk}-{secrets.token_hex(6)}.csv"
            report.file.save(name, File(buffer), save=False)
    except Exception as exc:
        logger.exception("report_failed", report_id=report.pk, kind=report.kind)
        report.status = ReportStatus.FAILED
        report.error = f"The report could not be written ({type(exc).__name__})."
        report.finished_at = timezone.now()
        report.save(update_fields=["status", "error", "finished_at", "updated_at"])
        return report
    report.status = ReportStatus.READY
    report.rows = count
    report.finished_at = timezone.now()
    report.save(update_fields=["status", "rows", "file", "finished_at", "updated_at"])
    _email_requester(report)
    return report


def _rows(report: Report) -> tuple[list[str], Iterable[Iterable[Any]]]:
    if report.kind == ReportKind.AGENT_EXECUTIONS:
        executions = AgentExecution.objects.filter(
            account_id=report.account_id, started_at__gte=report.date_from, started_at__lt=report.date_to
        )
        if report.agent_id is not None:
            executions = executions.filter(agent_id=report.agent_id)
        rows = executions.order_by("started_at", "id").values_list(
            "id",
            "agent_id",
            "agent__name",
            "external_id",
            "status",
            "started_at",
            "finished_at",
            "duration_ms",
            "conversation_id",
            "error",
        )
        return EXECUTION_COLUMNS, rows.iterator(chunk_size=ROWS_PER_FETCH)
    if report.kind == ReportKind.CONVERSATIONS:
        conversations = (
            Conversation.objects.filter(
                account_id=report.account_id, created_at__gte=report.date_from, created_at__lt=report.date_to
            )
            .order_by("created_at", "id")
            .values_list(
                "id",
                "channel__display_phone_number",
                "contact__name",
                "contact__wa_id",
                "status",
                "priority",
                "assignee__email",
                "agent_id",
                "created_at",
                "last_message_at",
            )
        )
        return CONVERSATION_COLUMNS, conversations.iterator(chunk_size=ROWS_PER_FETCH)
    raise ValueError(f"Unknown report kind {report.kind!r}")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, str):
        return csv_safe(value)
    return value


def _email_requester(report: Report) -> None:
    user = report.requested_by
    if user is None or not user.email:
        return
    kind = ReportKind(report.kind).label.lower()
    of_agent = f" of {report.agent.name}" if report.agent_id is not None and report.agent is not None else ""
    send_mail(
        subject=f"Your {kind} report is ready",
        message=(
            f"The {kind} report{of_agent} you asked for ({report.date_from:%Y-%m-%d %H:%M} to "
            f"{report.date_to:%Y-%m-%d %H:%M} UTC, {report.rows} rows) is ready.\n\n"
            f"Download it (signed in): {report_download_url(report)}\n"
        ),
        from_email=None,
        recipient_list=[user.email],
    )
