"""A tenant installs, configures, tries and uninstalls a plugin: config validated, secrets kept
encrypted and never shown, the agent template only its own, every route scoped and role-checked."""

from __future__ import annotations

import pytest
from django.db import connection

from accounts.models import AuditLog
from agents.models import Agent, AgentExecution, AgentStatus
from inbox.tests.factories import LeadFactory
from plugins.models import PluginInstallation, PluginStorageItem
from plugins.tests.conftest import manifest

pytestmark = pytest.mark.django_db


def install(client, plugin_id="echo", config=None):
    return client.post(f"/api/v1/plugins/{plugin_id}/install", {"config": config or {"greeting": "Hi"}}, format="json")


def test_an_admin_installs_a_plugin_and_the_tenant_can_make_agents_from_it(
    client_for, client_admin, other_admin, echo_version
):
    # when a tenant admin installs the plugin with a secret in its config
    response = install(client_for(client_admin), config={"greeting": "Hi", "token": "s3cret-token-value"})
    # then it is installed with the permissions the version asks for, the secret not shown back
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["config"] == {"greeting": "Hi"}
    assert body["secret_fields"] == ["token"]
    assert "s3cret-token-value" not in response.content.decode()
    assert [p["permission"] for p in body["permissions"]] == echo_version.permissions
    # and the secret is stored encrypted
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret_config, config FROM plugins_plugininstallation")
        secret_column, config_column = cursor.fetchone()
    assert secret_column.startswith("enc:v2:")
    assert "s3cret" not in str(config_column)
    # and the tenant's agent catalogue offers the plugin; another tenant's does not
    mine = client_for(client_admin).get("/api/v1/agent-templates").json()
    theirs = client_for(other_admin).get("/api/v1/agent-templates").json()
    assert body["agent_template"] in [t["key"] for t in mine]
    assert [t["runtime"] for t in mine if t["key"] == body["agent_template"]] == ["plugin"]
    assert body["agent_template"] not in [t["key"] for t in theirs]
    assert AuditLog.objects.filter(action="plugin.installed", account=client_admin.account).exists()


