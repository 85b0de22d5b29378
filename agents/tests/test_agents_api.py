"""The agents API: create (validated, rate-limited), list, show, update, delete, roles, tenants."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.models import Account, AuditLog, Role, User
from accounts.tests.factories import UserFactory
from agents.models import Agent, AgentCategory, AgentStatus
from agents.tests.factories import AgentFactory, AgentTemplateFactory
from core.realtime import _send_many
from inbox.tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db

SALES_CONFIG = {"greeting": "Hi!", "product_catalog_url": "https://shop.example.com/c.json", "max_discount_percent": 10}


@pytest.fixture
def admin_api(client_for: Any, client_admin: User) -> APIClient:
    return client_for(client_admin)


def _body(**overrides: Any) -> dict[str, Any]:
    return {"name": "Sales bot", "template": "sales-assistant", "config": dict(SALES_CONFIG), **overrides}


# --- create ---------------------------------------------------------------------------------------


def test_create_answers_the_agent_and_audits_it(
    admin_api: APIClient, account: Account, client_admin: User, django_capture_on_commit_callbacks: Any
) -> None:
    # given a channel of the tenant
    channel = ChannelFactory(account=account)

    # when an administrator creates an agent on it
    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_api.post(
            "/api/v1/agents",
            _body(description="Sells shoes", channels=[channel.pk], reply_timeout_seconds=60),
            format="json",
        )

    # then it answers the agent, deploying, and an audit row and an agent.status event follow
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["status"] == AgentStatus.DEPLOYING
    assert data["template"] == "sales-assistant"
    assert data["category"] == AgentCategory.SALES
    assert data["channels"] == [channel.pk]
    assert data["config"] == SALES_CONFIG
    assert data["reply_timeout_seconds"] == 60
    assert data["account"] == account.pk
    agent = Agent.objects.get(pk=data["id"])
    assert agent.created_by == client_admin
    audit = AuditLog.objects.get(action="agent.created")
    assert (audit.target_id, audit.account_id, audit.actor_user_id) == (str(agent.pk), account.pk, client_admin.pk)
    events = [
        message
        for callback in callbacks
        if getattr(callback, "func", None) is _send_many
        for _group, message in callback.args[0]
    ]
    assert [(e["event"], e["data"]["status"]) for e in events] == [("agent.status", "deploying")]


def test_config_that_breaks_the_schema_is_a_400_naming_the_path(admin_api: APIClient) -> None:
    # given a discount above the template's maximum and a wrong type deeper in
    body = _body(config={**SALES_CONFIG, "max_discount_percent": 50, "qualifying_questions": ["ok", 3]})

    # when creating
    response = admin_api.post("/api/v1/agents", body, format="json")

    # then 400 with each failing JSON path, and nothing created
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert response.json()["details"] == {
        "config.max_discount_percent": ["Max discount percent must be at most 40."],
        "config.qualifying_questions.1": ["Qualifying questions, item 2, must be text."],
    }
    assert not Agent.objects.exists()


def test_missing_required_config_and_unknown_keys_are_400(admin_api: APIClient) -> None:
    response = admin_api.post("/api/v1/agents", _body(config={"max_discount_percent": 5, "x": 1}), format="json")
    assert response.status_code == 400
    assert response.json()["details"] == {
        "config": ["There is no setting called “x” here."],
        "config.greeting": ["Greeting is required."],
        "config.product_catalog_url": ["Product catalog URL is required."],
    }
    assert not Agent.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"template": "no-such-template"}, "template"),
        ({"config": "greeting"}, "config"),
        ({"name": ""}, "name"),
        ({"reply_timeout_seconds": 5}, "reply_timeout_seconds"),
        ({"status": "active"}, "status"),
    ],
)
def test_bad_input_is_a_400(admin_api: APIClient, overrides: dict[str, Any], field: str) -> None:
    response = admin_api.post("/api/v1/agents", _body(**overrides), format="json")
    assert response.status_code == 400
    assert field in response.json()["details"]
    assert not Agent.objects.exists()


def test_channels_must_belong_to_the_tenant(admin_api: APIClient, other_account: Account) -> None:
    # given another tenant's channel
    foreign = ChannelFactory(account=other_account)

    # when creating an agent on it
    response = admin_api.post("/api/v1/agents", _body(channels=[foreign.pk]), format="json")

    # then 400 and nothing created
    assert response.status_code == 400
    assert response.json()["details"] == {"channels": [f"Unknown channel: {foreign.pk}."]}
    assert not Agent.objects.exists()


def test_creation_is_rate_limited_per_person(
    admin_api: APIClient, settings: Any, client_for: Any, account: Account
) -> None:
    # given a limit of two a minute
    settings.AGENT_CREATE_RATE = "2/m"
    for _ in range(2):
        assert admin_api.post("/api/v1/agents", _body(), format="json").status_code == 201

    # when the same person creates a third
    response = admin_api.post("/api/v1/agents", _body(), format="json")

    # then 429 with Retry-After, and no third agent; another administrator is not affected
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    assert 1 <= int(response["Retry-After"]) <= 60
    assert Agent.objects.count() == 2
    second = UserFactory(account=account, role=Role.CLIENT_ADMIN, email="second@acme.test")
    assert client_for(second).post("/api/v1/agents", _body(), format="json").status_code == 201


def test_invalid_attempts_do_not_use_up_the_limit(admin_api: APIClient, settings: Any) -> None:
    settings.AGENT_CREATE_RATE = "1/m"
    assert admin_api.post("/api/v1/agents", _body(template="nope"), format="json").status_code == 400
    assert admin_api.post("/api/v1/agents", _body(), format="json").status_code == 201


def test_an_api_key_with_admin_scope_may_create(key_client_for: Any, account: Account) -> None:
    response = key_client_for(account, ["admin"]).post("/api/v1/agents", _body(), format="json")
    assert response.status_code == 201
    assert AuditLog.objects.get(action="agent.created").actor_api_key_id is not None


def test_platform_staff_name_the_account(client_for: Any, super_admin: User, account: Account) -> None:
    client = client_for(super_admin)
    assert client.post("/api/v1/agents", _body(), format="json").status_code == 400
    response = client.post("/api/v1/agents", _body(account=account.pk), format="json")
    assert response.status_code == 201
    assert response.json()["account"] == account.pk


# --- list and show --------------------------------------------------------------------------------


def test_list_filters_and_hides_deleted_and_other_tenants(
    client_for: Any, viewer: User, account: Account, other_account: Account
) -> None:
    # given agents in several states and categories, one deleted, one of another tenant
    support = AgentFactory(account=account, status=AgentStatus.ACTIVE)
    sales_template = AgentTemplateFactory(category=AgentCategory.SALES)
    sales = AgentFactory(account=account, status=AgentStatus.FAILED, template=sales_template)
    AgentFactory(account=account, status=AgentStatus.DELETED)
    AgentFactory(account=other_account)
    client = client_for(viewer)

    # when listing, unfiltered and filtered
    everything = client.get("/api/v1/agents").json()["results"]
    active = client.get("/api/v1/agents", {"status": "active"}).json()["results"]
    in_sales = client.get("/api/v1/agents", {"category": "SALES"}).json()["results"]

    # then only the tenant's live agents, newest first
    assert [a["id"] for a in everything] == [sales.pk, support.pk]
    assert [a["id"] for a in active] == [support.pk]
    assert [a["id"] for a in in_sales] == [sales.pk]


@pytest.mark.parametrize("query", [{"status": "deleted"}, {"status": "nope"}, {"category": "sales"}])
def test_bad_filters_are_a_400(client_for: Any, viewer: User, query: dict[str, str]) -> None:
    response = client_for(viewer).get("/api/v1/agents", query)
    assert response.status_code == 400
    assert set(response.json()["details"]) == set(query)


def test_list_query_count_does_not_grow_with_the_page(
    client_for: Any, viewer: User, account: Account, django_assert_num_queries: Any
) -> None:
    # given agents with channels
    client = client_for(viewer)
    channel = ChannelFactory(account=account)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/v1/agents").status_code == 200
        return len(queries)

    AgentFactory(account=account).channels.add(channel)
    few = count()
    for _ in range(5):
        AgentFactory(account=account).channels.add(channel)

    # when / then the same number of queries for 1 and 6 agents, and few of them
    assert count() == few
    with django_assert_num_queries(3):
        client.get("/api/v1/agents")


def test_show_answers_the_agent(client_for: Any, viewer: User, account: Account) -> None:
    agent = AgentFactory(account=account)
    response = client_for(viewer).get(f"/api/v1/agents/{agent.pk}")
    assert response.status_code == 200
    assert response.json()["id"] == agent.pk
    assert response.json()["name"] == agent.name


def test_a_deleted_agent_is_a_404(client_for: Any, viewer: User, account: Account) -> None:
    agent = AgentFactory(account=account, status=AgentStatus.DELETED)
    assert client_for(viewer).get(f"/api/v1/agents/{agent.pk}").status_code == 404


# --- update ---------------------------------------------------------------------------------------


def test_update_changes_fields_and_audits_without_redeploying_a_draft(admin_api: APIClient, account: Account) -> None:
    # given a draft agent and a channel
    agent = AgentFactory(account=account)
    channel = ChannelFactory(account=account)

    # when renaming it, changing its config and channels
    response = admin_api.patch(
        f"/api/v1/agents/{agent.pk}",
        {"name": "Renamed", "config": {"greeting": "Hey", "max_discount": 5}, "channels": [channel.pk]},
        format="json",
    )

    # then the changes are saved, it stays a draft, and the audit row names the fields
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Renamed"
    assert response.json()["channels"] == [channel.pk]
    agent.refresh_from_db()
    assert (agent.status, agent.config) == (AgentStatus.DRAFT, {"greeting": "Hey", "max_discount": 5})
    audit = AuditLog.objects.get(action="agent.updated")
    assert audit.metadata["fields"] == ["name", "config", "channels"]
    assert audit.metadata["redeployed"] is False


def test_update_revalidates_config_and_changes_nothing_on_error(admin_api: APIClient, account: Account) -> None:
    # given an active agent
    agent = AgentFactory(account=account, status=AgentStatus.ACTIVE, skybot_workflow_id="wf-1")
    name, config = agent.name, agent.config

    # when its config breaks the template's schema (along with a valid rename)
    response = admin_api.patch(
        f"/api/v1/agents/{agent.pk}", {"name": "New", "config": {"greeting": "Hi", "max_discount": 60}}, format="json"
    )

    # then 400 with the path, and nothing changed
    assert response.status_code == 400
    assert response.json()["details"] == {"config.max_discount": ["Max discount must be at most 50."]}
    agent.refresh_from_db()
    assert (agent.name, agent.config, agent.status) == (name, config, AgentStatus.ACTIVE)
    assert not AuditLog.objects.filter(action="agent.updated").exists()


def test_a_new_config_redeploys_an_active_agent(admin_api: APIClient, account: Account) -> None:
    agent = AgentFactory(account=account, status=AgentStatus.ACTIVE, skybot_workflow_id="wf-1")
    old_key = agent.deploy_key
    response = admin_api.patch(f"/api/v1/agents/{agent.pk}", {"config": {"greeting": "New"}}, format="json")
    assert response.status_code == 200
    agent.refresh_from_db()
    assert agent.status == AgentStatus.DEPLOYING
    assert agent.deploy_key != old_key
    assert AuditLog.objects.get(action="agent.updated").metadata["redeployed"] is True


def test_config_cannot_change_while_deploying(admin_api: APIClient, account: Account) -> None:
    agent = AgentFactory(account=account, status=AgentStatus.DEPLOYING)
    response = admin_api.patch(f"/api/v1/agents/{agent.pk}", {"config": {"greeting": "New"}}, format="json")
    assert response.status_code == 409
    assert response.json()["details"] == {"from": "deploying", "to": "deploying"}
    agent.refresh_from_db()
    assert agent.config == {"greeting": "Hello!"}


def test_update_refuses_another_tenants_channel(admin_api: APIClient, account: Account, other_account: Account) -> None:
    agent = AgentFactory(account=account)
    response = admin_api.patch(
        f"/api/v1/agents/{agent.pk}", {"channels": [ChannelFactory(account=other_account).pk]}, format="json"
    )
    assert response.status_code == 400
    assert not agent.channels.exists()


# --- roles and tenants -----------------------------------------------------------------------------

WRITES = [
    ("post", "/api/v1/agents/{pk}/deploy-to-skybot"),
    ("post", "/api/v1/agents/{pk}/activate"),
    ("post", "/api/v1/agents/{pk}/deactivate"),
    ("patch", "/api/v1/agents/{pk}"),
    ("delete", "/api/v1/agents/{pk}"),
]


@pytest.mark.parametrize("who", ["viewer", "member", "write_key"])
def test_writes_need_client_admin(
    request: Any, client_for: Any, key_client_for: Any, account: Account, who: str
) -> None:
    # given a VIEWER, a USER, or a key acting as USER
    client = (
        key_client_for(account, ["read", "write"]) if who == "write_key" else client_for(request.getfixturevalue(who))
    )
    agent = AgentFactory(account=account, status=AgentStatus.INACTIVE, skybot_workflow_id="wf-1")

    # when they try every write
    statuses = [client.post("/api/v1/agents", _body(), format="json").status_code]
    statuses += [
        getattr(client, method)(url.format(pk=agent.pk), {}, format="json").status_code for method, url in WRITES
    ]

    # then 403 everywhere, nothing changed, but they may read
    assert statuses == [403] * 6
    agent.refresh_from_db()
    assert agent.status == AgentStatus.INACTIVE
    assert Agent.objects.count() == 1
    assert client.get("/api/v1/agents").status_code == 200
    assert client.get(f"/api/v1/agents/{agent.pk}").status_code == 200


def test_another_tenants_agent_is_a_404_everywhere(client_for: Any, other_admin: User, account: Account) -> None:
    # given an agent of Acme
    agent = AgentFactory(account=account, status=AgentStatus.ACTIVE, skybot_workflow_id="wf-1")
    client = client_for(other_admin)

    # when Globex's administrator reads or changes it
    statuses = [client.get(f"/api/v1/agents/{agent.pk}").status_code]
    statuses += [
        getattr(client, method)(url.format(pk=agent.pk), {}, format="json").status_code for method, url in WRITES
    ]

    # then 404 every time, and nothing changed
    assert statuses == [404] * 6
    agent.refresh_from_db()
    assert (agent.status, agent.name) == (AgentStatus.ACTIVE, agent.name)
    assert not AuditLog.objects.filter(action__startswith="agent.").exists()


def test_anonymous_callers_are_refused(api_client: APIClient) -> None:
    assert api_client.get("/api/v1/agents").status_code == 401
    assert api_client.post("/api/v1/agents", _body(), format="json").status_code == 401
