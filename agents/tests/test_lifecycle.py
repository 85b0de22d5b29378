"""The agent state machine, and the lifecycle actions that go through the runner: activate,
deactivate, delete; every impossible transition is a 409 that changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import Account, AuditLog, User
from agents.models import Agent, AgentStatus
from agents.services.lifecycle import TRANSITIONS, can_transition, transition_check
from agents.tests.factories import AgentFactory
from agents.tests.fake_runner import FakeRunner, runner_error
from core.exceptions import Conflict
from inbox.models import Channel
from inbox.tests.factories import ChannelFactory

S = AgentStatus
ALLOWED = {
    (S.DRAFT, S.DEPLOYING),
    (S.DRAFT, S.DELETED),
    (S.DEPLOYING, S.ACTIVE),
    (S.DEPLOYING, S.INACTIVE),
    (S.DEPLOYING, S.FAILED),
    (S.DEPLOYING, S.DELETED),
    (S.ACTIVE, S.INACTIVE),
    (S.ACTIVE, S.DEPLOYING),
    (S.ACTIVE, S.FAILED),
    (S.ACTIVE, S.DELETED),
    (S.INACTIVE, S.ACTIVE),
    (S.INACTIVE, S.DEPLOYING),
    (S.INACTIVE, S.DELETED),
    (S.FAILED, S.DEPLOYING),
    (S.FAILED, S.DELETED),
}


RUNNER_ONLY = {(S.DEPLOYING, S.ACTIVE), (S.DEPLOYING, S.INACTIVE), (S.DEPLOYING, S.FAILED), (S.ACTIVE, S.FAILED)}


@pytest.mark.parametrize("by_runner", [False, True])
@pytest.mark.parametrize("current", S.values)
@pytest.mark.parametrize("target", S.values)
def test_the_state_machine(current: str, target: str, by_runner: bool) -> None:
    # given the pairs allowed to this kind of caller (the runner's outcomes are not anyone's to ask for)
    allowed = ALLOWED if by_runner else ALLOWED - RUNNER_ONLY

    # when / then exactly the allowed pairs pass; the rest raise a 409 naming both ends
    assert can_transition(current, target, by_runner=by_runner) == ((current, target) in allowed)
    if (current, target) in allowed:
        transition_check(current=current, target=target, by_runner=by_runner)
    else:
        with pytest.raises(Conflict) as raised:
            transition_check(current=current, target=target, by_runner=by_runner)
        assert raised.value.code == "invalid_transition"
        assert raised.value.details == {"from": current, "to": target}


def test_every_status_is_in_the_table() -> None:
    assert set(TRANSITIONS) == set(S.values)


@pytest.fixture
def skybot(httpserver: Any, settings: Any) -> FakeRunner:
    settings.SKYBOT_API_URL = httpserver.url_for("").rstrip("/")
    settings.SKYBOT_API_KEY = "runner-test-key"
    return FakeRunner(httpserver)


@pytest.fixture
def admin_api(client_for: Any, client_admin: User) -> APIClient:
    return client_for(client_admin)


def _agent(account: Account, status: str, workflow: str = "wf-7") -> Agent:
    return AgentFactory(account=account, status=status, skybot_workflow_id=workflow)


@pytest.mark.django_db
def test_deactivate_then_activate(skybot: FakeRunner, admin_api: APIClient, account: Account) -> None:
    # given an active agent on the runner
    skybot.add_workflow("wf-7", "active")
    agent = _agent(account, S.ACTIVE)

    # when it is deactivated
    response = admin_api.post(f"/api/v1/agents/{agent.pk}/deactivate")

    # then the runner deactivated the workflow, and the agent is inactive (audited)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == S.INACTIVE
    assert skybot.status["wf-7"] == "inactive"
    agent.refresh_from_db()
    assert agent.status == S.INACTIVE

    # when it is activated again
    response = admin_api.post(f"/api/v1/agents/{agent.pk}/activate")

    # then it is active on both sides
    assert response.status_code == 200
    assert response.json()["status"] == S.ACTIVE
    assert skybot.status["wf-7"] == "active"
    actions = list(
        AuditLog.objects.filter(action__startswith="agent.", target_id=str(agent.pk))
        .order_by("created_at")
        .values_list("action", flat=True)
    )
    assert actions == ["agent.deactivated", "agent.activated"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("action", "status"),
    [
        ("activate", S.ACTIVE),
        ("activate", S.DRAFT),
        ("activate", S.DEPLOYING),
        ("activate", S.FAILED),
        ("deactivate", S.INACTIVE),
        ("deactivate", S.DRAFT),
        ("deactivate", S.DEPLOYING),
        ("deactivate", S.FAILED),
        ("deploy-to-skybot", S.DEPLOYING),
    ],
)
def test_impossible_transitions_are_409_and_change_nothing(
    skybot: FakeRunner, admin_api: APIClient, account: Account, action: str, status: str
) -> None:
    # given an agent in a status the action cannot leave from
    agent = _agent(account, status)
    key = agent.deploy_key

    # when the action is asked for
    response = admin_api.post(f"/api/v1/agents/{agent.pk}/{action}")

    # then 409 naming the transition; the runner heard nothing and the agent is as it was
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"
    assert response.json()["details"]["from"] == status
    assert skybot.requests() == []
    agent.refresh_from_db()
    assert (agent.status, agent.deploy_key) == (status, key)
    assert not AuditLog.objects.filter(action__startswith="agent.").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("status", [S.DRAFT, S.ACTIVE, S.INACTIVE, S.FAILED])
def test_deploy_is_accepted_from(admin_api: APIClient, account: Account, status: str) -> None:
    agent = _agent(account, status)
    response = admin_api.post(f"/api/v1/agents/{agent.pk}/deploy-to-skybot")
    assert response.status_code == 202
    agent.refresh_from_db()
    assert agent.status == S.DEPLOYING
    assert AuditLog.objects.filter(action="agent.deployed").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("status", [S.ACTIVE, S.DEPLOYING, S.FAILED])
def test_delete_deactivates_and_deletes_the_workflow(
    skybot: FakeRunner, admin_api: APIClient, account: Account, status: str
) -> None:
    # given an agent with a workflow, set as a channel's default agent
    skybot.add_workflow("wf-7", "active")
    agent = _agent(account, status)
    channel = ChannelFactory(account=account, default_agent=agent)

    # when it is deleted
    response = admin_api.delete(f"/api/v1/agents/{agent.pk}")

    # then the runner deactivated and deleted the workflow, the agent is deleted and gone from the API
    assert response.status_code == 204, response.content
    assert [r.path for r in skybot.requests()] == ["/workflows/wf-7/deactivate", "/workflows/wf-7"]
    assert skybot.deleted == ["wf-7"]
    agent.refresh_from_db()
    assert agent.status == S.DELETED
    assert Channel.objects.get(pk=channel.pk).default_agent is None
    assert admin_api.get(f"/api/v1/agents/{agent.pk}").status_code == 404
    assert admin_api.get("/api/v1/agents").json()["results"] == []
    assert AuditLog.objects.filter(action="agent.deleted", target_id=str(agent.pk)).count() == 1


@pytest.mark.django_db
def test_delete_of_an_inactive_agent_only_deletes(skybot: FakeRunner, admin_api: APIClient, account: Account) -> None:
    skybot.add_workflow("wf-7", "inactive")
    agent = _agent(account, S.INACTIVE)
    assert admin_api.delete(f"/api/v1/agents/{agent.pk}").status_code == 204
    assert [r.method for r in skybot.requests()] == ["DELETE"]


@pytest.mark.django_db
def test_delete_of_a_workflow_the_runner_lost_still_deletes(
    skybot: FakeRunner, admin_api: APIClient, account: Account
) -> None:
    # given an agent whose workflow the runner no longer has (deactivate and delete answer 404)
    agent = _agent(account, S.ACTIVE)

    # when deleting, then it is deleted
    assert admin_api.delete(f"/api/v1/agents/{agent.pk}").status_code == 204
    agent.refresh_from_db()
    assert agent.status == S.DELETED


@pytest.mark.django_db
def test_delete_without_a_workflow_needs_no_runner(settings: Any, admin_api: APIClient, account: Account) -> None:
    settings.SKYBOT_API_URL = ""
    agent = _agent(account, S.FAILED, workflow="")
    assert admin_api.delete(f"/api/v1/agents/{agent.pk}").status_code == 204
    agent.refresh_from_db()
    assert agent.status == S.DELETED


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("runner_status", "expected", "code"),
    [(400, 502, "skybot_rejected"), (409, 502, "skybot_rejected"), (500, 503, "skybot_unavailable")],
)
@pytest.mark.parametrize(
    ("action", "status", "path"),
    [
        ("activate", S.INACTIVE, "/workflows/wf-7/activate"),
        ("deactivate", S.ACTIVE, "/workflows/wf-7/deactivate"),
    ],
)
def test_runner_failures_change_nothing(
    skybot: FakeRunner,
    admin_api: APIClient,
    account: Account,
    runner_status: int,
    expected: int,
    code: str,
    action: str,
    status: str,
    path: str,
) -> None:
    # given a runner that fails the call
    skybot.server.expect_oneshot_request(path, method="POST").respond_with_response(
        runner_error(runner_status, "Workflow is locked")
    )
    agent = _agent(account, status)

    # when the action is asked for
    response = admin_api.post(f"/api/v1/agents/{agent.pk}/{action}")

    # then 502/503 carrying the runner's message, and the agent is unchanged
    assert response.status_code == expected
    assert response.json()["code"] == code
    assert "Workflow is locked" in response.json()["message"]
    agent.refresh_from_db()
    assert agent.status == status
    assert not AuditLog.objects.filter(action__startswith="agent.").exists()


@pytest.mark.django_db
def test_a_failed_remote_delete_changes_nothing(skybot: FakeRunner, admin_api: APIClient, account: Account) -> None:
    skybot.add_workflow("wf-7", "active")
    skybot.server.expect_oneshot_request("/workflows/wf-7", method="DELETE").respond_with_response(
        runner_error(503, "Busy")
    )
    agent = _agent(account, S.ACTIVE)
    response = admin_api.delete(f"/api/v1/agents/{agent.pk}")
    assert response.status_code == 503
    agent.refresh_from_db()
    assert agent.status == S.ACTIVE


@pytest.mark.django_db
def test_an_unconfigured_runner_is_a_503(settings: Any, admin_api: APIClient, account: Account) -> None:
    settings.SKYBOT_API_URL = ""
    agent = _agent(account, S.INACTIVE)
    response = admin_api.post(f"/api/v1/agents/{agent.pk}/activate")
    assert response.status_code == 503
    assert response.json()["code"] == "skybot_not_configured"
    agent.refresh_from_db()
    assert agent.status == S.INACTIVE
