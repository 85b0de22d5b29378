"""Plugin agents answering customers: the run in the sandbox, its execution row, the reply through
the send path, actions applied under the plugin's name, failures handed to the team, and the
attacks a hostile plugin would try through the platform's side of its context."""

from __future__ import annotations

import pytest
from django.core import mail

from accounts.models import AuditLog
from accounts.principals import Principal
from agents.models import AgentExecution, ExecutionStatus
from agents.services.agents import agent_create
from handoff.tasks import route_to_agent
from inbox.models import Conversation, Lead, Message, MessageDirection
from inbox.tests.factories import ContactFactory, MessageFactory
from plugins.models import DisabledReason, PluginInstallation, PluginStorageItem
from plugins.tests.conftest import manifest

pytestmark = pytest.mark.django_db


def customer_writes(conversation: Conversation, text: str) -> Message:
    message = MessageFactory(conversation=conversation, text=text)
    route_to_agent(message.pk)
    return message


def last_reply(conversation: Conversation) -> Message | None:
    return (
        Message.objects.filter(conversation=conversation, direction=MessageDirection.OUTBOUND).order_by("-id").first()
    )


def test_a_plugin_agent_answers_the_customer(held_by_plugin, plugin_agent):
    # when the customer writes to a conversation the plugin agent holds
    customer_writes(held_by_plugin, "hello there")
    # then the plugin's answer goes out as the agent's reply
    reply = last_reply(held_by_plugin)
    assert reply is not None
    assert reply.text == "echo: hello there"
    assert reply.sender_agent_id == plugin_agent.pk
    # and the run is an execution with its input, output and log lines
    execution = AgentExecution.objects.get(agent=plugin_agent)
    assert execution.status == ExecutionStatus.SUCCEEDED
    assert execution.input_summary == "hello there"
    assert "echo: hello there" in execution.output_summary
    assert "got 'hello there'" in execution.log
    assert execution.duration_ms is not None
    # and it holds the conversation still
    held_by_plugin.refresh_from_db()
    assert held_by_plugin.agent_id == plugin_agent.pk


def test_the_input_carries_only_what_the_permissions_allow(held_by_plugin, plugin_agent):
    customer_writes(held_by_plugin, "what do you see")
    seen = AgentExecution.objects.get(agent=plugin_agent).output_summary
    assert '"contact"' in seen  # contacts:read granted
    assert "recent_messages" not in seen  # conversations:read not granted


def test_actions_are_applied_under_the_plugins_name(held_by_plugin, plugin_agent):
    customer_writes(held_by_plugin, "lead")
    lead = Lead.objects.get(contact=held_by_plugin.contact)
    assert (lead.score, lead.status) == (90, "qualified")
    audit = AuditLog.objects.get(action="lead.created")
    assert audit.actor_label == "plugin:echo"


def test_labels_and_priority_are_set_by_the_plugin(held_by_plugin, plugin_agent):
    customer_writes(held_by_plugin, "label")
    held_by_plugin.refresh_from_db()
    assert [label.name for label in held_by_plugin.labels.all()] == ["vip"]
    assert AuditLog.objects.get(action="conversation.updated").actor_label == "plugin:echo"


def test_an_action_without_its_permission_is_refused_and_nothing_applied(
    publish, install, account, conversation, client_admin
):
    # given a plugin whose manifest does not ask for conversations:write, which labels need
    publish(manifest(id="quiet", permissions=["messages:send"]))
    installation = install(account, plugin_id="quiet")
    agent = agent_create(
        account=account,
        name="Quiet",
        template=installation.template.key,
        config={},
        actor=Principal.for_user(client_admin),
    )
    Conversation.objects.filter(pk=conversation.pk).update(agent=agent, status="pending")
    conversation.refresh_from_db()
    # when it asks to label the conversation
    customer_writes(conversation, "label")
    # then nothing is applied, the run fails naming the permission, the team gets the conversation
    conversation.refresh_from_db()
    assert not conversation.labels.exists()
    execution = AgentExecution.objects.get(agent=agent)
    assert execution.status == ExecutionStatus.FAILED
    assert "conversations:write" in execution.error
    assert conversation.agent_id is None


