"""Forwarding inbound messages to the tenant's n8n router (or the master router).

Body (JSON, documented in docs/n8n-router.md): event, router, account, channel, conversation,
contact and message. Signed `X-SkyBot-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." +
body)>` with `X-SkyBot-Timestamp`; every attempt is recorded as a `RouterDelivery`. A tenant may
configure its own router (`RouterConfig`, `/api/v1/router`) in place of the master router; its URL
is called through `core.outbound`, which refuses internal addresses (a blocked destination is
recorded and not retried).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings
from django.db import transaction

from accounts.models import Account
from accounts.principals import Principal
from accounts.services.audit import SYSTEM, RequestContext, audit_log_record
from core import outbound
from core.retry import status_is_retryable
from core.signing import timestamped_signature
from inbox.models import Message, RouterConfig, RouterDelivery
from inbox.serializers import message_event_data


class RouterUnavailable(Exception):
    """The router did not take the message; worth another try later."""


@dataclass(frozen=True)
class RouterTarget:
    url: str
    secret: str
    name: str
    # The master router is the operator's own URL; a tenant's router goes through the SSRF guard.
    trusted: bool = False


def router_for(account_id: int) -> RouterTarget | None:
    own = RouterConfig.objects.filter(account_id=account_id, is_active=True).first()
    if own is not None:
        return RouterTarget(url=own.url, secret=own.secret, name=f"account-{account_id}")
    if settings.N8N_MASTER_ROUTER_URL:
        return RouterTarget(
            url=settings.N8N_MASTER_ROUTER_URL,
            secret=settings.N8N_MASTER_ROUTER_SECRET,
            name=settings.N8N_MASTER_ROUTER_NAME,
            trusted=True,
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
    return timestamped_signature(secret=secret, timestamp=timestamp, body=body)


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
    blocked = False
    try:
        response = outbound.post(
            target.url,
            content=body,
            headers=headers,
            timeout=httpx.Timeout(10.0, connect=5.0),
            trusted=target.trusted,
        )
        status_code = response.status_code
        if status_code >= 400:
            error = f"HTTP {status_code}"
    except outbound.BlockedDestination as exc:
        blocked, error = True, outbound.failure_reason(exc)
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
    retryable = not blocked and status_is_retryable(status_code)
    if error and retryable and not final_attempt:
        raise RouterUnavailable(error)
    return delivery


# --- a tenant's own router (the override of the master router) ----------------------------------


@transaction.atomic
def router_config_update(
    *,
    account: Account,
    actor: Principal,
    url: str,
    is_active: bool = True,
    secret: str | None = None,
    context: RequestContext = SYSTEM,
) -> RouterConfig:
    """Create or replace the tenant's own router. `secret=None` keeps the stored secret, `""` removes it."""
    # Lock the tenant so two simultaneous first PUTs cannot both try to create its one config.
    Account.objects.select_for_update().filter(pk=account.pk).first()
    config = RouterConfig.objects.filter(account=account).first()
    created = config is None
    if config is None:
        config = RouterConfig(account=account, url=url, is_active=is_active, secret=secret or "")
        config.save()
    else:
        config.url = url
        config.is_active = is_active
        fields = ["url", "is_active", "updated_at"]
        if secret is not None:
            config.secret = secret
            fields.append("secret")
        config.save(update_fields=fields)
    audit_log_record(
        action="router.updated",
        actor=actor,
        account=account,
        target=config,
        context=context,
        # whether a secret is set and whether this request changed it; never the value
        metadata={
            "url": config.url,
            "is_active": config.is_active,
            "created": created,
            "has_secret": bool(config.secret),
            "secret_changed": secret is not None,
        },
    )
    return config


@transaction.atomic
def router_config_delete(*, account: Account, actor: Principal, context: RequestContext = SYSTEM) -> bool:
    """Drop the tenant's own router, so its messages go to the master router again.

    Answers whether there was one; nothing is audited when there was none.
    """
    config = RouterConfig.objects.select_for_update().filter(account=account).first()
    if config is None:
        return False
    audit_log_record(
        action="router.deleted",
        actor=actor,
        account=account,
        target=config,
        context=context,
        metadata={"url": config.url, "is_active": config.is_active},
    )
    config.delete()
    return True