def test_an_agent_made_from_a_plugin_is_active_at_once(client_for, client_admin, echo_installation):
    response = client_for(client_admin).post(
        "/api/v1/agents", {"name": "Echo", "template": echo_installation.template.key, "config": {}}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "active"
    assert response.json()["skybot_workflow_id"] == ""


def test_a_config_the_schema_refuses_lists_every_field_and_installs_nothing(client_for, client_admin, echo_version):
    response = install(client_for(client_admin), config={"greeting": 5, "threshold": 500, "colour": "red"})
    assert response.status_code == 400
    details = response.json()["details"]
    assert "config.greeting" in details
    assert "config.threshold" in details
    assert any("colour" in message for messages in details.values() for message in messages)
    assert not PluginInstallation.objects.exists()
    assert not client_for(client_admin).get("/api/v1/plugins/installed").json()


def test_the_schemas_defaults_fill_what_the_config_leaves_out(client_for, client_admin, echo_version):
    response = install(client_for(client_admin), config={"threshold": 3})
    assert response.status_code == 201, response.json()
    assert response.json()["config"] == {"greeting": "Hello", "threshold": 3}


def test_a_plugin_refusing_its_install_installs_nothing(client_for, client_admin, echo_version):
    response = install(client_for(client_admin), config={"greeting": "Hi", "refuse_install": True})
    assert response.status_code == 400
    assert response.json()["code"] == "plugin_hook_failed"
    assert "not today" in response.json()["message"]
    assert not PluginInstallation.objects.exists()


def test_installing_twice_is_a_conflict(client_for, client_admin, echo_installation):
    assert install(client_for(client_admin)).status_code == 409


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_only_admins_install_configure_try_and_uninstall(request, client_for, role, echo_version, echo_installation):
    person = request.getfixturevalue(role)
    client = client_for(person)
    assert client.get("/api/v1/plugins/installed").status_code == 200  # everybody may look
    assert client.patch("/api/v1/plugins/installed/echo", {"is_active": False}, format="json").status_code == 403
    assert client.post("/api/v1/plugins/echo/execute", {"message": "hi"}, format="json").status_code == 403
    assert client.delete("/api/v1/plugins/echo/uninstall").status_code == 403
    assert PluginInstallation.objects.get().is_active


def test_another_tenants_installation_is_not_found(client_for, other_admin, echo_installation):
    client = client_for(other_admin)
    for response in (
        client.get("/api/v1/plugins/installed/echo"),
        client.patch("/api/v1/plugins/installed/echo", {"is_active": False}, format="json"),
        client.post("/api/v1/plugins/echo/execute", {"message": "hi"}, format="json"),
        client.delete("/api/v1/plugins/echo/uninstall"),
    ):
        assert response.status_code == 404
    assert client.get("/api/v1/plugins/installed").json() == []
    assert PluginInstallation.objects.get().is_active


def test_a_disabled_tenant_reaches_nothing(client_for, client_admin, account, echo_installation):
    account.is_active = False
    account.save()
    client = client_for(client_admin)
    assert client.get("/api/v1/plugins/installed").status_code == 401
    assert client.post("/api/v1/plugins/echo/execute", {"message": "hi"}, format="json").status_code == 401
    assert client.delete("/api/v1/plugins/echo/uninstall").status_code == 401


def test_trying_a_plugin_answers_its_output_and_applies_nothing(client_for, client_admin, account, echo_installation):
    lead = LeadFactory(account=account, score=10)
    response = client_for(client_admin).post(
        "/api/v1/plugins/echo/execute", {"message": "lead", "metadata": {"contact": {"id": 1}}}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["output"]["actions"][0]["type"] == "update_lead"
    assert body["logs"][0]["message"] == "got 'lead'"
    lead.refresh_from_db()
    assert lead.score == 10  # tried, not applied
    failed = client_for(client_admin).post("/api/v1/plugins/echo/execute", {"message": "fail"}, format="json")
    assert failed.json()["ok"] is False
    assert "failed on purpose" in failed.json()["error"]["message"]


def test_the_plugin_sees_its_secret_config_and_nothing_shows_it(client_for, client_admin, echo_installation):
    response = client_for(client_admin).post("/api/v1/plugins/echo/execute", {"message": "secret"}, format="json")
    assert response.json()["output"]["response"] == "token=s3cret-token-value"
    listed = client_for(client_admin).get("/api/v1/plugins/installed/echo")
    assert "s3cret" not in listed.content.decode()


def test_changing_the_config_keeps_a_secret_left_out(client_for, client_admin, echo_installation):
    response = client_for(client_admin).patch(
        "/api/v1/plugins/installed/echo", {"config": {"greeting": "Olá"}}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["config"] == {"greeting": "Olá"}
    tried = client_for(client_admin).post("/api/v1/plugins/echo/execute", {"message": "secret"}, format="json")
    assert tried.json()["output"]["response"] == "token=s3cret-token-value"
    bad = client_for(client_admin).patch("/api/v1/plugins/installed/echo", {"config": {"greeting": 5}}, format="json")
    assert bad.status_code == 400


def test_uninstall_removes_agents_storage_and_secrets_and_keeps_history(
    client_for, client_admin, plugin_agent, echo_installation
):
    PluginStorageItem.objects.create(installation=echo_installation, key="k", value=1, size=2)
    AgentExecution.objects.create(
        account=plugin_agent.account,
        agent=plugin_agent,
        external_id="x",
        status="succeeded",
        started_at="2026-01-01T00:00:00Z",
        finished_at="2026-01-01T00:00:01Z",
    )
    response = client_for(client_admin).delete("/api/v1/plugins/echo/uninstall")
    assert response.status_code == 204
    assert not PluginInstallation.objects.exists()
    assert not PluginStorageItem.objects.exists()
    assert Agent.objects.get(pk=plugin_agent.pk).status == AgentStatus.DELETED
    assert AgentExecution.objects.filter(agent=plugin_agent).count() == 1
    templates = client_for(client_admin).get("/api/v1/agent-templates").json()
    assert echo_installation.template.key not in [t["key"] for t in templates]
    assert AuditLog.objects.filter(action="plugin.uninstalled").exists()


def test_installed_list_query_count_does_not_grow(
    client_for, client_admin, account, echo_installation, publish, install, django_assert_num_queries
):
    # given two installations
    publish(manifest(id="second"))
    install(account, plugin_id="second")
    client = client_for(client_admin)
    client.get("/api/v1/plugins/installed")  # warm the session
    # then listing them is the person's lookup, one query, and one for the plugins' published versions
    # (whether an update is available), whatever their number
    with django_assert_num_queries(3):
        response = client.get("/api/v1/plugins/installed")
    assert [row["plugin_id"] for row in response.json()] == ["second", "echo"]


def test_the_catalogue_list_query_count_does_not_grow(
    client_for, client_admin, echo_version, publish, django_assert_num_queries
):
    # given two plugins, one with two versions
    publish(manifest(id="second"))
    publish(manifest(version="1.1.0"))
    client = client_for(client_admin)
    client.get("/api/v1/plugins")  # warm the session
    # then the page is the person's lookup, the plugins and their versions: three queries
    with django_assert_num_queries(3):
        response = client.get("/api/v1/plugins?sort=name")
    rows = response.json()["results"]
    assert [(row["plugin_id"], row["version"]) for row in rows] == [("echo", "1.1.0"), ("second", "1.0.0")]


def test_staff_switch_a_plugin_off_in_the_admin_and_it_is_audited(client, super_admin, echo_version):
    from plugins.models import Plugin

    client.force_login(super_admin)
    plugin = Plugin.objects.get()
    response = client.post(
        "/admin/plugins/plugin/", {"action": "switch_off", "_selected_action": [plugin.pk]}, follow=True
    )
    assert response.status_code == 200
    plugin.refresh_from_db()
    assert not plugin.is_enabled
    audit = AuditLog.objects.get(action="plugin.switched")
    assert audit.actor_user_id == super_admin.pk
    assert audit.metadata["is_enabled"] is False


def test_ready_says_whether_the_sandbox_runs_third_party_plugins(client, settings):
    # on this machine every layer applies: third-party plugins run
    body = client.get("/api/ready").json()
    assert body["plugins"]["sandbox"] == "complete"
    assert body["plugins"]["third_party_plugins"] == "allowed"
    assert body["plugins"]["missing"] == []
