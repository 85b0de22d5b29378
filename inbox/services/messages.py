"""Outbound messages: queue a reply (text, or a template outside the 24-hour window) and deliver it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.principals import Principal
from accounts.services.audit import SYSTEM, RequestContext, audit_log_record
from core.exceptions import Conflict
from core.realtime import publish
from core.transactions import after_commit
from inbox.hooks import Agent
from inbox.models import Conversation, Message, MessageDirection, MessageStatus, MessageType
from inbox.serializers import message_event_data
from inbox.services.sandbox import graph_api_for, sandbox_delivery_report
from inbox.whatsapp import GraphApiError


def customer_window_open(conversation: Conversation) -> bool:
    """WhatsApp allows free text only within 24 hours of the customer's last message."""
    if conversation.last_inbound_at is None:
        return False
    window = timedelta(hours=settings.CUSTOMER_SERVICE_WINDOW_HOURS)
    return conversation.last_inbound_at >= timezone.now() - window


def template_payload(*, name: str, language: str, parameters: list[str]) -> dict[str, Any]:
    template: dict[str, Any] = {"name": name, "language": {"code": language}}
    if parameters:
        template["components"] = [{"type": "body", "parameters": [{"type": "text", "text": p} for p in parameters]}]
    return {"type": "template", "template": template}


@transaction.atomic
def message_send(
    *,
    conversation: Conversation,
    actor: Principal,
    text: str = "",
    template: dict[str, Any] | None = None,
    agent: Agent | None = None,
    context: RequestContext = SYSTEM,
) -> Message:
    """Queue a reply; the `send_message` task delivers it after commit.

    With `agent`, the reply is the AI agent's (the actor is then usually the platform): it is marked
    as sent by the agent, and the conversation no longer waits for the agent's answer.
    """
    if agent is not None and agent.account_id != conversation.account_id:
        raise ValueError("The agent belongs to another tenant than the conversation.")
    if template is None and not customer_window_open(conversation):
        raise Conflict(
            "More than 24 hours have passed since the customer's last message: send an approved template instead.",
            code="customer_window_closed",
        )
    if template is not None:
        payload = template_payload(**template)
        kind, body = MessageType.TEMPLATE, f"[template {template['name']}]"
    else:
        payload = {"type": "text", "text": {"body": text, "preview_url": False}}
        kind, body = MessageType.TEXT, text
    now = timezone.now()
    changes: dict[str, Any] = {"last_message_at": now, "updated_at": now}
    if agent is None:
        changes["unread_count"] = 0  # a person answering has read the conversation
    else:
        changes["awaiting_agent_since"] = None
        conversation.awaiting_agent_since = None
    # The conversation's row first, then the message (whose insert adds its words to the
    # conversation's, migration inbox 0009): the order the ingest takes them in, so the two cannot deadlock.
    Conversation.objects.filter(pk=conversation.pk).update(**changes)
    message = Message.objects.create(
        account_id=conversation.account_id,
        conversation=conversation,
        channel_id=conversation.channel_id,
        direction=MessageDirection.OUTBOUND,
        type=kind,
        text=body,
        payload=payload,
        status=MessageStatus.QUEUED,
        sender_user=actor.user,
        sender_agent_id=agent.pk if agent else None,
    )
    audit_log_record(
        action="message.sent",
        actor=actor,
        account=conversation.account,
        target=message,
        context=context,
        metadata={"conversation": conversation.pk, "type": kind, **({"agent": agent.pk} if agent else {})},
    )
    publish(account_id=conversation.account_id, feed="inbox", event="message.created", data=message_event_data(message))
    from inbox.tasks import send_message

    after_commit(send_message.delay, message.pk)
    return message


def _mark_failed(message: Message, error: dict[str, Any]) -> None:
    now = timezone.now()
    Message.objects.filter(pk=message.pk).update(
        status=MessageStatus.FAILED, failed_at=now, error=error, updated_at=now
    )
    message.refresh_from_db()
    publish(account_id=message.account_id, feed="inbox", event="message.status", data=message_event_data(message))


def message_deliver(*, message: Message, final_attempt: bool) -> None:
    """Send a queued message through the Graph API (a sandbox number's: the platform's stand-in)
    and store its wamid.

    Raises `GraphApiError` when a retry may help (and this is not the last attempt); otherwise
    the message is marked failed with Meta's error.
    """
    if message.status != MessageStatus.QUEUED or message.external_id:
        return  # already delivered by an earlier run of this task
    channel = message.channel
    try:
        with graph_api_for(channel) as client:
            sent = client.send(to=message.conversation.contact.wa_id, message=message.payload)
    except GraphApiError as exc:
        if exc.retryable and not final_attempt:
            raise
        _mark_failed(message, exc.as_error())
        return
    now = timezone.now()
    Message.objects.filter(pk=message.pk, status=MessageStatus.QUEUED).update(
        external_id=sent.wamid, status=MessageStatus.SENT, sent_at=now, updated_at=now
    )
    message.refresh_from_db()
    publish(account_id=message.account_id, feed="inbox", event="message.status", data=message_event_data(message))
    if channel.is_sandbox and message.external_id == sent.wamid:
        # What Meta's webhook would say next; only now, so the statuses find the stored wamid.
        sandbox_delivery_report(message=message)
