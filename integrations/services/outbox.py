"""From published events to stored deliveries: the sink `core.realtime` hands every batch to.

It runs inside the transaction that made the change, so an event's deliveries exist exactly when
the change committed (a rolled-back change sends nothing, a crash after commit loses nothing: the
beat task finds deliveries whose enqueue never happened). Tenants without an endpoint subscribed
to the batch's types cost one indexed query and nothing else; the HTTP requests happen in Celery.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from core.realtime import FeedEvent
from core.transactions import after_commit
from inbox.models import Conversation
from integrations.events import MESSAGE_TYPES, public_data, public_events
from integrations.models import EventDelivery, WebhookEndpoint, WebhookEvent
from integrations.services.delivery import deliveries_enqueue


def body_json(body: dict[str, Any]) -> str:
    return json.dumps(body, separators=(",", ":"), cls=DjangoJSONEncoder)


def _message_context(conversation_ids: set[int]) -> dict[int, dict[str, Any]]:
    """Per conversation: the channel and the contact a message payload names."""
    rows = Conversation.objects.filter(pk__in=conversation_ids).values_list(
        "pk", "channel_id", "contact_id", "contact__wa_id", "contact__name"
    )
    return {
        pk: {"channel": channel_id, "contact": {"id": contact_id, "wa_id": wa_id, "name": name}}
        for pk, channel_id, contact_id, wa_id, name in rows
    }


@transaction.atomic
def webhook_events_capture(events: Sequence[FeedEvent]) -> None:
    """Store a `WebhookEvent` per public event some active endpoint of its tenant subscribed to,
    and a pending `EventDelivery` per such endpoint; enqueue the deliveries after commit."""
    occurrences = [
        (event.account_id, public, event.data)
        for event in events
        for public in public_events(event.feed, event.event, event.data)
    ]
    if not occurrences:
        return
    subscribers: dict[tuple[int, str], list[int]] = defaultdict(list)
    endpoints = WebhookEndpoint.objects.filter(
        account_id__in={account_id for account_id, _, _ in occurrences}, is_active=True
    ).values_list("pk", "account_id", "events")
    for endpoint_id, account_id, types in endpoints:
        for event_type in types:
            subscribers[(account_id, event_type)].append(endpoint_id)
    wanted = [
        (account_id, event_type, data, subscribers[(account_id, event_type)])
        for account_id, event_type, data in occurrences
        if (account_id, event_type) in subscribers
    ]
    if not wanted:
        return
    context = _message_context(
        {data["conversation"] for _, event_type, data, _ in wanted if event_type in MESSAGE_TYPES}
    )
    timestamp = timezone.now().isoformat().replace("+00:00", "Z")
    rows: list[WebhookEvent] = []
    for account_id, event_type, data, _ in wanted:
        if event_type in MESSAGE_TYPES:
            data = {**data, **context.get(data["conversation"], {})}
        body = {"type": event_type, "timestamp": timestamp, "data": public_data(event_type, data)}
        rows.append(WebhookEvent(account_id=account_id, type=event_type, payload=body_json(body)))
    WebhookEvent.objects.bulk_create(rows)
    now = timezone.now()
    deliveries = EventDelivery.objects.bulk_create(
        EventDelivery(account_id=row.account_id, endpoint_id=endpoint_id, event=row, next_attempt_at=now)
        for row, (_, _, _, endpoint_ids) in zip(rows, wanted, strict=True)
        for endpoint_id in endpoint_ids
    )
    after_commit(deliveries_enqueue, [delivery.pk for delivery in deliveries])
