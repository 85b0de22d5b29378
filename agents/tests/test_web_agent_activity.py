"""An agent's page: the analytics panel with its chart, the executions log, the CSV report export,
and the demo data that fills them."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Account, User
from accounts.tests.factories import AccountFactory
from agents.demo import DEMO_EXECUTIONS, seed_demo
from agents.models import Agent, AgentExecution, AgentStatus, Report, ReportStatus
from agents.tests.factories import AgentExecutionFactory, AgentFactory
from core.tests.html import assert_no_inline_code

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def agent(account: Account) -> Agent:
    return AgentFactory(account=account, name="Support desk", status=AgentStatus.ACTIVE, skybot_workflow_id="wf-1")


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def html(response: Any) -> str:
    return response.content.decode()


def days_ago(days: int, hour: int = 12) -> datetime:
    return (timezone.now() - timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)


# --- analytics ----------------------------------------------------------------------------------------


def test_the_agent_page_draws_a_week_of_executions_with_its_figures(agent: Agent, viewer: User) -> None:
    # given executions on two days of the last week: 3 succeeded (1, 2 and 3 s) and 1 failed
    for day, status, ms in ((2, "succeeded", 1000), (2, "succeeded", 2000), (2, "failed", 400), (5, "succeeded", 3000)):
        AgentExecutionFactory(agent=agent, status=status, started_at=days_ago(day), duration_ms=ms)
    AgentExecutionFactory(agent=agent, started_at=days_ago(30))  # outside the default week

    # when a viewer opens the agent's page
    response = signed_in(viewer).get(f"/agents/{agent.pk}/")

    # then totals, success rate and durations of the week, and one bar per day drawn in SVG
    assert response.status_code == 200
    assert_no_inline_code(response)
    page = html(response)
    assert '<div class="value" id="stat-total">4</div>' in page
    assert '<div class="value" id="stat-success">75.0%</div>' in page
    assert "1.5 s" in page  # p50 of 400, 1000, 2000, 3000 ms
    svg = re.search(r'<svg class="chart-svg".*?</svg>', page, re.S)
    assert svg is not None
    bars = re.findall(r'<g class="bar"><title>([^<]+)</title>(.*?)</g>', svg[0])
    assert len(bars) in (7, 8)  # the days the week touches
    drawn = {title.split(":")[0]: body for title, body in bars if "0 executions" not in title}
    assert len(drawn) == 2
    busy = next(body for title, body in bars if title.endswith("3 executions, 2 succeeded, 1 failed"))
    assert busy.count('<rect class="ok"') == 1
    assert busy.count('<rect class="bad"') == 1
    assert ">4</text>" in svg[0]  # the y axis reaches the busiest day
    assert "Show as a table" in page


def test_the_period_and_interval_can_be_chosen(agent: Agent, viewer: User) -> None:
    AgentExecutionFactory(agent=agent, started_at=timezone.now() - timedelta(hours=3))
    AgentExecutionFactory(agent=agent, started_at=days_ago(3))
    client = signed_in(viewer)

    # the last 24 hours come per hour by default
    response = client.get(f"/agents/{agent.pk}/analytics/", {"range": "24h"}, **HTMX)
    assert response.status_code == 200
    assert response["HX-Push-Url"] == f"/agents/{agent.pk}/?range=24h"
    page = html(response)
    assert '<div class="value" id="stat-total">1</div>' in page
    assert 24 <= page.count('<g class="bar">') <= 25
    assert "<html" not in page

    # thirty days per hour is allowed (at most 31), per day by default
    assert html(client.get(f"/agents/{agent.pk}/analytics/", {"range": "30d", "interval": "hour"}, **HTMX)).count(
        '<g class="bar">'
    ) in (720, 721)
    page = html(client.get(f"/agents/{agent.pk}/?range=30d"))
    assert '<option value="30d" selected>Last 30 days</option>' in page
    assert '<div class="value" id="stat-total">2</div>' in page

    # without htmx the analytics address leads to the agent's page with the same period
    plain = client.get(f"/agents/{agent.pk}/analytics/", {"range": "24h"})
    assert (plain.status_code, plain["Location"]) == (302, f"/agents/{agent.pk}/?range=24h")


@pytest.mark.parametrize("query", [{"range": "1y"}, {"interval": "minute"}])
def test_a_period_not_offered_is_a_400(query: dict[str, str], agent: Agent, viewer: User) -> None:
    client = signed_in(viewer)

    partial = client.get(f"/agents/{agent.pk}/analytics/", query, **HTMX)
    page = client.get(f"/agents/{agent.pk}/", query)

    assert partial.status_code == 400
    assert "That period cannot be shown." in html(partial)
    assert "Select a valid choice" in html(partial)
    assert page.status_code == 400


def test_an_agent_without_executions_says_what_to_expect(agent: Agent, viewer: User) -> None:
    page = html(signed_in(viewer).get(f"/agents/{agent.pk}/"))

    assert "No executions in this period" in page
    assert "No executions yet" in page
    assert "<svg" not in page
    assert '<div class="value" id="stat-success">—</div>' in page


# --- executions log ------------------------------------------------------------------------------------


def test_the_executions_log_pages_back_from_the_newest(agent: Agent, viewer: User) -> None:
    # given 25 executions a minute apart, the newest a failure
    start = timezone.now() - timedelta(hours=1)
    for minute in range(24):
        AgentExecutionFactory(agent=agent, external_id=f"run-{minute:02}", started_at=start + timedelta(minutes=minute))
    AgentExecutionFactory(
        agent=agent, external_id="run-24", status="failed", error="Upstream API answered 502", started_at=timezone.now()
    )
    client = signed_in(viewer)

    # when the agent's page is opened
    page = html(client.get(f"/agents/{agent.pk}/"))

    # then the newest 20, newest first, live, with a link to older ones
    shown = re.findall(r'<tr data-execution="([^"]+)">', page)
    assert shown == [f"run-{n:02}" for n in range(24, 4, -1)]
    assert "Upstream API answered 502" in page
    assert f'data-live-events="execution.started execution.finished" data-live-agent="{agent.pk}"' in page
    older = re.search(rf'href="(/agents/{agent.pk}/executions/\?before=\d+)">Older executions', page)
    assert older is not None

    # and the older page has the 5 others and no further link
    response = client.get(older[1])
    assert response.status_code == 200
    assert_no_inline_code(response)
    assert re.findall(r'<tr data-execution="([^"]+)">', html(response)) == [f"run-{n:02}" for n in range(4, -1, -1)]
    assert "Older executions" not in html(response)


def test_an_execution_cursor_of_another_agent_or_nonsense_is_a_400(
    agent: Agent, account: Account, viewer: User
) -> None:
    elsewhere = AgentExecutionFactory(agent=AgentFactory(account=account))
    client = signed_in(viewer)

    for before in (str(elsewhere.pk), "abc", "99999999999999999999"):
        response = client.get(f"/agents/{agent.pk}/executions/", {"before": before}, **HTMX)
        assert response.status_code == 400, before


def test_the_executions_log_query_count_does_not_grow_with_rows(
    agent: Agent, viewer: User, django_assert_num_queries: Any
) -> None:
    client = signed_in(viewer)
    client.get(f"/agents/{agent.pk}/executions/", **HTMX)
    AgentExecutionFactory.create_batch(3, agent=agent)
    with django_assert_num_queries(6) as few:
        client.get(f"/agents/{agent.pk}/executions/", **HTMX)
    AgentExecutionFactory.create_batch(30, agent=agent)
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(f"/agents/{agent.pk}/executions/", **HTMX)
    assert html(response).count("<tr data-execution=") == 20


# --- report export ------------------------------------------------------------------------------------


def test_exporting_shows_progress_then_a_download_of_the_csv(
    agent: Agent, account: Account, member: User, django_capture_on_commit_callbacks: Any
) -> None:
    # given two executions in the last day and one of another tenant
    AgentExecutionFactory(agent=agent, external_id="run-a", started_at=timezone.now() - timedelta(hours=2))
    AgentExecutionFactory(agent=agent, external_id="run-b", started_at=timezone.now() - timedelta(hours=1))
    AgentExecutionFactory(agent=AgentFactory(account=AccountFactory()), started_at=timezone.now())
    client = signed_in(member)

    # when a USER asks for the CSV of the last 24 hours
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/agents/{agent.pk}/reports/", {"range": "24h"}, **HTMX)

    # then the answer polls the report's status every second
    assert response.status_code == 200
    report = Report.objects.get(account=account)
    assert report.date_to - report.date_from == timedelta(hours=24)
    assert report.requested_by == member
    assert f'hx-get="/agents/reports/{report.pk}/" hx-trigger="every 1s"' in html(response)
    assert "Preparing your report" in html(response)

    # and once the job has written it, the status offers the download, which is the CSV
    status = client.get(f"/agents/reports/{report.pk}/", **HTMX)
    assert "every 1s" not in html(status)
    assert "Your report is ready: 2 rows." in html(status)
    link = re.search(r'href="([^"]+)" download>Download CSV', html(status))
    assert link is not None
    download = client.get(link[1])
    assert download.status_code == 200
    lines = b"".join(download.streaming_content).decode().splitlines()
    assert (
        lines[0] == "id,agent_id,agent_name,external_id,status,started_at,finished_at,duration_ms,conversation_id,error"
    )
    assert [line.split(",")[3] for line in lines[1:]] == ["run-a", "run-b"]


def test_exporting_from_an_agents_page_exports_only_that_agents_executions(
    agent: Agent, account: Account, member: User, django_capture_on_commit_callbacks: Any
) -> None:
    # given an execution of this agent and one of another agent of the same tenant
    AgentExecutionFactory(agent=agent, external_id="mine", started_at=timezone.now() - timedelta(hours=2))
    sibling = AgentFactory(account=account, name="Sales desk")
    AgentExecutionFactory(agent=sibling, external_id="sibling", started_at=timezone.now() - timedelta(hours=1))
    client = signed_in(member)

    # when the USER exports from this agent's page (which says what it exports)
    assert "This agent's executions" in html(client.get(f"/agents/{agent.pk}/analytics/", **HTMX))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/agents/{agent.pk}/reports/", {"range": "24h"}, **HTMX)

    # then the CSV holds this agent's execution only
    report = Report.objects.get(account=account)
    assert report.agent == agent
    with report.file.open("rb") as handle:
        lines = handle.read().decode().splitlines()
    assert [line.split(",")[3] for line in lines[1:]] == ["mine"]


def test_a_report_still_being_written_keeps_polling(account: Account, viewer: User) -> None:
    report = Report.objects.create(
        account=account,
        kind="agent_executions",
        date_from=timezone.now() - timedelta(days=1),
        date_to=timezone.now(),
        status=ReportStatus.RUNNING,
    )

    page = html(signed_in(viewer).get(f"/agents/reports/{report.pk}/", **HTMX))

    assert 'hx-trigger="every 1s"' in page
    assert "(running)" in page


def test_a_viewer_may_not_export_and_sees_no_export_button(agent: Agent, viewer: User) -> None:
    client = signed_in(viewer)

    assert "Export executions" not in html(client.get(f"/agents/{agent.pk}/"))
    assert client.post(f"/agents/{agent.pk}/reports/", {"range": "7d"}).status_code == 403
    assert not Report.objects.exists()


def test_an_export_of_a_period_not_offered_is_a_400_and_records_nothing(agent: Agent, member: User) -> None:
    response = signed_in(member).post(f"/agents/{agent.pk}/reports/", {"range": "5y"}, **HTMX)

    assert response.status_code == 400
    assert "That period cannot be exported." in html(response)
    assert not Report.objects.exists()


def test_another_tenants_report_is_404(other_account: Account, viewer: User, agent: Agent) -> None:
    report = Report.objects.create(
        account=other_account, kind="agent_executions", date_from=timezone.now(), date_to=timezone.now()
    )
    other_agent = AgentFactory(account=other_account)
    client = signed_in(viewer)

    assert client.get(f"/agents/reports/{report.pk}/", **HTMX).status_code == 404
    member_client = Client()
    member_client.force_login(User.objects.create_user(email="m@acme.test", account=agent.account, role="USER"))
    assert member_client.post(f"/agents/{other_agent.pk}/reports/", {"range": "7d"}).status_code == 404


# --- demo data ------------------------------------------------------------------------------------------

SEED_MAX_QUERIES = 100  # 87 today for 320 executions (the roll-up a day at a time); one per row would be 320+


def test_the_demo_seed_is_set_based_idempotent_and_fills_the_analytics(
    viewer: User, settings: Any, django_assert_max_num_queries: Any
) -> None:
    settings.SKYBOT_API_URL = "http://127.0.0.1:9"  # runner agents are seeded only for a server with a runner
    account = viewer.account
    out = io.StringIO()

    # a week of executions in a bounded number of statements, not one per row
    with django_assert_max_num_queries(SEED_MAX_QUERIES):
        seed_demo(account, stdout=out)
    seed_demo(account, stdout=out)

    agents = {agent.name: agent for agent in Agent.objects.filter(account=account)}
    assert set(agents) == {"Support desk", "Sales assistant"}
    assert agents["Support desk"].status == AgentStatus.ACTIVE
    assert agents["Sales assistant"].status == AgentStatus.DRAFT
    assert AgentExecution.objects.filter(account=account).count() == DEMO_EXECUTIONS
    assert AgentExecution.objects.filter(started_at__lt=timezone.now() - timedelta(days=7, minutes=1)).count() == 0
    page = html(signed_in(viewer).get(f"/agents/{agents['Support desk'].pk}/"))
    assert f'id="stat-total">{DEMO_EXECUTIONS}<' in page
    assert page.count('<rect class="ok"') >= 7


def test_the_chart_labels_times_in_utc(agent: Agent, viewer: User) -> None:
    AgentExecutionFactory(agent=agent, started_at=datetime.now(UTC) - timedelta(hours=1))
    page = html(signed_in(viewer).get(f"/agents/{agent.pk}/", {"range": "24h"}))
    assert "Times in UTC." in page
    assert re.search(r'<text class="axis" x="[\d.]+" y="232" text-anchor="middle">\d\d:00</text>', page)
