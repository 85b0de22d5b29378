"""Conversations held by an AI agent: assignment by hand and by the channel's default agent, and
customer messages routed to the agent's workflow on the (stand-in) SkyBot runner."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditLog
from agents.models import AgentStatus
from agents.tests.conftest import CUSTOMER_WA_ID
from agents.tests.factories import AgentFactory
from inbox.models import Conversation, ConversationStatus, Message
from inbox.tests.factories import ContactFactory, ConversationFactory

pytestmark = pytest.mark.django_db


def patch(client, conversation, body):
    return client.patch(f"/api/v1/conversations/{conversation.pk}", body, format="json")


# --- by hand -------------------------------------------------------------------------------------


def test_member_gives_a_conversation_to_an_agent(client_for, member, conversation, agent):
    # given a conversation a person holds
    conversation.assignee = member
    conversation.save()

    # when a teammate gives it to the agent
    response = patch(client_for(member), conversation, {"agent": agent.pk})

    # then the agent holds it, nobody else does, and it is pending for people
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["agent"], body["assignee"], body["status"]) == (agent.pk, None, "pending")
    conversation.refresh_from_db()
    assert (conversation.agent_id, conversation.assignee_id, conversation.status) == (agent.pk, None, "pending")
    audit = AuditLog.objects.get(action="conversation.updated")
    assert audit.actor_user == member
    assert audit.metadata["changes"] == {"agent": agent.pk, "assignee": None, "status": "pending"}


def test_conversation_shows_the_agent_holding_it(client_for, viewer, conversation, agent):
    # given a conversation the agent holds
    Conversation.objects.filter(pk=conversation.pk).update(agent=agent, status="pending")

    # when anyone reads it
    detail = client_for(viewer).get(f"/api/v1/conversations/{conversation.pk}").json()
    listed = client_for(viewer).get("/api/v1/conversations").json()["results"]

    # then the agent is part of it
    assert detail["agent"] == agent.pk
    assert [row["agent"] for row in listed] == [agent.pk]


@pytest.mark.parametrize("whose", ["other_tenant", "inactive", "draft", "missing"])
def test_only_an_active_agent_of_the_tenant_can_take_a_conversation(
    client_for, member, conversation, other_account, whose
):
    # given an agent that may not hold this conversation
    if whose == "other_tenant":
        agent_id = AgentFactory(account=other_account, status=AgentStatus.ACTIVE).pk
    elif whose == "missing":
        agent_id = 999_999
    else:
        agent_id = AgentFactory(account=conversation.account, status=whose).pk

    # when someone tries to give it the conversation
    response = patch(client_for(member), conversation, {"agent": agent_id})

    # then 400 names the field, and nothing changed
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert "agent" in response.json()["details"]
    conversation.refresh_from_db()
    assert (conversation.agent_id, conversation.status) == (None, "open")
    assert not AuditLog.objects.filter(action="conversation.updated").exists()


def test_agent_and_person_at_once_is_refused(client_for, member, conversation, agent):
    response = patch(client_for(member), conversation, {"agent": agent.pk, "assignee": member.pk})

    assert response.status_code == 400
    conversation.refresh_from_db()
    assert (conversation.agent_id, conversation.assignee_id) == (None, None)


def test_agent_with_another_status_than_pending_is_refused(client_for, member, conversation, agent):
    response = patch(client_for(member), conversation, {"agent": agent.pk, "status": "open"})

    assert response.status_code == 400
    conversation.refresh_from_db()
    assert conversation.agent_id is None


def test_null_takes_the_conversation_back_from_the_agent(client_for, member, conversation, agent):
    # given a conversation the agent holds, waiting for its answer
    Conversation.objects.filter(pk=conversation.pk).update(
        agent=agent, status="pending", awaiting_agent_since=timezone.now()
    )

    # when a teammate takes it back
    response = patch(client_for(member), conversation, {"agent": None})

    # then people have it again
    assert response.status_code == 200, response.json()
    conversation.refresh_from_db()
    assert (conversation.agent_id, conversation.awaiting_agent_since, conversation.status) == (None, None, "open")


def test_assigning_a_person_releases_the_agent(client_for, member, conversation, agent):
    Conversation.objects.filter(pk=conversation.pk).update(agent=agent, status="pending")

    response = patch(client_for(member), conversation, {"assignee": member.pk})

    assert response.status_code == 200, response.json()
    conversation.refresh_from_db()
    assert (conversation.agent_id, conversation.assignee_id, conversation.status) == (None, member.pk, "open")


def test_viewer_cannot_give_a_conversation_to_an_agent(client_for, viewer, conversation, agent):
    response = patch(client_for(viewer), conversation, {"agent": agent.pk})

    assert response.status_code == 403
    conversation.refresh_from_db()
    assert conversation.agent_id is None


def test_another_tenants_conversation_is_404(client_for, other_admin, conversation, agent):
    response = patch(client_for(other_admin), conversation, {"agent": None})

    assert response.status_code == 404
    conversation.refresh_from_db()
    assert conversation.status == "open"


# --- default agent of the channel ----------------------------------------------------------------


def test_new_conversation_starts_with_the_channels_default_agent(runner, channel, agent, sample, post_webhook):
    # given a number whose default agent is active, and a runner that takes messages
    channel.default_agent = agent
    channel.save()
    runner.expect_request("/workflows/wf-1/messages", method="POST").respond_with_json({"execution_id": "ex-1"})

    # when a new customer writes
    response = post_webhook(sample("text"))

    # then the agent holds the new conversation, people see it pending, the agent owes an answer
    assert response.status_code == 200
    conversation = Conversation.objects.get()
    assert (conversation.agent_id, conversation.status, conversation.assignee_id) == (agent.pk, "pending", None)
    assert conversation.awaiting_agent_since is not None
    assert len(runner.log) == 1


@pytest.mark.parametrize("status", [AgentStatus.INACTIVE, AgentStatus.DEPLOYING, AgentStatus.FAILED])
def test_a_default_agent_that_is_not_active_leaves_new_conversations_to_people(
    runner, channel, agent, sample, post_webhook, status
):
    # given a number whose default agent cannot answer
    agent.status = status
    agent.save()
    channel.default_agent = agent
    channel.save()

    # when a new customer writes
    post_webhook(sample("text"))

    # then people hold the conversation and nothing goes to the runner
    conversation = Conversation.objects.get()
    assert (conversation.agent_id, conversation.status, conversation.awaiting_agent_since) == (None, "open", None)
    assert runner.log == []


def test_default_agent_does_not_take_an_existing_conversation(runner, channel, agent, sample, post_webhook):
    # given a customer already talking to people
    contact = ContactFactory(account=channel.account, wa_id=CUSTOMER_WA_ID)
    existing = ConversationFactory(account=channel.account, channel=channel, contact=contact)
    channel.default_agent = agent
    channel.save()

    # when they write again
    post_webhook(sample("text"))

    # then people keep the conversation
    existing.refresh_from_db()
    assert (existing.agent_id, existing.status) == (None, "open")
    assert runner.log == []


# --- routing to the agent ------------------------------------------------------------------------


def test_message_of_a_held_conversation_goes_to_the_agents_workflow(runner, channel, agent, sample, post_webhook):
    # given a resolved conversation the agent holds
    contact = ContactFactory(account=channel.account, wa_id=CUSTOMER_WA_ID, name="Sheena")
    held = ConversationFactory(
        account=channel.account, channel=channel, contact=contact, agent=agent, status=ConversationStatus.RESOLVED
    )
    runner.expect_request("/workflows/wf-1/messages", method="POST").respond_with_json({"execution_id": "ex-1"})

    # when the customer writes
    before = timezone.now()
    post_webhook(sample("text"))

    # then the message went to the agent's workflow, once, keyed by the message
    message = Message.objects.get()
    assert len(runner.log) == 1
    request = runner.log[0][0]
    assert request.headers["Idempotency-Key"] == f"message-{message.pk}"
    assert request.headers["Authorization"] == "Bearer runner-key"
    payload = json.loads(request.data)
    assert payload["event"] == "message.received"
    assert payload["agent"]["id"] == agent.pk
    assert payload["conversation"]["id"] == held.pk
    assert payload["contact"]["wa_id"] == CUSTOMER_WA_ID
    assert payload["message"]["id"] == message.pk
    assert payload["message"]["text"] == "Does it come in another color?"
    # and the conversation is back, pending for people, waiting for the agent's answer
    held.refresh_from_db()
    assert held.status == "pending"
    assert held.agent_id == agent.pk
    assert held.awaiting_agent_since is not None
    assert held.awaiting_agent_since >= before


def test_waiting_starts_at_the_first_unanswered_message(runner, channel, agent, sample, post_webhook):
    # given the agent already owes an answer
    contact = ContactFactory(account=channel.account, wa_id=CUSTOMER_WA_ID)
    since = timezone.now() - timedelta(seconds=30)
    held = ConversationFactory(account=channel.account, channel=channel, contact=contact, agent=agent, status="pending")
    Conversation.objects.filter(pk=held.pk).update(awaiting_agent_since=since)
    runner.expect_request("/workflows/wf-1/messages", method="POST").respond_with_json({"execution_id": "ex-2"})

    # when the customer writes once more
    post_webhook(sample("text"))

    # then the clock is not reset
    held.refresh_from_db()
    assert held.awaiting_agent_since == since
    assert len(runner.log) == 1


def test_messages_of_people_held_conversations_do_not_go_to_the_runner(runner, channel, sample, post_webhook):
    post_webhook(sample("text"))

    assert Conversation.objects.get().awaiting_agent_since is None
    assert runner.log == []


def test_runner_unavailable_is_retried_until_it_answers(runner, channel, agent, sample, post_webhook):
    # given a runner that fails twice, then takes the message
    channel.default_agent = agent
    channel.save()
    runner.expect_ordered_request("/workflows/wf-1/messages").respond_with_data("busy", status=503)
    runner.expect_ordered_request("/workflows/wf-1/messages").respond_with_data("oops", status=500)
    runner.expect_ordered_request("/workflows/wf-1/messages").respond_with_json({"execution_id": "ex-3"})

    # when a customer writes
    post_webhook(sample("text"))

    # then the third attempt got through, with the same key each time, and the agent keeps it
    keys = {request.headers["Idempotency-Key"] for request, _ in runner.log}
    assert len(runner.log) == 3
    assert keys == {f"message-{Message.objects.get().pk}"}
    conversation = Conversation.objects.get()
    assert (conversation.agent_id, conversation.status) == (agent.pk, "pending")
    assert not AuditLog.objects.filter(action="conversation.handoff").exists()


def test_held_messages_still_reach_the_n8n_router(runner, channel, agent, sample, post_webhook, settings):
    # given a master router, and a number whose default agent is active
    settings.N8N_MASTER_ROUTER_URL = runner.url_for("/webhook/router")
    settings.N8N_MASTER_ROUTER_SECRET = "router-secret"
    runner.expect_request("/webhook/router", method="POST").respond_with_data("ok")
    runner.expect_request("/workflows/wf-1/messages", method="POST").respond_with_json({"execution_id": "ex-4"})
    channel.default_agent = agent
    channel.save()

    # when a customer writes
    post_webhook(sample("text"))

    # then both the router and the agent got the message
    assert sorted(request.path for request, _ in runner.log) == ["/webhook/router", "/workflows/wf-1/messages"]
