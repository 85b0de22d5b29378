"""Who holds a conversation: the channel's default agent takes a new one, customer messages go to
the agent holding theirs, its replies go out only while it holds it, and it hands it to the team
(by itself, by a person, or automatically when the runner fails, the agent stops or lets the
customer wait too long)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import structlog
from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Role, User
from accounts.principals import Principal
from accounts.services.audit import SYSTEM, RequestContext, audit_log_record
from agents.hooks import agent_runtime
from agents.models import Agent, AgentExecution, AgentRuntime, AgentStatus
from agents.skybot import SkyBotClient, SkyBotError, SkyBotUnavailable
from core.exceptions import Conflict
from core.locks import lock_keys
from core.realtime import FeedEvent, publish_many
from inbox.models import Conversation, ConversationStatus, Message
from inbox.serializers import conversation_event_data, message_event_data
from inbox.services.messages import message_send

logger = structlog.get_logger(__name__)

REASON_AGENT_UNAVAILABLE = "agent_unavailable"
REASON_AGENT_TIMEOUT = "agent_timeout"

# How many stale conversations one beat run hands off; the next run (30 s later) takes the rest.
STALE_BATCH = 500


def conversations_give_default_agent(*, conversations: list[Conversation], default_agents: dict[int, int]) -> None:
    """Give each new (unsaved) conversation to its channel's default agent (`default_agents`:
    channel id → agent id) when that agent is active: held by it, pending for people."""
    wanted_agents = {default_agents[c.channel_id] for c in conversations if c.channel_id in default_agents}
    if not wanted_agents:
        return
    active_agents = set(
        Agent.objects.filter(pk__in=wanted_agents, status=AgentStatus.ACTIVE).values_list("pk", flat=True)
    )
    for conversation in conversations:
        agent_id = default_agents.get(conversation.channel_id)
        if agent_id in active_agents:
            conversation.agent_id = agent_id
            conversation.status = ConversationStatus.PENDING


def _round_robin_assignee(account_id: int) -> User | None:
    """The active USER or CLIENT_ADMIN with the fewest open conversations (ties: the oldest user)."""
    open_conversations = (
        Conversation.objects.filter(assignee=OuterRef("pk"), status=ConversationStatus.OPEN)
        .order_by()
        .values("assignee")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        User.objects.filter(account_id=account_id, is_active=True, role__in=[Role.USER, Role.CLIENT_ADMIN])
        .annotate(open_count=Coalesce(Subquery(open_conversations, output_field=IntegerField()), Value(0)))
        .order_by("open_count", "id")
        .first()
    )


@transaction.atomic
def conversation_handoff(
    *, conversation: Conversation, actor: Principal | None, reason: str, context: RequestContext = SYSTEM
) -> Conversation:
    """Take the conversation from its agent: open it for people, assign it per the channel's rule,
    and tell the inbox feed (`conversation.handoff`). `actor` None means the platform did it.

    Raises `Conflict` when no agent holds the conversation (any more)."""
    locked = (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("channel", "contact", "account")
        .filter(pk=conversation.pk)
        .first()
    )
    if locked is None or locked.agent_id is None:
        raise Conflict("No AI agent holds this conversation.", code="not_held_by_agent")
    agent_id = locked.agent_id
    rule = locked.channel.handoff_rule
    assignee: User | None = None
    if rule == "round_robin":
        # One pick at a time per tenant, so two simultaneous handoffs do not land on the same person.
        lock_keys("inbox.handoff_round_robin", [locked.account_id])
        assignee = _round_robin_assignee(locked.account_id)

    locked.agent = None
    locked.awaiting_agent_since = None
    locked.status = ConversationStatus.OPEN
    locked.snoozed_until = None
    locked.assignee = assignee
    locked.save(update_fields=["agent", "awaiting_agent_since", "status", "snoozed_until", "assignee", "updated_at"])
    audit_log_record(
        action="conversation.handoff",
        actor=actor,
        account=locked.account,
        target=locked,
        context=context,
        metadata={
            "agent": agent_id,
            "reason": reason,
            "rule": rule,
            "assignee": assignee.pk if assignee else None,
        },
    )
    data = conversation_event_data(locked)
    publish_many(
        [
            FeedEvent(
                locked.account_id,
                "inbox",
                "conversation.handoff",
                {
                    **data,
                    "handoff": {"agent": agent_id, "reason": reason, "by": "system" if actor is None else "person"},
                },
            ),
            FeedEvent(locked.account_id, "inbox", "conversation.updated", data),
        ]
    )
    logger.info("conversation_handoff", conversation_id=locked.pk, agent_id=agent_id, reason=reason, rule=rule)
    # The caller's instance follows along.
    for name in ("agent_id", "awaiting_agent_since", "status", "snoozed_until", "assignee_id", "updated_at"):
        setattr(conversation, name, getattr(locked, name))
    return locked


def handoff_from_agent(
    *, conversation_id: int, agent_id: int, reason: str, stale_before: datetime | None = None
) -> bool:
    """Hand off on the platform's behalf, unless the agent let go (or answered) meanwhile."""
    with transaction.atomic():
        held = Q(pk=conversation_id, agent_id=agent_id)
        if stale_before is not None:
            held &= Q(awaiting_agent_since__lt=stale_before)
        conversation = Conversation.objects.select_for_update(of=("self",)).filter(held).first()
        if conversation is None:
            return False
        conversation_handoff(conversation=conversation, actor=None, reason=reason)
        return True


