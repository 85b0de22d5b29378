"""`GET /api/v1/agents/{id}/executions`: an agent's runs, newest first, filtered, paged, walled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import Account, User
from agents.models import AgentStatus, ExecutionStatus
from agents.tests.factories import AgentExecutionFactory, AgentFactory
from inbox.tests.factories import ConversationFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 5, 14, 9, 0, tzinfo=UTC)


@pytest.fixture
def agent(account: Account) -> Any:
    return AgentFactory(account=account, status=AgentStatus.ACTIVE, skybot_workflow_id="wf_1")


def url(agent: Any) -> str:
    return f"/api/v1/agents/{agent.pk}/executions"


def test_lists_the_agents_runs_newest_first_in_the_webhook_shape(client_for: Any, viewer: User, agent: Any) -> None:
    # given three runs of the agent, one failed on a conversation, and a run of another agent
    conversation = ConversationFactory(account=agent.account)
    old = AgentExecutionFactory(agent=agent, started_at=T0, input_summary="Olá")
    failed = AgentExecutionFactory(
        agent=agent,
        started_at=T0 + timedelta(minutes=1),
        status=ExecutionStatus.FAILED,
        error="Runner timed out",
        conversation=conversation,
    )
    running = AgentExecutionFactory(
        agent=agent, started_at=T0 + timedelta(minutes=2), status=ExecutionStatus.RUNNING, finished_at=None
    )
    AgentExecutionFactory(agent=AgentFactory(account=agent.account), started_at=T0)

    # when a VIEWER lists them
    response = client_for(viewer).get(url(agent))

    # then the agent's three, newest first, with what the runner reported
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [row["id"] for row in results] == [running.pk, failed.pk, old.pk]
    assert results[1] == {
        "id": failed.pk,
        "agent": agent.pk,
        "external_id": failed.external_id,
        "status": "failed",
        "started_at": "2026-05-14T09:01:00Z",
        "finished_at": "2026-05-14T09:01:01.200000Z",
        "duration_ms": 1200,
        "input_summary": "",
        "output_summary": "",
        "error": "Runner timed out",
        "conversation": conversation.pk,
        "message": None,
    }
    assert results[0]["finished_at"] is None


def test_filters_by_status_and_start_time(client_for: Any, viewer: User, agent: Any) -> None:
    runs = [
        AgentExecutionFactory(agent=agent, started_at=T0 + timedelta(hours=hour), status=status)
        for hour, status in enumerate([ExecutionStatus.SUCCEEDED, ExecutionStatus.FAILED, ExecutionStatus.FAILED])
    ]
    client = client_for(viewer)

    def ids(query: str) -> list[int]:
        response = client.get(f"{url(agent)}?{query}")
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids("status=failed") == [runs[2].pk, runs[1].pk]
    assert ids("since=2026-05-14T10:00:00Z") == [runs[2].pk, runs[1].pk]
    assert ids("until=2026-05-14T10:00:00Z") == [runs[0].pk]
    assert ids("status=failed&since=2026-05-14T09:30:00%2B00:00&until=2026-05-14T11:00:00Z") == [runs[1].pk]


@pytest.mark.parametrize(
    ("query", "field"),
    [("status=lost", "status"), ("since=yesterday", "since"), ("until=99999-01-01", "until"), ("cursor=x", "cursor")],
)
def test_bad_filters_are_a_400_naming_the_parameter(
    client_for: Any, viewer: User, agent: Any, query: str, field: str
) -> None:
    response = client_for(viewer).get(f"{url(agent)}?{query}")
    assert response.status_code == 400
    assert field in response.json()["details"]


def test_pages_follow_each_other_without_gaps_or_repeats(client_for: Any, viewer: User, agent: Any) -> None:
    # given 7 runs, two of them started at the same instant
    made = [AgentExecutionFactory(agent=agent, started_at=T0 + timedelta(minutes=i)) for i in range(6)]
    made.append(AgentExecutionFactory(agent=agent, started_at=T0 + timedelta(minutes=5)))
    client = client_for(viewer)

    # when they are read 3 at a time
    seen: list[int] = []
    next_url: str | None = f"{url(agent)}?page_size=3"
    while next_url:
        page = client.get(next_url).json()
        seen += [row["id"] for row in page["results"]]
        next_url = page["next"]

    # then each once
    assert sorted(seen) == sorted(run.pk for run in made)
    assert len(seen) == 7


def test_query_count_does_not_grow_with_the_page(
    client_for: Any, viewer: User, agent: Any, django_assert_max_num_queries: Any
) -> None:
    for minute in range(60):
        AgentExecutionFactory(agent=agent, started_at=T0 + timedelta(minutes=minute))
    client = client_for(viewer)
    client.get(url(agent))  # warm the person's session caches
    # person + agent (with its channels) + the page
    with django_assert_max_num_queries(4):
        response = client.get(f"{url(agent)}?page_size=50")
    assert len(response.json()["results"]) == 50


def test_another_tenants_agent_is_a_404(client_for: Any, other_admin: User, agent: Any) -> None:
    AgentExecutionFactory(agent=agent)
    response = client_for(other_admin).get(url(agent))
    assert response.status_code == 404
    assert "results" not in response.json()


def test_a_deleted_agent_is_a_404(client_for: Any, viewer: User, agent: Any) -> None:
    AgentExecutionFactory(agent=agent)
    agent.status = AgentStatus.DELETED
    agent.save(update_fields=["status"])
    assert client_for(viewer).get(url(agent)).status_code == 404


def test_a_read_key_may_list_and_anonymous_callers_may_not(
    key_client_for: Any, api_client: APIClient, account: Account, agent: Any
) -> None:
    AgentExecutionFactory(agent=agent)
    assert len(key_client_for(account, ["read"]).get(url(agent)).json()["results"]) == 1
    assert api_client.get(url(agent)).status_code == 401


def test_a_disabled_tenant_reads_nothing(client_for: Any, key_client_for: Any, viewer: User, agent: Any) -> None:
    AgentExecutionFactory(agent=agent)
    key_client = key_client_for(agent.account, ["read"])
    person_client = client_for(viewer)
    agent.account.is_active = False
    agent.account.save(update_fields=["is_active"])
    assert key_client.get(url(agent)).status_code == 401
    assert person_client.get(url(agent)).status_code == 401


def test_writing_is_not_a_method_here(client_for: Any, client_admin: User, agent: Any) -> None:
    assert client_for(client_admin).post(url(agent), {}, format="json").status_code == 405