def test_a_failing_plugin_hands_the_conversation_to_the_team(held_by_plugin, plugin_agent):
    customer_writes(held_by_plugin, "fail")
    held_by_plugin.refresh_from_db()
    assert held_by_plugin.agent_id is None
    assert held_by_plugin.status == "open"
    execution = AgentExecution.objects.get(agent=plugin_agent)
    assert execution.status == ExecutionStatus.FAILED
    assert "failed on purpose" in execution.error
    assert last_reply(held_by_plugin) is None


def test_an_answer_that_is_not_an_agent_output_fails_the_run(held_by_plugin, plugin_agent):
    customer_writes(held_by_plugin, "garbage")
    assert AgentExecution.objects.get(agent=plugin_agent).status == ExecutionStatus.FAILED
    held_by_plugin.refresh_from_db()
    assert held_by_plugin.agent_id is None


def test_the_plugin_hands_over_after_its_reply(held_by_plugin, plugin_agent):
    customer_writes(held_by_plugin, "handoff")
    assert last_reply(held_by_plugin).text == "A person will answer."
    held_by_plugin.refresh_from_db()
    assert held_by_plugin.agent_id is None
    assert AuditLog.objects.filter(action="conversation.handoff", actor_label="plugin:echo").exists()


def test_a_plugin_failing_again_and_again_is_switched_off_and_admins_told(
    settings, held_by_plugin, plugin_agent, echo_installation, client_admin, conversation
):
    settings.PLUGINS_FAILURE_LIMIT = 2
    for _ in range(2):
        # each failure hands the conversation over; give it back to the agent for the next one
        Conversation.objects.filter(pk=held_by_plugin.pk).update(agent=plugin_agent, status="pending")
        held_by_plugin.refresh_from_db()
        customer_writes(held_by_plugin, "fail")
    echo_installation.refresh_from_db()
    assert not echo_installation.is_active
    assert echo_installation.disabled_reason == DisabledReason.FAILING
    assert AuditLog.objects.filter(action="plugin.disabled").count() == 1
    # (the email task runs after commit)
    from plugins.tasks import notify_installation_disabled

    notify_installation_disabled(echo_installation.pk)
    assert client_admin.email in mail.outbox[-1].to
    # and the next message goes to the team without running the plugin
    Conversation.objects.filter(pk=held_by_plugin.pk).update(agent=plugin_agent, status="pending")
    held_by_plugin.refresh_from_db()
    customer_writes(held_by_plugin, "hello")
    assert AgentExecution.objects.filter(agent=plugin_agent).count() == 2
    held_by_plugin.refresh_from_db()
    assert held_by_plugin.agent_id is None


def test_staff_switch_a_plugin_off_for_every_tenant(
    client_for, super_admin, client_admin, held_by_plugin, plugin_agent
):
    response = client_for(super_admin).patch(
        "/api/v1/admin/plugins/echo", {"is_enabled": False, "disabled_reason": "Under review"}, format="json"
    )
    assert response.status_code == 200
    customer_writes(held_by_plugin, "hello")
    held_by_plugin.refresh_from_db()
    assert held_by_plugin.agent_id is None
    assert not AgentExecution.objects.filter(agent=plugin_agent, status=ExecutionStatus.SUCCEEDED).exists()
    tried = client_for(client_admin).post("/api/v1/plugins/echo/execute", {"message": "hi"}, format="json")
    assert tried.json()["ok"] is False
    assert "Under review" in tried.json()["error"]["message"]
    assert (
        client_for(client_admin).patch("/api/v1/admin/plugins/echo", {"is_enabled": True}, format="json").status_code
        == 403
    )


# --- attacks through the platform's side of the context ---------------------------------------------