def agent_message_payload(message: Message, agent: Agent) -> dict[str, Any]:
    """What the agent's workflow receives for one customer message (see docs/skybot-runner.md)."""
    conversation = message.conversation
    contact = conversation.contact
    return {
        "event": "message.received",
        "account": {"id": message.account_id},
        "agent": {"id": agent.pk, "name": agent.name},
        "channel": {"id": message.channel_id, "phone_number_id": message.channel.phone_number_id},
        "conversation": {"id": conversation.pk, "status": conversation.status},
        "contact": {"id": contact.pk, "wa_id": contact.wa_id, "name": contact.name},
        "message": message_event_data(message),
    }


def message_route_to_agent(*, message: Message, final_attempt: bool = True) -> bool:
    """Send an inbound message to the workflow of the agent holding its conversation, or to the
    runtime that answers a plugin agent (`agents.hooks.agent_runtime`).

    Answers whether the runner took it. When the agent cannot answer — not active, the runner
    refused (4xx) or stayed unavailable on the final attempt — the conversation goes to the team at
    once (`agent_unavailable`). Raises `SkyBotUnavailable` when another attempt may help.
    """
    conversation = message.conversation
    agent = conversation.agent
    if agent is None:
        return False  # handed to a person meanwhile: people answer it
    runtime_name = agent.template.runtime
    if agent.status != AgentStatus.ACTIVE or (runtime_name == AgentRuntime.RUNNER and not agent.skybot_workflow_id):
        logger.warning("agent_route_agent_not_active", agent_id=agent.pk, message_id=message.pk, status=agent.status)
        handoff_from_agent(conversation_id=conversation.pk, agent_id=agent.pk, reason=REASON_AGENT_UNAVAILABLE)
        return False
    if runtime_name != AgentRuntime.RUNNER:
        runtime = agent_runtime(runtime_name)
        if runtime is None:
            logger.warning("agent_route_no_runtime", agent_id=agent.pk, runtime=runtime_name)
            handoff_from_agent(conversation_id=conversation.pk, agent_id=agent.pk, reason=REASON_AGENT_UNAVAILABLE)
            return False
        # The runtime answers (or hands the conversation to the team) by itself.
        runtime.answer(message=message, agent=agent)
        return True
    try:
        with SkyBotClient() as client:
            client.send_message(
                agent.skybot_workflow_id,
                payload=agent_message_payload(message, agent),
                idempotency_key=f"message-{message.pk}",
            )
    except SkyBotUnavailable as exc:
        if not final_attempt:
            raise
        logger.warning("agent_route_gave_up", agent_id=agent.pk, message_id=message.pk, error=exc.message)
    except SkyBotError as exc:  # rejected (4xx) or not configured: retrying will not help
        logger.warning(
            "agent_route_refused", agent_id=agent.pk, message_id=message.pk, status=exc.status, error=exc.message
        )
    else:
        return True
    handoff_from_agent(conversation_id=conversation.pk, agent_id=agent.pk, reason=REASON_AGENT_UNAVAILABLE)
    return False


@transaction.atomic
def execution_reply_post(
    *, execution: AgentExecution, agent: Agent, conversation: Conversation | None, text: str
) -> Message | None:
    """Send the agent's reply to its conversation through the inbox's send path.

    Only a conversation the agent holds gets it; otherwise the reply is dropped (and logged). When
    WhatsApp's 24-hour window is closed, the reason is kept in the execution's `error`.
    """
    if conversation is None:
        logger.info("agent_reply_ignored", reason="no_conversation", execution=execution.pk, agent=agent.pk)
        return None
    held = Conversation.objects.select_for_update().filter(pk=conversation.pk, account_id=agent.account_id).first()
    if held is None or held.agent_id != agent.pk:
        logger.info(
            "agent_reply_ignored",
            reason="conversation_not_held",
            execution=execution.pk,
            agent=agent.pk,
            conversation=conversation.pk,
        )
        return None
    try:
        return message_send(conversation=held, actor=Principal.platform_key(), text=text, agent=agent)
    except Conflict as exc:
        execution.error = "\n".join(filter(None, [execution.error, f"Reply not sent: {exc.message}"]))
        execution.save(update_fields=["error"])
        logger.info("agent_reply_refused", code=exc.code, execution=execution.pk, conversation=held.pk)
        return None


def conversations_handoff_stale(*, now: datetime | None = None, limit: int = STALE_BATCH) -> int:
    """Hand to the team every conversation whose agent has not answered within its
    `reply_timeout_seconds`; answers how many were handed off.

    Set-based: one query for the distinct timeouts in play, then one range condition on
    `awaiting_agent_since` per timeout (portable date arithmetic, and each branch can use an index).
    """
    now = now or timezone.now()
    timeouts = set(
        Agent.objects.filter(conversations__awaiting_agent_since__isnull=False)
        .order_by()
        .values_list("reply_timeout_seconds", flat=True)
        .distinct()
    )
    if not timeouts:
        return 0
    stale = Q()
    for seconds in timeouts:
        stale |= Q(agent__reply_timeout_seconds=seconds, awaiting_agent_since__lt=now - timedelta(seconds=seconds))
    candidates = list(
        Conversation.objects.filter(stale, agent__isnull=False)
        .order_by("awaiting_agent_since", "id")
        .values_list("pk", "agent_id", "agent__reply_timeout_seconds")[:limit]
    )
    handed = 0
    for conversation_id, agent_id, seconds in candidates:
        if handoff_from_agent(
            conversation_id=conversation_id,
            agent_id=agent_id,
            reason=REASON_AGENT_TIMEOUT,
            stale_before=now - timedelta(seconds=seconds),
        ):
            handed += 1
    if handed:
        logger.info("agent_timeouts_handed_off", conversations=handed)
    return handed
