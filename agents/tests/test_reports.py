"""Report exports: request (202), the job writing the CSV, the email, status and download."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from rest_framework.test import APIClient

from accounts.models import Account, AuditLog, User
from agents.models import Agent, Report, ReportKind, ReportStatus
from agents.tasks import generate_report
from agents.tests.factories import AgentExecutionFactory, AgentFactory
from inbox.models import Conversation, ConversationStatus
from inbox.tests.factories import ConversationFactory

BODY = {"kind": "agent_executions", "date_from": "2026-03-01T00:00:00Z", "date_to": "2026-03-02T00:00:00Z"}


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path
    settings.SITE_URL = "https://inbox.example.test"


@pytest.fixture
def agent(account: Account) -> Agent:
    return AgentFactory(account=account, name="Support triage")


@pytest.fixture
def executions(agent: Agent, other_account: Account) -> list[Any]:
    """Two executions in the range (one with a formula-looking error), one outside, one of another tenant."""
    second = AgentExecutionFactory(
        agent=agent,
        external_id="run-2",
        status="failed",
        started_at=datetime(2026, 3, 1, 15, 0, tzinfo=UTC),
        duration_ms=300,
        error='=HYPERLINK("x"), then, a comma',
    )
    first = AgentExecutionFactory(
        agent=agent, external_id="run-1", started_at=datetime(2026, 3, 1, 9, 0, tzinfo=UTC), duration_ms=1500
    )
    AgentExecutionFactory(agent=agent, external_id="run-3", started_at=datetime(2026, 3, 2, 0, 0, tzinfo=UTC))
    AgentExecutionFactory(
        agent=AgentFactory(account=other_account, template=agent.template),
        started_at=datetime(2026, 3, 1, 10, 0, tzinfo=UTC),
    )
    return [first, second]


def read(report: Report) -> str:
    with report.file.open("rb") as handle:
        return handle.read().decode()


def test_executions_report_is_written_emailed_and_downloadable(
    executions: list[Any],
    agent: Agent,
    member: User,
    client_for: Callable[[User], APIClient],
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given a USER of the tenant
    client = client_for(member)

    # when they ask for the executions of 1 March
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/reports", BODY, format="json")

    # then 202 with the id; the job wrote exactly the tenant's executions of that day, oldest first
    assert response.status_code == 202, response.content
    report = Report.objects.get(pk=response.json()["id"])
    assert response.json()["status"] in (ReportStatus.PENDING, ReportStatus.READY)
    assert report.status == ReportStatus.READY
    assert report.rows == 2
    assert report.requested_by == member
    assert report.finished_at is not None
    first, second = executions
    assert read(report) == (
        "id,agent_id,agent_name,external_id,status,started_at,finished_at,duration_ms,conversation_id,error\r\n"
        f"{first.pk},{agent.pk},Support triage,run-1,succeeded,2026-03-01T09:00:00+00:00,"
        "2026-03-01T09:00:01.500000+00:00,1500,,\r\n"
        f"{second.pk},{agent.pk},Support triage,run-2,failed,2026-03-01T15:00:00+00:00,"
        '2026-03-01T15:00:00.300000+00:00,300,,"\'=HYPERLINK(""x""), then, a comma"\r\n'
    )
    # and the requester got the link by email
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["user@acme.test"]
    assert f"https://inbox.example.test/api/v1/reports/{report.pk}/download" in mail.outbox[0].body
    # and it was audited
    audit = AuditLog.objects.get(action="report.requested")
    assert audit.account_id == report.account_id
    assert audit.target_id == str(report.pk)
    assert audit.metadata["kind"] == "agent_executions"

    # when they read its status and download it
    detail = client.get(f"/api/v1/reports/{report.pk}")
    download = client.get(f"/api/v1/reports/{report.pk}/download")

    # then the status carries the link and the download streams the same CSV
    assert detail.status_code == 200
    assert detail.json()["status"] == "ready"
    assert detail.json()["rows"] == 2
    assert detail.json()["download_url"] == f"https://inbox.example.test/api/v1/reports/{report.pk}/download"
    assert download.status_code == 200
    assert download["Content-Type"] == "text/csv"
    assert download["Content-Disposition"] == 'attachment; filename="agent_executions-20260301-20260302.csv"'
    assert b"".join(download.streaming_content).decode() == read(report)


def test_conversations_report(
    account: Account,
    client_admin: User,
    client_for: Callable[[User], APIClient],
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given two conversations of the tenant, one created inside the range
    inside = ConversationFactory(account=account, status=ConversationStatus.OPEN, assignee=client_admin)
    outside = ConversationFactory(account=account, channel=inside.channel)
    Conversation.objects.filter(pk=inside.pk).update(created_at=datetime(2026, 3, 1, 8, 0, tzinfo=UTC))
    Conversation.objects.filter(pk=outside.pk).update(created_at=datetime(2026, 2, 1, 8, 0, tzinfo=UTC))

    # when a conversations report is asked for
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(client_admin).post(
            "/api/v1/reports", {**BODY, "kind": "conversations", "format": "csv"}, format="json"
        )

    # then it holds the one conversation
    assert response.status_code == 202, response.content
    report = Report.objects.get(pk=response.json()["id"])
    assert report.status == ReportStatus.READY
    assert report.rows == 1
    contact = inside.contact
    assert read(report) == (
        "id,channel,contact_name,contact_wa_id,status,priority,assignee,agent_id,created_at,last_message_at\r\n"
        f"{inside.pk},{inside.channel.display_phone_number},{contact.name},{contact.wa_id},open,normal,"
        "admin@acme.test,,2026-03-01T08:00:00+00:00,\r\n"
    )


def test_report_failure_marks_it_failed_without_email(account: Account, member: User) -> None:
    # given a report of a kind the writer does not know (a row from an older release)
    report = Report.objects.create(
        account=account,
        requested_by=member,
        kind="legacy_kind",
        date_from=datetime(2026, 3, 1, tzinfo=UTC),
        date_to=datetime(2026, 3, 2, tzinfo=UTC),
    )

    # when the job runs
    generate_report(report.pk)

    # then the report failed with a safe message and nobody was emailed
    report.refresh_from_db()
    assert report.status == ReportStatus.FAILED
    assert report.error == "The report could not be written (ValueError)."
    assert report.finished_at is not None
    assert not report.file
    assert mail.outbox == []


def test_a_second_run_of_the_job_changes_nothing(
    executions: list[Any],
    member: User,
    client_for: Callable[[User], APIClient],
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given a ready report
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(member).post("/api/v1/reports", BODY, format="json")
    report = Report.objects.get(pk=response.json()["id"])
    name = report.file.name

    # when the job is delivered again
    generate_report(report.pk)

    # then the file and the email are not written twice
    report.refresh_from_db()
    assert report.file.name == name
    assert len(mail.outbox) == 1


def test_download_before_ready_is_409(account: Account, viewer: User, client_for: Callable[[User], APIClient]) -> None:
    # given a pending report
    report = Report.objects.create(
        account=account,
        kind=ReportKind.CONVERSATIONS,
        date_from=datetime(2026, 3, 1, tzinfo=UTC),
        date_to=datetime(2026, 3, 2, tzinfo=UTC),
    )

    # when a viewer reads and downloads it
    client = client_for(viewer)
    detail = client.get(f"/api/v1/reports/{report.pk}")
    download = client.get(f"/api/v1/reports/{report.pk}/download")

    # then the status has no link and the download is refused
    assert detail.json()["status"] == "pending"
    assert detail.json()["download_url"] is None
    assert download.status_code == 409
    assert download.json()["code"] == "report_not_ready"


def test_other_tenants_report_is_404(
    executions: list[Any],
    member: User,
    other_admin: User,
    client_for: Callable[[User], APIClient],
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given a ready report of our tenant
    with django_capture_on_commit_callbacks(execute=True):
        report_id = client_for(member).post("/api/v1/reports", BODY, format="json").json()["id"]

    # when another tenant's administrator asks for it
    other = client_for(other_admin)
    detail = other.get(f"/api/v1/reports/{report_id}")
    download = other.get(f"/api/v1/reports/{report_id}/download")
    missing = other.get("/api/v1/reports/999999")

    # then it does not exist for them
    assert detail.status_code == download.status_code == 404
    assert detail.json() == missing.json()


def test_viewer_may_not_request_a_report(viewer: User, client_for: Callable[[User], APIClient]) -> None:
    # when a VIEWER asks for a report
    response = client_for(viewer).post("/api/v1/reports", BODY, format="json")

    # then 403 and nothing is recorded
    assert response.status_code == 403
    assert not Report.objects.exists()
    assert not AuditLog.objects.filter(action="report.requested").exists()


def test_read_key_may_not_request_a_report_but_write_key_may(
    account: Account, key_client_for: Callable[..., APIClient], django_capture_on_commit_callbacks: Any
) -> None:
    # when a read key and a write key ask for a report
    refused = key_client_for(account, ["read"]).post("/api/v1/reports", BODY, format="json")
    with django_capture_on_commit_callbacks(execute=True):
        accepted = key_client_for(account, ["write"]).post("/api/v1/reports", BODY, format="json")

    # then only the write key succeeds; with no person behind it nobody is emailed
    assert refused.status_code == 403
    assert accepted.status_code == 202
    report = Report.objects.get()
    assert report.requested_by is None
    assert report.status == ReportStatus.READY
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**BODY, "kind": "invoices"}, "kind"),
        ({**BODY, "format": "xlsx"}, "format"),
        ({**BODY, "date_from": "soon"}, "date_from"),
        ({**BODY, "date_from": "2026-03-02T00:00:00Z"}, "date_from"),
        ({**BODY, "date_from": "2025-01-01T00:00:00Z"}, "date_to"),
        ({**BODY, "account": 1}, "account"),
        ({**BODY, "colour": "blue"}, "colour"),
        ({"kind": "conversations"}, "date_from"),
    ],
)
def test_bad_input_is_400_and_records_nothing(
    member: User, client_for: Callable[[User], APIClient], body: dict[str, Any], field: str
) -> None:
    # when the request is invalid
    response = client_for(member).post("/api/v1/reports", body, format="json")

    # then 400 names the field and nothing is recorded
    assert response.status_code == 400, response.content
    assert field in response.json()["details"]
    assert not Report.objects.exists()
    assert not AuditLog.objects.filter(action="report.requested").exists()


def test_platform_staff_name_the_tenant(
    account: Account,
    super_admin: User,
    client_for: Callable[[User], APIClient],
    django_capture_on_commit_callbacks: Any,
) -> None:
    # when staff ask for a report of a named tenant
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(super_admin).post("/api/v1/reports", {**BODY, "account": account.pk}, format="json")

    # then the report belongs to that tenant
    assert response.status_code == 202, response.content
    assert Report.objects.get().account == account


# --- one agent's executions ---------------------------------------------------------------------------


def test_an_agent_executions_report_of_one_agent_holds_only_its_executions(
    executions: list[Any],
    agent: Agent,
    account: Account,
    member: User,
    client_for: Callable[[User], APIClient],
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given another agent of the tenant with an execution the same day
    sibling = AgentFactory(account=account, template=agent.template, name="Sales desk")
    AgentExecutionFactory(agent=sibling, external_id="sibling-run", started_at=datetime(2026, 3, 1, 12, 0, tzinfo=UTC))

    # when a USER asks for the first agent's executions of that day
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(member).post("/api/v1/reports", {**BODY, "agent": agent.pk}, format="json")

    # then the report names the agent and holds its two runs, not its sibling's
    assert response.status_code == 202, response.content
    assert response.json()["agent"] == agent.pk
    report = Report.objects.get(pk=response.json()["id"])
    lines = read(report).splitlines()
    assert [line.split(",")[3] for line in lines[1:]] == ["run-1", "run-2"]
    assert AuditLog.objects.get(action="report.requested").metadata["agent"] == agent.pk
    assert "of Support triage" in mail.outbox[0].body


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"kind": "conversations"}, "agent", "Only with the kind agent_executions."),
        ({"agent": 0}, "agent", "Ensure this value is greater than or equal to 1."),
    ],
)
def test_a_bad_agent_for_a_report_is_a_400_and_records_nothing(
    agent: Agent,
    member: User,
    client_for: Callable[[User], APIClient],
    body: dict[str, Any],
    field: str,
    message: str,
) -> None:
    response = client_for(member).post("/api/v1/reports", {**BODY, "agent": agent.pk, **body}, format="json")

    assert response.status_code == 400
    assert response.json()["details"][field] == [message]
    assert not Report.objects.exists()


def test_another_tenants_agent_is_no_agent_for_a_report(
    other_account: Account, member: User, client_for: Callable[[User], APIClient]
) -> None:
    theirs = AgentFactory(account=other_account)

    response = client_for(member).post("/api/v1/reports", {**BODY, "agent": theirs.pk}, format="json")

    assert response.status_code == 400
    assert response.json()["details"] == {"agent": ["No such agent."]}
    assert not Report.objects.exists()
