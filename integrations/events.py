"""The public event types integrators subscribe to, and how the live-feed events map onto them.

The web UI's live feeds (`core.realtime`) carry internal names and whatever fields the UI needs;
webhooks, Zapier hooks and the polling triggers promise a stable contract instead. Each public type
lists the fields its `data` carries; a field the feed adds later does not leak into webhooks until
it is added here (and documented in docs/webhooks.md).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

CONVERSATION_FIELDS = (
    "id",
    "status",
    "snoozed_until",
    "priority",
    "assignee",
    "agent",
    "labels",
    "channel",
    "contact",
    "last_message_at",
    "last_inbound_at",
    "unread_count",
    "created_at",
    "updated_at",
)
MESSAGE_FIELDS = (
    "id",
    "conversation",
    "channel",
    "contact",
    "direction",
    "type",
    "text",
    "media",
    "external_id",
    "status",
    "error",
    "sender_user",
    "sender_agent",
    "sent_at",
    "delivered_at",
    "read_at",
    "failed_at",
    "external_timestamp",
    "created_at",
)
MEDIA_FIELDS = ("mime_type", "caption", "filename")
LEAD_FIELDS = (
    "id",
    "name",
    "email",
    "phone",
    "company",
    "source",
    "status",
    "score",
    "contact",
    "metadata",
    "created_at",
    "updated_at",
)
EXECUTION_FIELDS = (
    "id",
    "agent",
    "external_id",
    "status",
    "started_at",
    "finished_at",
    "duration_ms",
    "input_summary",
    "output_summary",
    "error",
    "conversation",
    "message",
)
AGENT_FIELDS = ("id", "name", "status", "last_error", "deployed_at")
HANDOFF_FIELDS = (*CONVERSATION_FIELDS, "handoff")


@dataclass(frozen=True)
class EventType:
    name: str
    description: str
    fields: tuple[str, ...]


EVENT_TYPES: dict[str, EventType] = {
    event.name: event
    for event in [
        EventType(
            "conversation.created",
            "A conversation started (a new customer, or a number's first message).",
            CONVERSATION_FIELDS,
        ),
        EventType(
            "conversation.updated",
            "A conversation changed: status, assignee, agent, labels, unread count or new activity.",
            CONVERSATION_FIELDS,
        ),
        EventType(
            "conversation.handed_off",
            "An AI agent (or a teammate for it) handed a conversation to the team.",
            HANDOFF_FIELDS,
        ),
        EventType(
            "message.created",
            "A message was added to a conversation, inbound or outbound.",
            MESSAGE_FIELDS,
        ),
        EventType(
            "message.received",
            "A customer's message arrived (inbound `message.created` only).",
            MESSAGE_FIELDS,
        ),
        EventType(
            "message.status",
            "An outbound message moved on: sent, delivered, read or failed.",
            MESSAGE_FIELDS,
        ),
        EventType(
            "lead.created",
            "A lead was created.",
            LEAD_FIELDS,
        ),
        EventType(
            "lead.updated",
            "A lead was changed.",
            LEAD_FIELDS,
        ),
        EventType(
            "agent.execution.started",
            "An AI agent's workflow started a run.",
            EXECUTION_FIELDS,
        ),
        EventType(
            "agent.execution.finished",
            "An AI agent's run finished (succeeded or failed).",
            EXECUTION_FIELDS,
        ),
        EventType(
            "agent.status",
            "An AI agent's status changed (deploying, active, inactive, failed...).",
            AGENT_FIELDS,
        ),
    ]
}

EVENT_CHOICES = [(name, name) for name in EVENT_TYPES]

# Sent by "test" on one endpoint only; nobody subscribes to it.
PING = "ping"

# (live feed, feed event) → public event type.
FEED_EVENTS: dict[tuple[str, str], str] = {
    ("inbox", "conversation.created"): "conversation.created",
    ("inbox", "conversation.updated"): "conversation.updated",
    ("inbox", "conversation.handoff"): "conversation.handed_off",
    ("inbox", "message.created"): "message.created",
    ("inbox", "message.status"): "message.status",
    ("inbox", "lead.created"): "lead.created",
    ("inbox", "lead.updated"): "lead.updated",
    ("agents", "execution.started"): "agent.execution.started",
    ("agents", "execution.finished"): "agent.execution.finished",
    ("agents", "agent.status"): "agent.status",
}

# The types whose `data` names a message's conversation, to which the payload adds the contact.
MESSAGE_TYPES = frozenset({"message.created", "message.received", "message.status"})


def public_data(event_type: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """`data` cut down to the fields `event_type` promises (missing ones are null)."""
    fields = EVENT_TYPES[event_type].fields
    public = {name: data.get(name) for name in fields}
    if "media" in public:
        media = public["media"] or {}
        public["media"] = {name: media[name] for name in MEDIA_FIELDS if name in media}
    return public


def public_events(feed: str, event: str, data: Mapping[str, Any]) -> Iterator[str]:
    """The public event types one live-feed event stands for (none, one, or two)."""
    public = FEED_EVENTS.get((feed, event))
    if public is None:
        return
    yield public
    if public == "message.created" and data.get("direction") == "in":
        yield "message.received"
