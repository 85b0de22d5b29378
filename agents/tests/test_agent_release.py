"""Pausing or deleting an agent hands the conversations it holds to the team."""

from __future__ import annotations

import pytest

from accounts.models import AuditLog
from agents.tests.fake_runner import FakeRunner
from inbox.models import Conversation, ConversationStatus

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("action", "method", "status"), [("deactivate", "post", "inactive"), ("", "delete", "deleted")]
)
def test_conversations_held_by_a_paused_or_deleted_agent_go_to_the_team(
    client_for, client_admin, agent, conversation, runner, action, method, status
):
    # given a conversation the agent holds, waiting for its answer
    FakeRunner(runner).add_workflow(agent.skybot_workflow_id)
    Conversation.objects.filter(pk=conversation.pk).update(
        agent=agent, status=ConversationStatus.PENDING, awaiting_agent_since=conversation.last_message_at
    )
    path = f"/api/v1/agents/{agent.pk}" + (f"/{action}" if action else "")

    # when the admin pauses or deletes the agent
    response = getattr(client_for(client_admin), method)(path)

    # then the agent is gone from the conversation, which is open for people
    assert response.status_code in (200, 204), response.content
    agent.refresh_from_db()
    assert agent.status == status
    conversation.refresh_from_db()
    assert conversation.agent is None
    assert conversation.awaiting_agent_since is None
    assert conversation.status == ConversationStatus.OPEN
    assert AuditLog.objects.filter(action="conversation.handoff", target_id=str(conversation.pk)).exists()
