"""Turning stored WhatsApp webhook deliveries into contacts, conversations, messages and statuses.

Deliveries are processed in batches: a drain claims up to `BATCH_SIZE` pending deliveries
(`SELECT ... FOR UPDATE SKIP LOCKED`, so several workers share the queue), locks the channels they
name, and applies them with a handful of set-based queries in one transaction. Meta delivers at
least once and out of order, so every step is idempotent: a message exists at most once per
(channel, wamid) — a database constraint guarantees it — and a delivery status only moves forward.
A status for a message we have not stored yet (its send task is still running) is deferred and
tried again, a few times, before it is given up.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import Model, Q, QuerySet
from django.utils import timezone

from core.bulk import bulk_update_rows
from core.hooks import announce
from core.locks import lock_keys
from core.realtime import FeedEvent, publish_many
from core.serializers import rows_represent
from core.transactions import after_commit
from inbox.hooks import ConversationsOpening, CustomerMessageArrived
from inbox.metrics import unknown_number_deliveries
from inbox.models import (
    MEDIA_TYPES,
    Channel,
    Contact,
    Conversation,
    ConversationStatus,
    InboundWebhookEvent,
    Message,
    MessageDirection,
    MessageStatus,
    MessageType,
    RouterConfig,
    WebhookEventStatus,
)
from inbox.serializers import ConversationSerializer, MessageSerializer

logger = structlog.get_logger(__name__)
ModelT = TypeVar("ModelT", bound=Model)

BATCH_SIZE = 500
# A status may overtake the task that stores its message's wamid: retry it this many times.
MISSING_MESSAGE_ATTEMPTS = 5

# Order in which an outbound message's status may advance; `failed` only from queued or sent.
STATUS_RANK = {MessageStatus.QUEUED: 0, MessageStatus.SENT: 1, MessageStatus.DELIVERED: 2, MessageStatus.READ: 3}
STATUS_TIMESTAMP = {
    MessageStatus.SENT: "sent_at",
    MessageStatus.DELIVERED: "delivered_at",
    MessageStatus.READ: "read_at",
    MessageStatus.FAILED: "failed_at",
}
KNOWN_TYPES = {choice.value for choice in MessageType} - {"template", "unsupported"}


@dataclass
class DrainResult:
    events: int = 0
    messages_created: int = 0
    duplicates: int = 0
    statuses_applied: int = 0
    deferred: int = 0
    unknown_numbers: set[str] = field(default_factory=set)


# --- parsing --------------------------------------------------------------------------------------


def _when(timestamp: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(timestamp), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def parse_message(raw: dict[str, Any]) -> dict[str, Any]:
    """Map one Meta message object onto Message fields (type, text, media). Unknown types are kept
    raw as `unsupported`, never dropped."""
    kind = str(raw.get("type") or "")
    found = raw.get(kind)
    body: dict[str, Any] = found if isinstance(found, dict) else {}
    text = ""
    media: dict[str, Any] = {}
    if kind == "text":
        text = str(body.get("body", ""))
    elif kind in MEDIA_TYPES:
        media = {
            k: body[k] for k in ("id", "mime_type", "sha256", "caption", "filename", "animated", "voice") if k in body
        }
        media["download_status"] = "pending"
        text = str(body.get("caption", ""))
    elif kind == "location":
        label = ", ".join(str(body[k]) for k in ("name", "address") if body.get(k))
        text = label or f"{body.get('latitude')}, {body.get('longitude')}"
    elif kind == "contacts":
        people = raw.get("contacts") or []
        text = ", ".join(str((p.get("name") or {}).get("formatted_name", "")) for p in people if isinstance(p, dict))
    elif kind == "interactive":
        reply = body.get(body.get("type", ""))
        text = str(reply.get("title", "")) if isinstance(reply, dict) else ""
    elif kind == "button":
        text = str(body.get("text", ""))
    elif kind == "reaction":
        text = str(body.get("emoji", ""))  # empty emoji: the customer removed their reaction
    if kind not in KNOWN_TYPES:
        kind = MessageType.UNSUPPORTED
    return {"type": kind, "text": text, "media": media}


def _changes(body: str) -> list[dict[str, Any]]:
    try:
        payload = json.loads(body)
    except ValueError:
        return []
    values = []
    for entry in payload.get("entry") or [] if isinstance(payload, dict) else []:
        if not isinstance(entry, dict):
            continue
        for change in entry.get("changes") or []:
            if isinstance(change, dict) and change.get("field") == "messages" and isinstance(change.get("value"), dict):
                values.append(change["value"])
    return values


def _phone_number_id(value: dict[str, Any]) -> str:
    metadata = value.get("metadata")
    return str(metadata.get("phone_number_id") or "") if isinstance(metadata, dict) else ""


def _dicts(value: dict[str, Any], key: str) -> list[dict[str, Any]]:
    items = value.get(key)
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _rows(
    queryset: QuerySet[ModelT], keys: Iterable[tuple[Any, Any]], first: str, second: str
) -> dict[tuple[Any, Any], ModelT]:
    """Rows whose (first, second) is among `keys`, by key: two IN lists, then an exact match."""
    keys = set(keys)
    if not keys:
        return {}
    lefts = {left for left, _ in keys}
    rights = {right for _, right in keys}
    rows = queryset.filter(**{f"{first}__in": lefts, f"{second}__in": rights})
    return {key: row for row in rows if (key := (getattr(row, first), getattr(row, second))) in keys}


# --- one batch ------------------------------------------------------------------------------------


@dataclass
class _Batch:
    """What one batch of deliveries asks for, gathered before touching the database."""

    events: list[InboundWebhookEvent]
    values: dict[int, list[tuple[Channel, dict[str, Any]]]] = field(default_factory=dict)
    unknown: dict[int, set[str]] = field(default_factory=dict)


def _contacts(wanted: dict[tuple[int, str], str]) -> dict[tuple[int, str], Contact]:
    """Existing or new contacts for (account_id, wa_id); a profile name fills an empty name."""
    if not wanted:
        return {}
    found = _rows(Contact.objects.all(), wanted, "account_id", "wa_id")
    missing = [key for key in wanted if key not in found]
    if missing:
        # Contacts can also be created through the API at the same moment: tolerate that race.
        Contact.objects.bulk_create(
            [Contact(account_id=a, wa_id=w, phone=w, name=wanted[(a, w)]) for a, w in missing], ignore_conflicts=True
        )
        found.update(_rows(Contact.objects.all(), missing, "account_id", "wa_id"))
    renamed = []
    for key, name in wanted.items():
        contact = found[key]
        if name and not contact.name:
            contact.name = name
            renamed.append(contact)
    bulk_update_rows(renamed, ["name", "updated_at"])
    return found


def _conversations(
    pairs: dict[tuple[int, int], tuple[int, datetime]], default_agents: dict[int, int]
) -> tuple[dict[tuple[int, int], Conversation], set[int]]:
    """Conversations for (channel_id, contact_id), created where missing; locked for update.

    A new conversation starts open for people, unless a `ConversationsOpening` handler gives it to
    the channel's default agent (`default_agents`: channel id → agent id) to hold."""
    found = _rows(Conversation.objects.select_for_update(), pairs, "channel_id", "contact_id")
    new = []
    for channel_id, contact_id in (pair for pair in pairs if pair not in found):
        account_id, first_at = pairs[(channel_id, contact_id)]
        new.append(
            Conversation(
                account_id=account_id,
                channel_id=channel_id,
                contact_id=contact_id,
                last_message_at=first_at,
                status=ConversationStatus.OPEN,
            )
        )
    if new:
        announce(ConversationsOpening(conversations=new, default_agents=default_agents))
    # The channels are locked, and only ingestion opens conversations: no other writer can race us.
    for conversation in Conversation.objects.bulk_create(new):
        found[(conversation.channel_id, conversation.contact_id)] = conversation
    return found, {c.pk for c in new}


