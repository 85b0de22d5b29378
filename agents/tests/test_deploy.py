"""Deploying an agent to the SkyBot runner: the background job, its retries and its idempotency,
against a local HTTP server standing in for the runner."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import Account, AuditLog, User
from agents.models import Agent, AgentStatus
from agents.services.agents import agent_deployment_run
from agents.skybot import SkyBotUnavailable
from agents.tasks import deploy_agent
from agents.tests.factories import AgentFactory, AgentTemplateFactory
from agents.tests.fake_runner import FakeRunner, runner_error

pytestmark = pytest.mark.django_db

BODY = {
    "name": "Sales bot",
    "template": "sales-assistant",
    "config": {
        "greeting": "Hi!",
        "product_catalog_url": "https://shop.example.com/catalog.json",
        "max_discount_percent": 10,
    },
}


@pytest.fixture
def skybot(httpserver: Any, settings: Any) -> FakeRunner:
    settings.SKYBOT_API_URL = httpserver.url_for("").rstrip("/")
    settings.SKYBOT_API_KEY = "runner-test-key"
    settings.SITE_URL = "https://inbox.example.test"
    return FakeRunner(httpserver)


@pytest.fixture
def admin_api(client_for: Any, client_admin: User) -> APIClient:
    return client_for(client_admin)


def _deploying(account: Account, **kwargs: Any) -> Agent:
    return AgentFactory(account=account, status=AgentStatus.DEPLOYING, **kwargs)


def test_creating_an_agent_deploys_and_activates_it(
    skybot: FakeRunner, admin_api: APIClient, account: Account, django_capture_on_commit_callbacks: Any
) -> None:
    # given a runner that works
    # when an administrator creates an agent
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.post("/api/v1/agents", BODY, format="json")

    # then it answers deploying, and after commit the job created and activated one workflow
    assert response.status_code == 201, response.content
    assert response.json()["status"] == AgentStatus.DEPLOYING
    agent = Agent.objects.get(pk=response.json()["id"])
    assert agent.status == AgentStatus.ACTIVE
    assert agent.skybot_workflow_id == "wf-1"
    assert agent.deployed_at is not None
    assert agent.last_error == ""
    assert [r.path for r in skybot.requests()] == ["/workflows", "/workflows/wf-1/activate"]
    create = skybot.requests("POST", "/workflows")[0]
    assert create.headers["Idempotency-Key"] == str(agent.deploy_key)
    assert create.headers["Authorization"] == "Bearer runner-test-key"
    definition = json.loads(create.get_data())
    assert definition["config"] == BODY["config"]
    assert definition["template"] == "sales-assistant"
    assert definition["workflow"]["trigger"] == {"type": "message.inbound"}
    assert definition["webhook_url"] == "https://inbox.example.test/webhooks/skybot"
    assert definition["metadata"] == {"agent_id": agent.pk, "account_id": account.pk, "account_slug": "acme"}
    assert skybot.status["wf-1"] == "active"


def test_nothing_is_deployed_when_the_creation_rolls_back(skybot: FakeRunner, admin_api: APIClient) -> None:
    # given a create request whose transaction never commits (no on_commit callbacks run)
    # when it is posted
    response = admin_api.post("/api/v1/agents", BODY, format="json")

    # then the agent waits in deploying and the runner heard nothing
    assert response.status_code == 201
    assert Agent.objects.get().status == AgentStatus.DEPLOYING
    assert skybot.requests() == []


def test_a_runner_500_is_retried_then_succeeds(skybot: FakeRunner, account: Account) -> None:
    # given a runner whose first answer to POST /workflows is a 500
    skybot.server.expect_oneshot_request("/workflows", method="POST").respond_with_response(
        runner_error(500, "Database is restarting")
    )
    agent = _deploying(account)

    # when the job runs
    deploy_agent.delay(agent.pk)

    # then it tried twice with the same key and the agent is active with the one workflow
    creates = skybot.requests("POST", "/workflows")
    assert len(creates) == 2
    assert {r.headers["Idempotency-Key"] for r in creates} == {str(agent.deploy_key)}
    agent.refresh_from_db()
    assert agent.status == AgentStatus.ACTIVE
    assert agent.skybot_workflow_id == "wf-1"
    assert skybot.created == 1


def test_a_runner_400_is_not_retried_and_fails_the_agent(skybot: FakeRunner, account: Account) -> None:
    # given a runner that rejects the definition
    skybot.server.expect_oneshot_request("/workflows", method="POST").respond_with_response(
        runner_error(400, "product_catalog_url is not reachable", "invalid_definition")
    )
    agent = _deploying(account)

    # when the job runs
    deploy_agent.delay(agent.pk)

    # then it asked once, and the agent failed with the runner's message
    assert len(skybot.requests()) == 1
    agent.refresh_from_db()
    assert agent.status == AgentStatus.FAILED
    assert agent.last_error == "product_catalog_url is not reachable"
    assert agent.skybot_workflow_id == ""
    assert agent.deployed_at is None


def test_a_rejected_activation_fails_the_agent_and_removes_the_new_workflow(
    skybot: FakeRunner, account: Account
) -> None:
    # given a runner that creates the workflow but refuses to activate it
    skybot.server.expect_oneshot_request("/workflows/wf-1/activate", method="POST").respond_with_response(
        runner_error(422, "Credentials missing for node OpenAI")
    )
    agent = _deploying(account)

    # when the job runs
    deploy_agent.delay(agent.pk)

    # then the agent failed with the message and the unusable workflow was deleted
    agent.refresh_from_db()
    assert agent.status == AgentStatus.FAILED
    assert agent.last_error == "Credentials missing for node OpenAI"
    assert skybot.deleted == ["wf-1"]


def test_the_job_gives_up_after_its_retries(skybot: FakeRunner, account: Account) -> None:
    # given a runner that is always unavailable
    skybot.server.clear_all_handlers()
    skybot.server.expect_request("/workflows", method="POST").respond_with_response(runner_error(503, "Overloaded"))
    agent = _deploying(account)

    # when the job runs
    deploy_agent.delay(agent.pk)

    # then every attempt was made (1 + max_retries) and the agent failed saying why
    assert len(skybot.requests()) == 1 + (deploy_agent.max_retries or 0)
    agent.refresh_from_db()
    assert agent.status == AgentStatus.FAILED
    assert agent.last_error == "Overloaded (gave up after retrying)"


def test_a_redelivered_task_creates_no_second_workflow(skybot: FakeRunner, account: Account) -> None:
    # given a first run that created the workflow and then lost the runner before activating it
    # (as when a worker dies mid-task: acks_late makes the broker deliver the task again)
    skybot.server.expect_oneshot_request("/workflows/wf-1/activate", method="POST").respond_with_response(
        runner_error(503, "Restarting")
    )
    agent = _deploying(account)
    with pytest.raises(SkyBotUnavailable):
        agent_deployment_run(agent_id=agent.pk, final_attempt=False)
    assert skybot.created == 1

    # when the task runs again, and then once more as a duplicate
    deploy_agent.delay(agent.pk)
    deploy_agent.delay(agent.pk)

    # then the same key found the same workflow: one creation, and the duplicate did nothing
    assert len(skybot.requests("POST", "/workflows")) == 2
    assert skybot.created == 1
    agent.refresh_from_db()
    assert agent.status == AgentStatus.ACTIVE
    assert agent.skybot_workflow_id == "wf-1"
    assert len(skybot.requests("POST", "/workflows/wf-1/activate")) == 2


def test_the_job_skips_an_agent_that_is_no_longer_deploying(skybot: FakeRunner, account: Account) -> None:
    # given agents that were deleted or already deployed by an earlier run
    deleted = AgentFactory(account=account, status=AgentStatus.DELETED)
    active = AgentFactory(account=account, status=AgentStatus.ACTIVE, skybot_workflow_id="wf-9")

    # when (duplicated) jobs run for them, and for an agent that does not exist
    deploy_agent.delay(deleted.pk)
    deploy_agent.delay(active.pk)
    deploy_agent.delay(999_999)

    # then the runner heard nothing and nothing changed
    assert skybot.requests() == []
    active.refresh_from_db()
    assert (active.status, active.skybot_workflow_id) == (AgentStatus.ACTIVE, "wf-9")


def test_an_unconfigured_runner_fails_the_agent_clearly(settings: Any, account: Account) -> None:
    # given no SKYBOT_API_URL
    settings.SKYBOT_API_URL = ""
    agent = _deploying(account)

    # when the job runs
    deploy_agent.delay(agent.pk)

    # then the agent failed saying what to configure
    agent.refresh_from_db()
    assert agent.status == AgentStatus.FAILED
    assert "SKYBOT_API_URL" in agent.last_error


def test_a_redeploy_uses_a_new_key_and_replaces_the_old_workflow(
    skybot: FakeRunner, admin_api: APIClient, account: Account, django_capture_on_commit_callbacks: Any
) -> None:
    # given an active agent on workflow wf-old
    skybot.add_workflow("wf-old", "active")
    agent = AgentFactory(account=account, status=AgentStatus.ACTIVE, skybot_workflow_id="wf-old")
    old_key = agent.deploy_key

    # when an administrator redeploys it
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.post(f"/api/v1/agents/{agent.pk}/deploy-to-skybot")

    # then it answered 202 deploying; the job made a new workflow with a new key and deleted the old
    assert response.status_code == 202, response.content
    assert response.json()["status"] == AgentStatus.DEPLOYING
    agent.refresh_from_db()
    assert agent.deploy_key != old_key
    assert skybot.requests("POST", "/workflows")[0].headers["Idempotency-Key"] == str(agent.deploy_key)
    assert (agent.status, agent.skybot_workflow_id) == (AgentStatus.ACTIVE, "wf-1")
    assert skybot.deleted == ["wf-old"]
    assert AuditLog.objects.filter(action="agent.deployed", target_id=str(agent.pk)).count() == 1


def test_a_new_config_redeploys_a_paused_agent_without_activating_it(
    skybot: FakeRunner, admin_api: APIClient, account: Account, django_capture_on_commit_callbacks: Any
) -> None:
    # given an inactive agent
    skybot.add_workflow("wf-old", "inactive")
    agent = AgentFactory(account=account, status=AgentStatus.INACTIVE, skybot_workflow_id="wf-old")

    # when its config changes
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.patch(f"/api/v1/agents/{agent.pk}", {"config": {"greeting": "Hola"}}, format="json")

    # then it was redeployed with the new config and stays paused
    assert response.status_code == 200, response.content
    assert response.json()["status"] == AgentStatus.DEPLOYING
    agent.refresh_from_db()
    assert (agent.status, agent.skybot_workflow_id) == (AgentStatus.INACTIVE, "wf-1")
    assert skybot.definitions["wf-1"]["config"] == {"greeting": "Hola"}
    assert skybot.requests("POST", r"/workflows/.*/activate") == []
    assert skybot.deleted == ["wf-old"]


def test_creating_with_a_template_workflow_sends_it(skybot: FakeRunner, account: Account) -> None:
    # given a template with its own workflow skeleton
    template = AgentTemplateFactory(workflow={"version": 1, "steps": [{"id": "answer", "type": "llm.answer"}]})
    agent = _deploying(account, template=template)

    # when the job runs
    deploy_agent.delay(agent.pk)

    # then the runner got that skeleton
    assert skybot.definitions["wf-1"]["workflow"] == template.workflow
