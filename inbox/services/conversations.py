"""Working a conversation: status, assignee, priority, labels, read state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from accounts.principals import Principal
from accounts.services.audit import SYSTEM, RequestContext, audit_log_record
from core.exceptions import ApplicationError
from core.realtime import publish
from inbox.hooks import Agent, agent_directory
from inbox.models import Channel, Contact, Conversation, ConversationStatus, Label
from inbox.serializers import conversation_event_data

_UNSET: Any = object()
VIEWER_NOT_ASSIGNABLE = "A viewer cannot answer conversations: give it to a user or an admin."


def may_be_assigned(user: User) -> bool:
    """Whether a conversation may be given to `user`: they must be able to answer it (not a VIEWER)."""
    return Role.rank(user.role) >= Role.rank(Role.USER)


@transaction.atomic
def conversation_update(
    *,
    conversation: Conversation,
    actor: Principal,
    context: RequestContext = SYSTEM,
    status: str | None = None,
    snoozed_until: datetime | None = _UNSET,
    priority: str | None = None,
    assignee: User | None = _UNSET,
    agent: Agent | None = _UNSET,
    labels: list[str] | None = None,
) -> Conversation:
    """Change what was given. An AI agent and a person never hold a conversation together: giving
    it to an agent clears the assignee and makes it `pending` for people; giving it to a person (or
    taking it from the agent) releases the agent and reopens a pending conversation."""
    changed: dict[str, Any] = {}
    if agent is not _UNSET and agent is not None and assignee is not _UNSET and assignee is not None:
        raise ApplicationError(
            "Give the conversation to an agent or to a person, not both.",
            code="validation_error",
            details={"agent": ["Cannot be set together with an assignee."]},
        )
    releasing = False
    if agent is not _UNSET and (agent.pk if agent else None) != conversation.agent_id:
        if agent is not None:
            if not agent_directory().may_hold(agent, account_id=conversation.account_id):
                raise ApplicationError(
                    "No such active agent.", code="validation_error", details={"agent": ["No such active agent."]}
                )
            if status is not None and status != ConversationStatus.PENDING:
                raise ApplicationError(
                    "A conversation held by an agent is pending for people.",
                    code="validation_error",
                    details={"status": ["Must be pending (or left out) when an agent takes the conversation."]},
                )
            assignee, status = None, ConversationStatus.PENDING
        else:
            releasing = True
        conversation.agent_id = agent.pk if agent else None
        conversation.awaiting_agent_since = None
        changed["agent"] = conversation.agent_id
    elif assignee is not _UNSET and assignee is not None and conversation.agent_id is not None:
        conversation.agent = None
        conversation.awaiting_agent_since = None
        changed["agent"] = None
        releasing = True
    if releasing and status is None and conversation.status == ConversationStatus.PENDING:
        status = ConversationStatus.OPEN
    if assignee is not _UNSET and assignee != conversation.assignee:
        if assignee is not None and (assignee.account_id != conversation.account_id or not assignee.is_active):
            raise ApplicationError(
                "No such teammate.", code="validation_error", details={"assignee": ["No such teammate."]}
            )
        if assignee is not None and not may_be_assigned(assignee):
            raise ApplicationError(
                VIEWER_NOT_ASSIGNABLE, code="validation_error", details={"assignee": [VIEWER_NOT_ASSIGNABLE]}
            )
        conversation.assignee = assignee
        changed["assignee"] = assignee.pk if assignee else None
    if status is not None and status != conversation.status:
        conversation.status = status
        changed["status"] = status
    if status == ConversationStatus.SNOOZED or conversation.status == ConversationStatus.SNOOZED:
        until = conversation.snoozed_until if snoozed_until is _UNSET else snoozed_until
        if until is None or until <= timezone.now():
            raise ApplicationError(
                "Snoozing needs a future snoozed_until.",
                code="validation_error",
                details={"snoozed_until": ["Required in the future when the status is snoozed."]},
            )
        if until != conversation.snoozed_until:
            conversation.snoozed_until = until
            changed["snoozed_until"] = until.isoformat()
    elif conversation.snoozed_until is not None:
        conversation.snoozed_until = None
    if priority is not None and priority != conversation.priority:
        conversation.priority = priority
        changed["priority"] = priority
    conversation.save()
    if labels is not None:
        wanted = sorted({name.strip() for name in labels if name.strip()})
        current = sorted(label.name for label in conversation.labels.all())
        if wanted != current:
            objects = [Label.objects.get_or_create(account_id=conversation.account_id, name=name)[0] for name in wanted]
            conversation.labels.set(objects)
            changed["labels"] = wanted
    if changed:
        audit_log_record(
            action="conversation.updated",
            actor=actor,
            account=conversation.account,
            target=conversation,
            context=context,
            metadata={"changes": changed},
        )
        publish(
            account_id=conversation.account_id,
            feed="inbox",
            event="conversation.updated",
            data=conversation_event_data(conversation),
        )
    return conversation


@transaction.atomic
def conversation_mark_read(*, conversation: Conversation, actor: Principal) -> Conversation:
    if conversation.unread_count:
        Conversation.objects.filter(pk=conversation.pk).update(unread_count=0, updated_at=timezone.now())
        conversation.unread_count = 0
        publish(
            account_id=conversation.account_id,
            feed="inbox",
            event="conversation.updated",
            data=conversation_event_data(conversation),
        )
    return conversation


@transaction.atomic
def conversation_open(
    *, channel: Channel, contact: Contact, actor: Principal, context: RequestContext = SYSTEM
) -> Conversation:
    """The conversation between `contact` and `channel`, started when there is none yet (to write
    first, with a template). A new one is audited and published as `conversation.created`."""
    if channel.account_id != contact.account_id:
        raise ValueError("The channel and the contact belong to different tenants.")
    conversation, created = Conversation.objects.get_or_create(
        channel=channel, contact=contact, defaults={"account_id": channel.account_id}
    )
    if created:
        audit_log_record(
            action="conversation.created",
            actor=actor,
            account=channel.account,
            target=conversation,
            context=context,
            metadata={"channel": channel.pk, "contact": contact.pk},
        )
        publish(
            account_id=conversation.account_id,
            feed="inbox",
            event="conversation.created",
            data=conversation_event_data(conversation),
        )
    return conversation