def _ingest_messages(batch: _Batch, result: DrainResult, feed: list[FeedEvent], followups: list[Message]) -> None:
    wanted: dict[tuple[int, str], str] = {}
    candidates: dict[tuple[int, str], tuple[Channel, dict[str, Any], str, float]] = {}
    received = {event.pk: event.received_at.timestamp() for event in batch.events}
    for event_id, values in batch.values.items():
        for channel, value in values:
            for profile in _dicts(value, "contacts"):
                if profile.get("wa_id"):
                    key = (channel.account_id, str(profile["wa_id"]))
                    wanted[key] = wanted.get(key) or str((profile.get("profile") or {}).get("name", ""))
            for raw in _dicts(value, "messages"):
                if not raw.get("from") or not raw.get("id"):
                    continue
                sender = str(raw["from"])
                wanted.setdefault((channel.account_id, sender), "")
                key = (channel.pk, str(raw["id"]))
                if key in candidates:
                    result.duplicates += 1
                else:
                    candidates[key] = (channel, raw, sender, received[event_id])
    if not candidates:
        _contacts(wanted)
        return
    contacts = _contacts(wanted)

    existing = set(_rows(Message.objects.all(), candidates, "channel_id", "external_id"))
    result.duplicates += len(existing)
    fresh = [(key, value) for key, value in candidates.items() if key not in existing]
    if not fresh:
        return

    now = timezone.now()
    pairs: dict[tuple[int, int], tuple[int, datetime]] = {}
    prepared = []
    for (_channel_id, wamid), (channel, raw, sender, received_at) in fresh:
        contact = contacts[(channel.account_id, sender)]
        when = _when(raw.get("timestamp")) or now
        pair = (channel.pk, contact.pk)
        pairs[pair] = (channel.account_id, min(when, pairs.get(pair, (0, when))[1]))
        prepared.append((pair, channel, raw, wamid, when, received_at))
    default_agents = {channel.pk: channel.default_agent_id for _, (channel, *_) in fresh if channel.default_agent_id}
    conversations, created_ids = _conversations(pairs, default_agents)

    messages = []
    received_times = []  # when each message's webhook was received, for the delivery-time histogram
    for pair, channel, raw, wamid, when, received_at in prepared:
        conversation = conversations[pair]
        parsed = parse_message(raw)
        received_times.append(received_at)
        messages.append(
            Message(
                account_id=channel.account_id,
                conversation=conversation,
                channel_id=channel.pk,
                direction=MessageDirection.INBOUND,
                status=MessageStatus.RECEIVED,
                external_id=wamid,
                external_timestamp=when,
                payload=raw,
                **parsed,
            )
        )
        if conversation.last_message_at is None or when > conversation.last_message_at:
            conversation.last_message_at = when
        if conversation.last_inbound_at is None or when > conversation.last_inbound_at:
            conversation.last_inbound_at = when
        if parsed["type"] != MessageType.REACTION:
            conversation.unread_count += 1
        # A customer writing again brings a resolved or snoozed thread back to the team (or to the
        # agent holding it, which then owes an answer: see handoff.services).
        if conversation.status in (ConversationStatus.RESOLVED, ConversationStatus.SNOOZED):
            conversation.status = ConversationStatus.PENDING if conversation.agent_id else ConversationStatus.OPEN
            conversation.snoozed_until = None
        if conversation.agent_id is not None and conversation.awaiting_agent_since is None:
            conversation.awaiting_agent_since = now
    Message.objects.bulk_create(messages, batch_size=BATCH_SIZE)
    result.messages_created += len(messages)
    touched = {m.conversation_id for m in messages}
    changed = [c for c in conversations.values() if c.pk in touched]
    for conversation in changed:
        conversation.updated_at = now
    bulk_update_rows(
        changed,
        [
            "last_message_at",
            "last_inbound_at",
            "unread_count",
            "status",
            "snoozed_until",
            "awaiting_agent_since",
            "updated_at",
        ],
    )

    fresh_conversations = list(
        Conversation.objects.filter(pk__in=touched).select_related("contact").prefetch_related("labels")
    )
    for conversation, data in zip(
        fresh_conversations, rows_represent(ConversationSerializer, fresh_conversations), strict=True
    ):
        name = "conversation.created" if conversation.pk in created_ids else "conversation.updated"
        feed.append(FeedEvent(conversation.account_id, "inbox", name, data))
    serialized = rows_represent(MessageSerializer, messages)
    for message, data, received_at in zip(messages, serialized, received_times, strict=True):
        feed.append(FeedEvent(message.account_id, "inbox", "message.created", data, received_at))
    followups.extend(messages)