def test_a_plugin_cannot_read_another_tenants_contact(client_for, client_admin, other_account, echo_installation):
    stranger = ContactFactory(account=other_account, name="Someone Else")
    response = client_for(client_admin).post(
        "/api/v1/plugins/echo/execute", {"message": f"contact {stranger.pk}"}, format="json"
    )
    answer = response.json()["output"]["response"]
    assert answer.startswith("not_found")
    assert "Someone Else" not in response.content.decode()


def test_storage_is_per_installation(client_for, client_admin, other_admin, other_account, echo_installation, install):
    install(other_account)
    client_for(client_admin).post("/api/v1/plugins/echo/execute", {"message": "store colour blue"}, format="json")
    mine = client_for(client_admin).post("/api/v1/plugins/echo/execute", {"message": "read colour"}, format="json")
    theirs = client_for(other_admin).post("/api/v1/plugins/echo/execute", {"message": "read colour"}, format="json")
    assert mine.json()["output"]["response"] == "'blue'"
    assert theirs.json()["output"]["response"] == "None"
    assert PluginStorageItem.objects.count() == 1


def test_storage_is_capped(settings, client_for, client_admin, echo_installation):
    settings.PLUGINS_STORAGE_BYTES = 40
    response = client_for(client_admin).post(
        "/api/v1/plugins/echo/execute", {"message": "store big " + "x" * 100}, format="json"
    )
    assert response.json()["ok"] is False
    assert "storage" in response.json()["error"]["message"].lower()
    assert not PluginStorageItem.objects.exists()


def test_http_only_to_the_manifests_domains(httpserver, client_for, client_admin, echo_installation):
    httpserver.expect_request("/rates").respond_with_data("EUR=1.08")
    allowed = httpserver.url_for("/rates").replace("127.0.0.1", "localhost")
    client = client_for(client_admin)
    ok = client.post("/api/v1/plugins/echo/execute", {"message": f"get {allowed}"}, format="json")
    assert ok.json()["output"]["response"] == "200 EUR=1.08"
    other = client.post("/api/v1/plugins/echo/execute", {"message": "get https://example.com/x"}, format="json")
    assert other.json()["output"]["response"].startswith("permission_denied")


def test_http_to_a_private_address_is_refused_even_for_a_listed_domain(
    settings, httpserver, client_for, client_admin, echo_installation
):
    settings.OUTBOUND_ALLOW_LOOPBACK = False  # production: localhost is a private address
    httpserver.expect_request("/x").respond_with_data("secret")
    url = httpserver.url_for("/x").replace("127.0.0.1", "localhost")
    response = client_for(client_admin).post("/api/v1/plugins/echo/execute", {"message": f"get {url}"}, format="json")
    assert response.json()["output"]["response"].startswith("http_error")
    assert not httpserver.log


def test_a_redirect_to_a_private_address_is_not_followed(httpserver, client_for, client_admin, echo_installation):
    httpserver.expect_request("/go").respond_with_data("", status=302, headers={"Location": "http://169.254.169.254/"})
    url = httpserver.url_for("/go").replace("127.0.0.1", "localhost")
    client = client_for(client_admin)
    first = client.post("/api/v1/plugins/echo/execute", {"message": f"get {url}"}, format="json").json()
    assert first["output"]["response"].startswith("302")
    assert first["output"]["metadata"]["headers"]["location"] == "http://169.254.169.254/"
    second = client.post(
        "/api/v1/plugins/echo/execute", {"message": "get http://169.254.169.254/"}, format="json"
    ).json()
    assert second["output"]["response"].startswith("permission_denied")


def test_a_manifest_asking_for_more_than_it_declares_cannot_get_it(publish, client_for, client_admin, account, install):
    # a plugin without contacts:read asking for a contact is refused by the platform
    publish(manifest(id="quiet", permissions=["messages:send"]))
    install(account, plugin_id="quiet")
    contact = ContactFactory(account=account)
    response = client_for(client_admin).post(
        "/api/v1/plugins/quiet/execute", {"message": f"contact {contact.pk}"}, format="json"
    )
    assert response.json()["output"]["response"].startswith("permission_denied")
    assert PluginInstallation.objects.filter(plugin__plugin_id="quiet").exists()
