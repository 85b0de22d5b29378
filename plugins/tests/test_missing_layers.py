"""The platform on a host whose sandbox lacks a layer (reproduced with PLUGINS_SANDBOX_SKIP_LAYERS,
which makes each real child leave it off, as an older kernel would): third-party plugins are refused
everywhere they could run, the bundled examples still run, `/api/ready` and the admin say so, and
PLUGINS_ALLOW_UNSANDBOXED lifts the refusal."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from agents.models import AgentExecution, ExecutionStatus
from plugins.demo import publish_examples
from plugins.models import PluginVersion
from plugins.tests.conftest import build_package
from plugins.tests.test_runs import customer_writes, last_reply

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def lose_seccomp(settings):
    """From now on this host is one whose kernel has no seccomp (after the fixtures published and
    installed their plugin on the complete sandbox)."""
    settings.PLUGINS_SANDBOX_SKIP_LAYERS = ["seccomp"]


def test_a_third_party_plugin_agent_is_refused_and_the_team_answers(settings, held_by_plugin, plugin_agent):
    lose_seccomp(settings)
    # when a customer writes to a conversation a third-party plugin agent holds
    customer_writes(held_by_plugin, "hello")
    # then no plugin answer goes out, the conversation goes to the team, and the run says why
    assert last_reply(held_by_plugin) is None
    held_by_plugin.refresh_from_db()
    assert held_by_plugin.agent_id is None
    execution = AgentExecution.objects.get(agent=plugin_agent)
    assert execution.status == ExecutionStatus.FAILED
    assert "seccomp" in execution.error
    assert "got 'hello'" not in execution.log  # the plugin's code never ran


def test_trying_a_third_party_plugin_says_the_sandbox_is_incomplete(
    settings, client_for, client_admin, echo_installation
):
    lose_seccomp(settings)
    body = client_for(client_admin).post("/api/v1/plugins/echo/execute", {"message": "hi"}, format="json").json()
    assert body["ok"] is False
    assert body["error"]["code"] == "sandbox_incomplete"
    assert "seccomp" in body["error"]["message"]


def test_publishing_a_third_party_package_is_refused_and_nothing_stored(settings, client_for, super_admin):
    lose_seccomp(settings)
    response = client_for(super_admin).post(
        "/api/v1/admin/plugins",
        {"package": SimpleUploadedFile("echo.zip", build_package(), content_type="application/zip")},
        format="multipart",
    )
    assert response.status_code == 400
    problems = " ".join(response.json()["details"]["package"])
    assert "sandbox_incomplete" in problems
    assert "seccomp" in problems
    assert not PluginVersion.objects.exists()


def test_the_bundled_examples_still_run(settings, client_for, client_admin, account, install):
    lose_seccomp(settings)
    # the examples publish (they are bundled) and the FAQ answerer answers when tried
    assert sorted(publish_examples(stdout=io.StringIO())) == ["after-hours", "faq-answerer", "lead-scorer"]
    install(
        account,
        plugin_id="faq-answerer",
        config={"faqs": [{"question": "When do you open?", "answer": "At nine.", "keywords": ["open"]}]},
    )
    body = (
        client_for(client_admin)
        .post("/api/v1/plugins/faq-answerer/execute", {"message": "When do you open?"}, format="json")
        .json()
    )
    assert body["ok"] is True, body
    assert body["output"]["response"] == "At nine."


def test_allow_unsandboxed_lets_third_party_plugins_run(settings, held_by_plugin, plugin_agent):
    lose_seccomp(settings)
    settings.PLUGINS_ALLOW_UNSANDBOXED = True
    customer_writes(held_by_plugin, "hello")
    assert last_reply(held_by_plugin).text == "echo: hello"
    assert AgentExecution.objects.get(agent=plugin_agent).status == ExecutionStatus.SUCCEEDED


def test_ready_names_the_missing_layer_and_the_refusal(settings, client):
    lose_seccomp(settings)
    body = client.get("/api/ready").json()
    assert body["status"] == "ok"  # an incomplete sandbox does not make the platform unready
    assert body["plugins"]["sandbox"] == "incomplete"
    assert body["plugins"]["missing"] == ["seccomp"]
    assert body["plugins"]["third_party_plugins"] == "refused"
    # and with the opt-in
    settings.PLUGINS_ALLOW_UNSANDBOXED = True
    body = client.get("/api/ready").json()
    assert body["plugins"]["third_party_plugins"] == "allowed"
    assert body["plugins"]["allow_unsandboxed"] is True


def test_the_admin_warns_staff(settings, client, super_admin, echo_version):
    lose_seccomp(settings)
    client.force_login(super_admin)
    page = client.get("/admin/plugins/plugin/").content.decode()
    assert "The plugin sandbox on this host is incomplete (missing: seccomp)" in page
    assert "third-party plugins are refused here; bundled examples still run" in page
    settings.PLUGINS_ALLOW_UNSANDBOXED = True
    page = client.get("/admin/plugins/plugin/").content.decode()
    assert "PLUGINS_ALLOW_UNSANDBOXED is set: third-party plugins run without a full sandbox" in page
    assert "are refused here" not in page