def _apply_statuses(batch: _Batch, result: DrainResult, feed: list[FeedEvent], deferred: set[int]) -> None:
    wanted: list[tuple[int, Channel, dict[str, Any]]] = []
    for event_id, values in batch.values.items():
        for channel, value in values:
            wanted.extend(
                (event_id, channel, raw) for raw in _dicts(value, "statuses") if raw.get("status") in STATUS_TIMESTAMP
            )
    if not wanted:
        return
    keys = {(channel.pk, str(raw.get("id") or "")) for _event_id, channel, raw in wanted}
    messages = _rows(Message.objects.filter(direction=MessageDirection.OUTBOUND), keys, "channel_id", "external_id")
    now = timezone.now()
    changed: dict[int, Message] = {}
    for event_id, channel, raw in wanted:
        message = messages.get((channel.pk, str(raw.get("id") or "")))
        if message is None:
            deferred.add(event_id)
            continue
        status = MessageStatus(raw["status"])
        when = _when(raw.get("timestamp")) or now
        stamp = STATUS_TIMESTAMP[status]
        touched = False
        if getattr(message, stamp) is None:  # record when each step happened, even if it arrives late
            setattr(message, stamp, when)
            touched = True
        if status == MessageStatus.FAILED:
            if message.status in (MessageStatus.QUEUED, MessageStatus.SENT):
                errors = _dicts(raw, "errors")
                first = errors[0] if errors else {}
                message.status = status
                message.error = {
                    "code": first.get("code"),
                    "title": str(first.get("title", "")),
                    "message": str(first.get("message", "")),
                    "details": str((first.get("error_data") or {}).get("details", "")),
                }
                touched = True
        elif STATUS_RANK.get(MessageStatus(message.status), 99) < STATUS_RANK[status]:
            message.status = status
            touched = True
        if touched:
            message.updated_at = now
            changed[message.pk] = message
    if changed:
        rows = list(changed.values())
        bulk_update_rows(rows, ["status", "sent_at", "delivered_at", "read_at", "failed_at", "error", "updated_at"])
        result.statuses_applied += len(rows)
        for message, data in zip(rows, rows_represent(MessageSerializer, rows), strict=True):
            feed.append(FeedEvent(message.account_id, "inbox", "message.status", data))


