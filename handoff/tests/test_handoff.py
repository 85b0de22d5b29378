"""Handing a conversation from its AI agent to the team: by a person or the agent's key (API), by
the platform (service), automatically when the runner fails or stays silent, and the live event."""

from __future__ import annotations

from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from accounts.models import AuditLog, Role
from accounts.services.auth import auth_tokens_issue
from accounts.tests.factories import UserFactory
from agents.models import AgentStatus
from agents.tests.factories import AgentFactory
from core.exceptions import Conflict
from handoff.services import conversation_handoff
from handoff.tasks import handoff_stale_conversations, route_to_agent
from inbox.models import Conversation, ConversationStatus
from inbox.tests.factories import ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(conversation, agent):
    """A conversation the agent holds, waiting for its answer."""
    Conversation.objects.filter(pk=conversation.pk).update(
        agent=agent, status=ConversationStatus.PENDING, awaiting_agent_since=timezone.now()
    )
    conversation.refresh_from_db()
    return conversation


def handoff(client, conversation, body=None):
    return client.post(f"/api/v1/conversations/{conversation.pk}/handoff", body or {}, format="json")


def assert_with_people(conversation, *, assignee=None):
    conversation.refresh_from_db()
    assert conversation.agent_id is None
    assert conversation.awaiting_agent_since is None
    assert conversation.status == "open"
    assert conversation.assignee_id == (assignee.pk if assignee else None)


def assert_still_held(conversation, agent):
    conversation.refresh_from_db()
    assert (conversation.agent_id, conversation.status) == (agent.pk, "pending")
    assert not AuditLog.objects.filter(action="conversation.handoff").exists()


# --- by a person or the agent's key ------------------------------------------------------------


def test_member_hands_a_conversation_to_the_team(client_for, member, held, agent):
    # when a teammate takes the conversation from the agent
    response = handoff(client_for(member), held, {"reason": "Customer asked for a human"})

    # then it is open for people, unassigned (the channel's default rule), and audited
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["agent"], body["assignee"]) == ("open", None, None)
    assert_with_people(held)
    audit = AuditLog.objects.get(action="conversation.handoff")
    assert audit.actor_user == member
    assert audit.target_id == str(held.pk)
    assert audit.metadata == {
        "agent": agent.pk,
        "reason": "Customer asked for a human",
        "rule": "unassigned",
        "assignee": None,
    }


def test_the_agent_hands_off_with_a_write_key(key_client_for, account, held):
    response = handoff(key_client_for(account, ["write"]), held)

    assert response.status_code == 200, response.json()
    assert_with_people(held)
    audit = AuditLog.objects.get(action="conversation.handoff")
    assert audit.actor_api_key is not None
    assert audit.metadata["reason"] == ""


def test_a_read_key_cannot_hand_off(key_client_for, account, held, agent):
    response = handoff(key_client_for(account, ["read"]), held)

    assert response.status_code == 403
    assert_still_held(held, agent)


def test_a_viewer_cannot_hand_off(client_for, viewer, held, agent):
    response = handoff(client_for(viewer), held)

    assert response.status_code == 403
    assert_still_held(held, agent)


def test_another_tenants_conversation_is_404(client_for, other_admin, key_client_for, other_account, held, agent):
    assert handoff(client_for(other_admin), held).status_code == 404
    assert handoff(key_client_for(other_account, ["write"]), held).status_code == 404
    assert_still_held(held, agent)


@pytest.mark.parametrize("body", [{"reason": "x" * 501}, {"reason": None}, {"assignee": 1}])
def test_bad_input_is_400_and_nothing_changes(client_for, member, held, agent, body):
    response = handoff(client_for(member), held, body)

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert_still_held(held, agent)


def test_a_conversation_no_agent_holds_is_409(client_for, member, conversation):
    # given a conversation people already hold
    conversation.assignee = member
    conversation.save()

    # when someone hands it off
    response = handoff(client_for(member), conversation)

    # then 409, and nothing changed
    assert response.status_code == 409
    assert response.json()["code"] == "not_held_by_agent"
    conversation.refresh_from_db()
    assert (conversation.status, conversation.assignee_id) == ("open", member.pk)
    assert not AuditLog.objects.filter(action="conversation.handoff").exists()


# --- by the platform -----------------------------------------------------------------------------


