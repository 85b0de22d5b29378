"""Webhook endpoints of a tenant: create, change, delete, rotate the secret, send a test, redeliver.

Every change is audited in its own transaction; deliveries it causes leave after commit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from accounts.principals import Principal
from accounts.services.audit import SYSTEM, RequestContext, audit_log_record
from core import outbound
from core.exceptions import ApplicationError, Conflict
from core.transactions import after_commit
from integrations.events import EVENT_TYPES, PING
from integrations.models import (
    DeliveryStatus,
    DisabledReason,
    EndpointSource,
    EventDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from integrations.services.delivery import deliveries_enqueue
from integrations.signing import secret_generate

MAX_ENDPOINTS_PER_ACCOUNT = 50
DEFAULT_ROTATION_OVERLAP = timedelta(hours=24)
MAX_ROTATION_OVERLAP = timedelta(days=7)


@dataclass(frozen=True)
class IssuedEndpoint:
    """An endpoint plus its signing secret, which leaves the server only in this object, once."""

    endpoint: WebhookEndpoint
    secret: str


def _invalid(field: str, message: str) -> ApplicationError:
    return ApplicationError(message, code="validation_error", details={field: [message]})


def _checked_url(url: str) -> str:
    url = url.strip()
    try:
        outbound.check_url(url)
    except outbound.BlockedDestination as exc:
        raise _invalid("url", str(exc)) from None
    return url


def _checked_events(events: list[str]) -> list[str]:
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown:
        raise _invalid("events", f"Unknown event type: {', '.join(unknown)}.")
    if not events:
        raise _invalid("events", "Subscribe to at least one event type.")
    return sorted(set(events))


@transaction.atomic
def webhook_endpoint_create(
    *,
    account: Account,
    actor: Principal,
    url: str,
    events: list[str],
    description: str = "",
    is_active: bool = True,
    source: str = EndpointSource.API,
    context: RequestContext = SYSTEM,
) -> IssuedEndpoint:
    """Subscribe `url` to `events`; answers the endpoint with its new secret (shown this once)."""
    url, events = _checked_url(url), _checked_events(events)
    # Lock the tenant so two simultaneous creations cannot both slip under the limit.
    Account.objects.select_for_update().filter(pk=account.pk).first()
    if WebhookEndpoint.objects.filter(account=account).count() >= MAX_ENDPOINTS_PER_ACCOUNT:
        raise Conflict(
            f"An account can have at most {MAX_ENDPOINTS_PER_ACCOUNT} webhook endpoints: delete one first.",
            code="too_many_endpoints",
        )
    secret = secret_generate()
    endpoint = WebhookEndpoint.objects.create(
        account=account,
        source=source,
        url=url,
        description=description,
        events=events,
        is_active=is_active,
        disabled_reason="" if is_active else DisabledReason.MANUAL,
        disabled_at=None if is_active else timezone.now(),
        secret=secret,
        created_by=actor.user,
        created_by_api_key=actor.api_key,
    )
    audit_log_record(
        action="webhook.created",
        actor=actor,
        account=account,
        target=endpoint,
        context=context,
        metadata={"url": url, "events": events, "source": source, "is_active": is_active},
    )
    return IssuedEndpoint(endpoint=endpoint, secret=secret)


@transaction.atomic
def webhook_endpoint_update(
    *, endpoint: WebhookEndpoint, actor: Principal, context: RequestContext = SYSTEM, **changes: Any
) -> WebhookEndpoint:
    """Change `url`, `events`, `description` or `is_active`.

    Turning an endpoint back on clears why it was off and its failure count, so it gets a fresh
    start; turning it off stops its pending deliveries at their next attempt.
    """
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if "url" in changes:
        changes["url"] = _checked_url(changes["url"])
    if "events" in changes:
        changes["events"] = _checked_events(changes["events"])
    changed = {name: value for name, value in changes.items() if getattr(endpoint, name) != value}
    if not changed:
        return endpoint
    fields = [*changed, "updated_at"]
    for name, value in changed.items():
        setattr(endpoint, name, value)
    if "is_active" in changed:
        now = timezone.now()
        if endpoint.is_active:
            endpoint.disabled_reason, endpoint.disabled_at = "", None
            endpoint.consecutive_failures, endpoint.failing_since = 0, None
            fields += ["disabled_reason", "disabled_at", "consecutive_failures", "failing_since"]
        else:
            endpoint.disabled_reason, endpoint.disabled_at = DisabledReason.MANUAL, now
            fields += ["disabled_reason", "disabled_at"]
    endpoint.save(update_fields=fields)
    audit_log_record(
        action="webhook.updated",
        actor=actor,
        account=endpoint.account,
        target=endpoint,
        context=context,
        metadata={"fields": sorted(changed), **({"url": endpoint.url} if "url" in changed else {})},
    )
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, endpoint: WebhookEndpoint, actor: Principal, context: RequestContext = SYSTEM) -> None:
    """Remove the endpoint with its delivery log; nothing more is sent to it."""
    audit_log_record(
        action="webhook.deleted",
        actor=actor,
        account=endpoint.account,
        target=endpoint,
        context=context,
        metadata={"url": endpoint.url, "source": endpoint.source},
    )
    endpoint.delete()


@transaction.atomic
def webhook_secret_rotate(
    *,
    endpoint: WebhookEndpoint,
    actor: Principal,
    overlap: timedelta = DEFAULT_ROTATION_OVERLAP,
    context: RequestContext = SYSTEM,
) -> IssuedEndpoint:
    """Issue a new secret. For `overlap` the old one keeps signing as well (two signatures per
    request), so the receiver can switch without losing a delivery; 0 drops it at once."""
    if not timedelta(0) <= overlap <= MAX_ROTATION_OVERLAP:
        raise _invalid("overlap_seconds", "Must be between 0 and 7 days.")
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    secret = secret_generate()
    if overlap:
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = timezone.now() + overlap
    else:
        endpoint.previous_secret, endpoint.previous_secret_expires_at = "", None
    endpoint.secret = secret
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
    audit_log_record(
        action="webhook.secret_rotated",
        actor=actor,
        account=endpoint.account,
        target=endpoint,
        context=context,
        metadata={"overlap_seconds": int(overlap.total_seconds())},
    )
    return IssuedEndpoint(endpoint=endpoint, secret=secret)


def _require_active(endpoint: WebhookEndpoint) -> None:
    if not endpoint.is_active:
        raise Conflict("This endpoint is turned off: turn it on first.", code="endpoint_disabled")


@transaction.atomic
def webhook_endpoint_test(
    *, endpoint: WebhookEndpoint, actor: Principal, context: RequestContext = SYSTEM
) -> EventDelivery:
    """Send a `ping` event to this endpoint only (signed and recorded like any other delivery)."""
    _require_active(endpoint)
    now = timezone.now()
    body = {
        "type": PING,
        "timestamp": now.isoformat().replace("+00:00", "Z"),
        "data": {"endpoint": endpoint.pk, "message": "A test event from SkyBot Inbox."},
    }
    event = WebhookEvent.objects.create(
        account_id=endpoint.account_id, type=PING, payload=json.dumps(body, separators=(",", ":"))
    )
    delivery = EventDelivery.objects.create(
        account_id=endpoint.account_id, endpoint=endpoint, event=event, next_attempt_at=now
    )
    audit_log_record(action="webhook.tested", actor=actor, account=endpoint.account, target=endpoint, context=context)
    after_commit(deliveries_enqueue, [delivery.pk])
    return delivery


@transaction.atomic
def delivery_redeliver(*, delivery: EventDelivery, actor: Principal, context: RequestContext = SYSTEM) -> EventDelivery:
    """Send the same event (same `webhook-id`, a new timestamp and signature) again, now."""
    delivery = EventDelivery.objects.select_for_update(of=("self",)).select_related("endpoint").get(pk=delivery.pk)
    _require_active(delivery.endpoint)
    delivery.status = DeliveryStatus.PENDING
    delivery.next_attempt_at = timezone.now()
    delivery.save(update_fields=["status", "next_attempt_at", "updated_at"])
    audit_log_record(
        action="webhook.redelivered",
        actor=actor,
        account=delivery.endpoint.account,
        target=delivery,
        context=context,
        metadata={"endpoint": delivery.endpoint_id, "event": delivery.event_id},
    )
    after_commit(deliveries_enqueue, [delivery.pk])
    return delivery