def _follow_up(messages: list[Message]) -> None:
    """After commit: forward to the n8n router where one is configured, to the AI agent holding the
    conversation (whoever subscribed to `CustomerMessageArrived`), and download media."""
    from inbox import tasks

    accounts = {m.account_id for m in messages}
    routed = set(
        RouterConfig.objects.filter(account_id__in=accounts, is_active=True).values_list("account_id", flat=True)
    )
    if settings.N8N_MASTER_ROUTER_URL:
        routed = accounts
    for message in messages:
        if message.account_id in routed:
            tasks.route_inbound_message.delay(message.pk)
        announce(CustomerMessageArrived(message=message))
        if message.type in MEDIA_TYPES and message.media.get("id"):
            tasks.download_media.delay(message.pk)


def _ingest_batch(events: list[InboundWebhookEvent], result: DrainResult) -> None:
    parsed = {event.pk: _changes(event.body) for event in events}
    numbers = {_phone_number_id(value) for values in parsed.values() for value in values}
    channels = {
        c.phone_number_id: c
        for c in Channel.objects.filter(phone_number_id__in=numbers, is_active=True).only(
            "id", "account_id", "phone_number_id", "default_agent_id"
        )
    }
    lock_keys("inbox.channel", [c.pk for c in channels.values()])
    batch = _Batch(events=events)
    for event_id, values in parsed.items():
        for value in values:
            number = _phone_number_id(value)
            if number in channels:
                batch.values.setdefault(event_id, []).append((channels[number], value))
            else:
                batch.unknown.setdefault(event_id, set()).add(number)

    feed: list[FeedEvent] = []
    followups: list[Message] = []
    deferred: set[int] = set()
    _ingest_messages(batch, result, feed, followups)
    _apply_statuses(batch, result, feed, deferred)

    now = timezone.now()
    for event in events:
        event.attempts += 1
        event.error = ""
        if event.pk in deferred and event.attempts < MISSING_MESSAGE_ATTEMPTS:
            event.retry_at = now + timedelta(seconds=2**event.attempts)
            result.deferred += 1
            continue
        event.processed_at = now
        event.retry_at = None
        event.status = (
            WebhookEventStatus.IGNORED
            if event.pk in batch.unknown and event.pk not in batch.values
            else WebhookEventStatus.PROCESSED
        )
    bulk_update_rows(events, ["attempts", "error", "retry_at", "processed_at", "status"])

    unknown = {number for numbers in batch.unknown.values() for number in numbers}
    if unknown:
        unknown_number_deliveries.inc(len(batch.unknown))
        result.unknown_numbers |= unknown
        logger.warning("whatsapp_unknown_number", phone_number_ids=sorted(unknown), deliveries=len(batch.unknown))
    result.events += len(events)
    publish_many(feed)
    if followups:
        after_commit(_follow_up, followups)


def _due() -> Q:
    return Q(status=WebhookEventStatus.PENDING) & (Q(retry_at__isnull=True) | Q(retry_at__lte=timezone.now()))


def pending_deliveries_exist() -> bool:
    return InboundWebhookEvent.objects.filter(_due()).exists()


def inbound_events_drain(*, batch_size: int = BATCH_SIZE, max_batches: int | None = None) -> DrainResult:
    """Process due deliveries in batches until none is left (or `max_batches` were done)."""
    result = DrainResult()
    batches = 0
    while max_batches is None or batches < max_batches:
        with transaction.atomic():
            events = list(
                InboundWebhookEvent.objects.select_for_update(skip_locked=True)
                .filter(_due())
                .order_by("id")[:batch_size]
            )
            if not events:
                break
            _ingest_batch(events, result)
        batches += 1
    return result
