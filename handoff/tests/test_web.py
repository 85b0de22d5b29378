"""The inbox thread's controls for who holds a conversation: giving it to an AI agent (or a person,
or nobody), and a person taking over from the agent."""

from __future__ import annotations

import pytest

from accounts.models import AuditLog
from agents.tests.factories import AgentFactory
from inbox.tests import test_web_inbox
from inbox.tests.test_web_inbox import HTMX, signed_in

pytestmark = pytest.mark.django_db

conversation = test_web_inbox.conversation  # the inbox pages' fixture: a customer's thread with a message


def test_assign_to_a_teammate_to_an_ai_agent_and_to_nobody(member, client_admin, conversation):
    agent = AgentFactory(account=conversation.account, name="Sales bot", status="active")
    client = signed_in(member)

    client.post(f"/inbox/{conversation.pk}/assign", {"assign-to": f"user:{client_admin.pk}"}, **HTMX)
    conversation.refresh_from_db()
    assert (conversation.assignee, conversation.agent) == (client_admin, None)

    to_agent = client.post(f"/inbox/{conversation.pk}/assign", {"assign-to": f"agent:{agent.pk}"}, **HTMX)
    conversation.refresh_from_db()
    assert (conversation.assignee, conversation.agent, conversation.status) == (None, agent, "pending")
    assert "Take over from Sales bot" in to_agent.content.decode()

    client.post(f"/inbox/{conversation.pk}/assign", {"assign-to": ""}, **HTMX)
    conversation.refresh_from_db()
    assert (conversation.assignee, conversation.agent, conversation.status) == (None, None, "open")


def test_another_tenants_teammate_or_agent_is_no_choice(member, conversation, other_admin):
    foreign_agent = AgentFactory(account=other_admin.account, status="active")
    client = signed_in(member)

    for value in (f"user:{other_admin.pk}", f"agent:{foreign_agent.pk}", "user:abc"):
        response = client.post(f"/inbox/{conversation.pk}/assign", {"assign-to": value}, **HTMX)
        assert response.status_code == 400
        assert "Select a valid choice" in response.content.decode()
    conversation.refresh_from_db()
    assert (conversation.assignee, conversation.agent) == (None, None)


def test_taking_over_from_the_ai_agent_hands_the_conversation_to_the_team(member, conversation):
    # given a conversation held by an AI agent
    agent = AgentFactory(account=conversation.account, name="Sales bot", status="active")
    conversation.agent, conversation.status = agent, "pending"
    conversation.save()

    # when a person takes over
    response = signed_in(member).post(f"/inbox/{conversation.pk}/handoff", **HTMX)

    # then the agent lets go and the conversation is open for people
    assert response.status_code == 200
    conversation.refresh_from_db()
    assert (conversation.agent, conversation.status) == (None, "open")
    assert AuditLog.objects.filter(action="conversation.handoff").exists()
    assert "Take over" not in response.content.decode()


def test_taking_over_a_conversation_no_agent_holds_says_so(member, conversation):
    response = signed_in(member).post(f"/inbox/{conversation.pk}/handoff", **HTMX)
    assert response.status_code == 409
    assert "No AI agent holds this conversation." in response.content.decode()
