"""Zapier: REST hook subscriptions (webhook endpoints with `source=zapier`) and the two actions,
built on the same services as the rest of the API."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from accounts.models import Account
from accounts.principals import Principal
from accounts.services.audit import SYSTEM, RequestContext
from core import outbound
from core.exceptions import ApplicationError
from inbox.models import Channel, Contact, Conversation, Message
from inbox.services.conversations import conversation_open
from inbox.services.crm import contact_create
from inbox.services.messages import message_send
from integrations.models import EndpointSource
from integrations.services.webhooks import IssuedEndpoint, webhook_endpoint_create

# Zapier's trigger names → the public event types their hooks receive.
HOOK_EVENTS = {
    "new_lead": "lead.created",
    "agent_executed": "agent.execution.finished",
    "message_received": "message.received",
}
HOOK_EVENT_CHOICES = [(name, name) for name in HOOK_EVENTS]


def _invalid(field: str, message: str) -> ApplicationError:
    return ApplicationError(message, code="validation_error", details={field: [message]})


def zapier_hook_subscribe(
    *, account: Account, actor: Principal, target_url: str, event: str, context: RequestContext = SYSTEM
) -> IssuedEndpoint:
    """Subscribe a Zap's hook URL to one trigger's events; a 410 from it later removes it."""
    try:
        outbound.check_url(target_url.strip())
    except outbound.BlockedDestination as exc:
        raise _invalid("target_url", str(exc)) from None
    return webhook_endpoint_create(
        account=account,
        actor=actor,
        url=target_url,
        events=[HOOK_EVENTS[event]],
        description=f"Zapier: {event}",
        source=EndpointSource.ZAPIER,
        context=context,
    )


def _channel_for(account: Account, channel_id: int | None) -> Channel:
    channels = Channel.objects.filter(account=account, is_active=True)
    if channel_id is not None:
        channel = channels.filter(pk=channel_id).first()
        if channel is None:
            raise _invalid("channel", "No such WhatsApp number.")
        return channel
    found = list(channels[:2])
    if not found:
        raise _invalid("channel", "This account has no WhatsApp number connected.")
    if len(found) > 1:
        raise _invalid("channel", "This account has several WhatsApp numbers: choose one.")
    return found[0]


@transaction.atomic
def zapier_message_send(
    *,
    account: Account,
    actor: Principal,
    conversation_id: int | None = None,
    to: str | None = None,
    channel_id: int | None = None,
    text: str = "",
    template: dict[str, Any] | None = None,
    context: RequestContext = SYSTEM,
) -> Message:
    """Send a WhatsApp message into an existing conversation, or to a number: its contact and
    conversation are started when missing (which only a template can open: free text needs the
    customer to have written in the last 24 hours). Nothing is kept when the send is refused."""
    if conversation_id is not None:
        conversation = (
            Conversation.objects.select_related("account", "contact")
            .filter(account=account, pk=conversation_id)
            .first()
        )
        if conversation is None:
            raise _invalid("conversation", "No such conversation.")
    else:
        assert to is not None
        channel = _channel_for(account, channel_id)
        contact = Contact.objects.filter(account=account, wa_id=to).first()
        if contact is None:
            contact = contact_create(account=account, actor=actor, context=context, wa_id=to)
        conversation = conversation_open(channel=channel, contact=contact, actor=actor, context=context)
    return message_send(conversation=conversation, actor=actor, text=text, template=template, context=context)
