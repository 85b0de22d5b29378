"""The `/ws/agents/` live feed: authentication, the tenant's own execution and status events only,
and the open-socket gauge."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from prometheus_client import REGISTRY

from accounts.services.auth import auth_tokens_issue
from agents.models import AgentStatus
from agents.tests.factories import AgentFactory
from agents.tests.runner_events import SECRET, event, execution_event, post
from skybot_inbox.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = [(b"origin", b"http://testserver")]


@pytest.fixture(autouse=True)
def _runner_secret(settings: Any) -> None:
    settings.SKYBOT_WEBHOOK_SECRET = SECRET


@pytest.fixture
def agent(account):
    return AgentFactory(account=account, status=AgentStatus.ACTIVE, skybot_workflow_id="wf_feed_1")


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    async_to_sync(scenario)()


async def connect(path: str) -> tuple[WebsocketCommunicator, dict[str, Any]]:
    communicator = WebsocketCommunicator(application, path, headers=ORIGIN)
    connected, _ = await communicator.connect()
    assert connected
    return communicator, await communicator.receive_output(timeout=5)


def token_for(user: Any) -> str:
    return auth_tokens_issue(user=user).access


def open_agents_sockets() -> float:
    return REGISTRY.get_sample_value("skybot_websocket_open", {"feed": "agents"}) or 0.0


def test_unauthenticated_socket_is_closed_4401():
    async def scenario() -> None:
        _, first = await connect("/ws/agents/")
        assert first == {"type": "websocket.close", "code": 4401}

    run(scenario)


def test_executions_reach_only_the_tenants_sockets(agent, member, other_admin):
    mine_token, theirs_token = token_for(member), token_for(other_admin)

    async def scenario() -> None:
        # given a socket of the agent's tenant and one of another tenant
        mine, ready = await connect(f"/ws/agents/?token={mine_token}")
        assert '"feed": "agents"' in ready["text"]
        theirs, _ = await connect(f"/ws/agents/?token={theirs_token}")

        # when the runner reports an execution starting, then succeeding
        started = execution_event(agent, "execution.started", started_at="2025-01-01T12:00:00Z", input_summary="Hi")
        finished = execution_event(agent, "execution.succeeded", finished_at="2025-01-01T12:00:01.200Z")
        assert (await sync_to_async(post)(started)).status_code == 200
        assert (await sync_to_async(post)(finished)).status_code == 200

        # then the tenant sees both, and the other tenant nothing
        first = await mine.receive_json_from(timeout=5)
        second = await mine.receive_json_from(timeout=5)
        assert [first["event"], second["event"]] == ["execution.started", "execution.finished"]
        assert (first["data"]["agent"], first["data"]["status"]) == (agent.pk, "running")
        assert (second["data"]["status"], second["data"]["duration_ms"]) == ("succeeded", 1200)
        assert first["data"]["id"] == second["data"]["id"]
        assert await theirs.receive_nothing(timeout=0.5)
        await mine.disconnect()
        await theirs.disconnect()

    run(scenario)


def test_runner_status_change_reaches_the_feed(agent, member):
    token = token_for(member)
    payload = event(
        "workflow.status_changed",
        {"agent_id": agent.pk, "workflow_id": agent.skybot_workflow_id, "status": "failed", "error": "Bad token"},
    )

    async def scenario() -> None:
        feed, _ = await connect(f"/ws/agents/?token={token}")
        assert (await sync_to_async(post)(payload)).status_code == 200
        received = await feed.receive_json_from(timeout=5)
        assert received["event"] == "agent.status"
        assert (received["data"]["id"], received["data"]["status"]) == (agent.pk, "failed")
        assert received["data"]["last_error"] == "Bad token"
        await feed.disconnect()

    run(scenario)


def test_open_agents_sockets_are_counted(member):
    token = token_for(member)

    async def scenario() -> None:
        before = open_agents_sockets()
        feed, _ = await connect(f"/ws/agents/?token={token}")
        assert open_agents_sockets() == before + 1
        await feed.disconnect()
        assert open_agents_sockets() == before

    run(scenario)
