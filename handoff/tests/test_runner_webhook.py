"""`/webhooks/skybot` events about who holds a conversation: the agent handing it to the team, a
failed run handing the waiting customer over, and agent replies (through a local server standing in
for the Graph API)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditLog
from agents.models import AgentExecution, ExecutionStatus, RunnerEvent
from agents.tests import test_runner_webhook
from agents.tests.runner_events import event, execution_event
from inbox.models import ConversationStatus, Message, MessageDirection, MessageStatus
from inbox.tests.factories import ConversationFactory

pytestmark = pytest.mark.django_db

# The runner webhook tests' fixtures: the runner's secret, an agent running `wf_acme_1`, a
# conversation it holds, signed delivery, the Graph API stand-in.
_runner_secret = test_runner_webhook._runner_secret
agent = test_runner_webhook.agent
held_conversation = test_runner_webhook.held_conversation
deliver = test_runner_webhook.deliver
graph = test_runner_webhook.graph


# --- handoff ----------------------------------------------------------------------------------


def test_agent_hands_off_its_conversation(agent, held_conversation, deliver):
    payload = event(
        "conversation.handoff",
        {
            "agent_id": agent.pk,
            "workflow_id": agent.skybot_workflow_id,
            "conversation_id": held_conversation.pk,
            "reason": "Customer asked for a person",
        },
    )

    response = deliver(payload)

    assert response.status_code == 200
    held_conversation.refresh_from_db()
    assert (held_conversation.agent, held_conversation.status) == (None, ConversationStatus.OPEN)
    assert held_conversation.awaiting_agent_since is None
    audit = AuditLog.objects.get(action="conversation.handoff")
    assert audit.metadata["reason"] == "Customer asked for a person"


def test_handoff_of_a_conversation_the_agent_does_not_hold_is_ignored(agent, account, deliver):
    someone_elses = ConversationFactory(account=account, status=ConversationStatus.OPEN)
    payload = event(
        "conversation.handoff",
        {"agent_id": agent.pk, "workflow_id": agent.skybot_workflow_id, "conversation_id": someone_elses.pk},
    )

    response = deliver(payload)

    assert response.status_code == 200
    assert not AuditLog.objects.filter(action="conversation.handoff").exists()


def test_handoff_of_another_tenants_conversation_is_refused(agent, other_account, deliver):
    foreign = ConversationFactory(account=other_account)
    payload = event(
        "conversation.handoff",
        {"agent_id": agent.pk, "workflow_id": agent.skybot_workflow_id, "conversation_id": foreign.pk},
    )

    response = deliver(payload)

    assert response.status_code == 422
    assert not RunnerEvent.objects.exists()


def test_failed_execution_hands_the_waiting_customer_to_the_team(agent, held_conversation, deliver):
    response = deliver(
        execution_event(agent, "execution.failed", conversation_id=held_conversation.pk, error="LLM quota exceeded")
    )

    assert response.status_code == 200
    held_conversation.refresh_from_db()
    assert (held_conversation.agent, held_conversation.status) == (None, ConversationStatus.OPEN)
    assert AuditLog.objects.get(action="conversation.handoff").metadata["reason"] == "agent_execution_failed"


def test_failed_execution_after_the_agent_answered_keeps_the_conversation(agent, held_conversation, deliver):
    held_conversation.awaiting_agent_since = None
    held_conversation.save()

    deliver(execution_event(agent, "execution.failed", conversation_id=held_conversation.pk, error="CRM down"))

    held_conversation.refresh_from_db()
    assert held_conversation.agent == agent


# --- replies ----------------------------------------------------------------------------------


def test_reply_goes_out_through_the_graph_api_as_the_agents(agent, held_conversation, graph, deliver):
    # given the Graph API accepting the message
    graph.expect_request(
        f"/v21.0/{held_conversation.channel.phone_number_id}/messages",
        method="POST",
        headers={"Authorization": "Bearer EAAG-test-access-token"},
    ).respond_with_json({"messaging_product": "whatsapp", "messages": [{"id": "wamid.AGENT1"}]})

    # when the runner reports a succeeded execution with a reply
    response = deliver(
        execution_event(agent, conversation_id=held_conversation.pk, reply={"text": "Your order ships today."})
    )

    # then the reply is sent to the customer, marked as the agent's, and the wait is over
    assert response.status_code == 200
    sent = json.loads(graph.log[0][0].data)
    assert (sent["to"], sent["text"]["body"]) == (held_conversation.contact.wa_id, "Your order ships today.")
    message = Message.objects.get(direction=MessageDirection.OUTBOUND)
    assert (message.sender_agent, message.sender_user) == (agent, None)
    assert (message.status, message.external_id) == (MessageStatus.SENT, "wamid.AGENT1")
    held_conversation.refresh_from_db()
    assert held_conversation.awaiting_agent_since is None
    assert AuditLog.objects.get(action="message.sent").metadata["agent"] == agent.pk


def test_reply_to_a_conversation_the_agent_does_not_hold_is_dropped(agent, account, graph, deliver):
    handed_off = ConversationFactory(account=account, status=ConversationStatus.OPEN, last_inbound_at=timezone.now())

    response = deliver(execution_event(agent, conversation_id=handed_off.pk, reply={"text": "Hello!"}))

    assert response.status_code == 200
    assert not Message.objects.filter(direction=MessageDirection.OUTBOUND).exists()
    assert graph.log == []
    assert AgentExecution.objects.get().conversation == handed_off


def test_reply_outside_the_24_hour_window_is_kept_as_the_executions_error(agent, held_conversation, graph, deliver):
    held_conversation.last_inbound_at = timezone.now() - timedelta(hours=25)
    held_conversation.save()

    response = deliver(execution_event(agent, conversation_id=held_conversation.pk, reply={"text": "Late answer"}))

    assert response.status_code == 200
    assert not Message.objects.filter(direction=MessageDirection.OUTBOUND).exists()
    assert graph.log == []
    execution = AgentExecution.objects.get()
    assert execution.status == ExecutionStatus.SUCCEEDED
    assert execution.error.startswith("Reply not sent: More than 24 hours")