def test_the_platform_hands_off_as_the_system(held, agent):
    # when the platform hands off (as the runner's handoff event does)
    result = conversation_handoff(conversation=held, actor=None, reason="customer_request")

    # then the conversation is with people, and the audit row names no person
    assert result.pk == held.pk
    assert (held.agent_id, held.status) == (None, "open")  # the caller's instance follows along
    assert_with_people(held)
    audit = AuditLog.objects.get(action="conversation.handoff")
    assert (audit.actor_user, audit.actor_api_key, audit.actor_label) == (None, None, "")
    assert audit.metadata["reason"] == "customer_request"


def test_the_platform_handing_off_a_conversation_nobody_holds_is_a_conflict(conversation):
    with pytest.raises(Conflict):
        conversation_handoff(conversation=conversation, actor=None, reason="customer_request")
    assert not AuditLog.objects.filter(action="conversation.handoff").exists()


# --- round robin ---------------------------------------------------------------------------------


def test_round_robin_gives_each_handoff_to_the_least_busy_teammate(account, channel, agent):
    # given a round-robin number and a team: two who work the inbox, a viewer and a disabled user
    channel.handoff_rule = "round_robin"
    channel.save()
    first = UserFactory(account=account, role=Role.CLIENT_ADMIN)
    second = UserFactory(account=account, role=Role.USER)
    UserFactory(account=account, role=Role.VIEWER)
    UserFactory(account=account, role=Role.USER, is_active=False)
    UserFactory(role=Role.USER)  # another tenant's
    conversations = [
        ConversationFactory(account=account, channel=channel, agent=agent, status="pending") for _ in range(3)
    ]

    # when the agent hands off three conversations in turn
    for conversation in conversations:
        conversation_handoff(conversation=conversation, actor=None, reason="customer_request")

    # then they alternate between the two, the least busy first, ties to the earlier teammate
    assignees = list(
        Conversation.objects.filter(pk__in=[c.pk for c in conversations])
        .order_by("pk")
        .values_list("assignee_id", flat=True)
    )
    assert assignees == [first.pk, second.pk, first.pk]
    assert AuditLog.objects.filter(action="conversation.handoff", metadata__rule="round_robin").count() == 3


def test_round_robin_counts_open_conversations_already_held(account, channel, agent, member, client_admin, held):
    # given the admin already works two open conversations, the member one, and a resolved one
    channel.handoff_rule = "round_robin"
    channel.save()
    for _ in range(2):
        ConversationFactory(account=account, channel=channel, assignee=client_admin, status="open")
    ConversationFactory(account=account, channel=channel, assignee=member, status="open")
    ConversationFactory(account=account, channel=channel, assignee=member, status="resolved")

    # when the agent hands off
    conversation_handoff(conversation=held, actor=None, reason="customer_request")

    # then the member gets it
    assert_with_people(held, assignee=member)


def test_round_robin_with_nobody_to_take_it_leaves_it_unassigned(channel, held):
    channel.handoff_rule = "round_robin"
    channel.save()

    conversation_handoff(conversation=held, actor=None, reason="customer_request")

    assert_with_people(held)


# --- automatic: the runner fails -----------------------------------------------------------------


def test_runner_refusing_the_message_hands_off_at_once(runner, channel, agent, sample, post_webhook):
    # given a number whose default agent the runner refuses to run
    channel.default_agent = agent
    channel.save()
    runner.expect_request("/workflows/wf-1/messages").respond_with_json(
        {"error": {"code": "workflow_inactive", "message": "Workflow is not active"}}, status=400
    )

    # when a customer writes
    post_webhook(sample("text"))

    # then one attempt, and the conversation is with people straight away
    assert len(runner.log) == 1
    conversation = Conversation.objects.get()
    assert_with_people(conversation)
    audit = AuditLog.objects.get(action="conversation.handoff")
    assert (audit.actor_label, audit.metadata["reason"], audit.metadata["agent"]) == ("", "agent_unavailable", agent.pk)


def test_runner_down_for_good_hands_off_after_the_last_retry(runner, channel, agent, sample, post_webhook):
    channel.default_agent = agent
    channel.save()
    runner.expect_request("/workflows/wf-1/messages").respond_with_data("down", status=502)

    post_webhook(sample("text"))

    assert len(runner.log) == 6  # the first attempt and route_to_agent's 5 retries
    assert_with_people(Conversation.objects.get())
    assert AuditLog.objects.get(action="conversation.handoff").metadata["reason"] == "agent_unavailable"


