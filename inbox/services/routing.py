"""Forwarding inbound messages to the tenant's n8n router (or the master router).

Body (JSON, documented in docs/n8n-router.md): event, router, account, channel, conversation,
contact and message. Signed `X-SkyBot-Signature: sha256=<hex HMAC-SHA256(secret, body)>` with
`X-SkyBot-Timestamp`; every attempt is recorded as a `RouterDelivery`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings

from inbox.models import Message, RouterConfig, RouterDelivery
from inbox.serializers import message_event_data


class RouterUnavailable(Exception):
    """The router did not take the message; worth another try later."""


@dataclass(frozen=True)
class RouterTarget:
    url: str
    secret: str
    name: str


def router_for(account_id: int) -> RouterTarget | None:
    own = RouterConfig.objects.filter(account_id=account_id, is_active=True).first()
    if own is not None:
        return RouterTarget(url=own.url, secret=own.secret, name=f"account-{account_id}")
    if settings.N8N_MASTER_ROUTER_URL:
        return RouterTarget(
            url=settings.N8N_MASTER_ROUTER_URL,
            secret=settings.N8N_MASTER_ROUTER_SECRET,
            name=settings.N8N_MASTER_ROUTER_NAME,
        )
    return None


def router_body(message: Message, *, router_name: str) -> dict[str, Any]:
    conversation = message.conversation
    contact = conversation.contact
    return {
        "event": "message.received",
        "router": router_name,
        "account": {"id": message.account_id, "slug": message.account.slug},
        "channel": {"id": message.channel_id, "phone_number_id": message.channel.phone_number_id},
        "conversation": {"id": conversation.pk, "status": conversation.status},
        "contact": {"id": contact.pk, "wa_id": contact.wa_id, "name": contact.name},
        "message": message_event_data(message),
    }


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def message_route(*, message: Message, attempt: int, final_attempt: bool = True) -> RouterDelivery | None:
    """POST the message to the router; record the attempt; raise RouterUnavailable to retry."""
    target = router_for(message.account_id)
    if target is None:
        return None
    body = json.dumps(router_body(message, router_name=target.name), separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-SkyBot-Timestamp": timestamp,
        "X-SkyBot-Event": "message.received",
    }
    if target.secret:
        headers["X-SkyBot-Signature"] = sign(target.secret, timestamp, body)
    started = time.perf_counter()
    status_code: int | None = None
    error = ""
    try:
        response = httpx.post(target.url, content=body, headers=headers, timeout=httpx.Timeout(10.0, connect=5.0))
        status_code = response.status_code
        if status_code >= 400:
            error = f"HTTP {status_code}"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}"
    delivery = RouterDelivery.objects.create(
        account_id=message.account_id,
        message=message,
        url=target.url,
        attempt=attempt,
        status_code=status_code,
        succeeded=not error,
        duration_ms=int((time.perf_counter() - started) * 1000),
        error=error,
    )
    retryable = status_code is None or status_code >= 500 or status_code in (408, 429)
    if error and retryable and not final_attempt:
        raise RouterUnavailable(error)
    return delivery