@pytest.mark.parametrize("status", [AgentStatus.INACTIVE, AgentStatus.FAILED, AgentStatus.DELETED])
def test_message_for_an_agent_that_is_no_longer_active_hands_off(runner, held, agent, status):
    # given the agent holding the conversation stopped meanwhile
    agent.status = status
    agent.save()
    message = MessageFactory(conversation=held)

    # when the message is routed
    route_to_agent.delay(message.pk)

    # then nothing went to the runner and people have the conversation
    assert runner.log == []
    assert_with_people(held)
    assert AuditLog.objects.get(action="conversation.handoff").metadata["reason"] == "agent_unavailable"


def test_runner_not_configured_hands_off(settings, held):
    settings.SKYBOT_API_URL = ""
    message = MessageFactory(conversation=held)

    route_to_agent.delay(message.pk)

    assert_with_people(held)


def test_message_of_a_conversation_handed_off_meanwhile_is_not_routed(runner, conversation, member):
    # given the conversation went to people before the task ran
    message = MessageFactory(conversation=conversation)

    route_to_agent.delay(message.pk)

    assert runner.log == []
    assert not AuditLog.objects.filter(action="conversation.handoff").exists()


# --- automatic: the agent stays silent -----------------------------------------------------------


def test_beat_hands_off_conversations_the_agent_left_waiting_too_long(account, channel, agent):
    # given agents with their own reply timeouts, and conversations waiting for various times
    agent.reply_timeout_seconds = 120
    agent.save()
    patient = AgentFactory(account=account, status=AgentStatus.ACTIVE, reply_timeout_seconds=600)
    now = timezone.now()

    def waiting(by, seconds):
        since = now - timedelta(seconds=seconds) if seconds is not None else None
        return ConversationFactory(
            account=account, channel=channel, agent=by, status="pending", awaiting_agent_since=since
        )

    stale = waiting(agent, 200)
    recent = waiting(agent, 60)
    within_longer_timeout = waiting(patient, 300)
    stale_too = waiting(patient, 700)
    answered = waiting(agent, None)

    # when the beat task runs
    handed = handoff_stale_conversations.delay().get()

    # then only those past their agent's timeout went to people
    assert handed == 2
    assert_with_people(stale)
    assert_with_people(stale_too)
    for conversation, by in [(recent, agent), (within_longer_timeout, patient), (answered, agent)]:
        conversation.refresh_from_db()
        assert (conversation.agent_id, conversation.status) == (by.pk, "pending")
    reasons = set(AuditLog.objects.filter(action="conversation.handoff").values_list("metadata__reason", flat=True))
    assert reasons == {"agent_timeout"}


def test_beat_with_nothing_waiting_does_nothing(held):
    Conversation.objects.filter(pk=held.pk).update(awaiting_agent_since=None)

    assert handoff_stale_conversations.delay().get() == 0
    held.refresh_from_db()
    assert held.agent_id is not None


# --- the live event ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_handoff_event_reaches_the_tenants_feed_only(client_for, member, other_admin, held, agent):
    mine_token = auth_tokens_issue(user=member).access
    theirs_token = auth_tokens_issue(user=other_admin).access
    client = client_for(member)

    async def connect(token):
        from skybot_inbox.asgi import application

        communicator = WebsocketCommunicator(
            application, f"/ws/inbox/?token={token}", headers=[(b"origin", b"http://testserver")]
        )
        connected, _ = await communicator.connect()
        assert connected
        ready = await communicator.receive_json_from(timeout=5)
        assert ready["event"] == "ready"
        return communicator

    async def scenario():
        mine = await connect(mine_token)
        theirs = await connect(theirs_token)

        # when a teammate hands the conversation off
        response = await sync_to_async(handoff)(client, held, {"reason": "angry customer"})
        assert response.status_code == 200

        # then the tenant's sockets hear of it, another tenant's do not
        events = [await mine.receive_json_from(timeout=5) for _ in range(2)]
        assert [e["event"] for e in events] == ["conversation.handoff", "conversation.updated"]
        assert events[0]["data"]["id"] == held.pk
        assert events[0]["data"]["agent"] is None
        assert events[0]["data"]["status"] == "open"
        assert events[0]["data"]["handoff"] == {"agent": agent.pk, "reason": "angry customer", "by": "person"}
        assert await theirs.receive_nothing(timeout=0.5)
        await mine.disconnect()
        await theirs.disconnect()

    async_to_sync(scenario)()
