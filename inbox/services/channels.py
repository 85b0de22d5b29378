"""Connecting and updating a tenant's WhatsApp numbers."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from accounts.models import Account
from accounts.services.audit import SYSTEM, RequestContext, audit_log_record
from core.exceptions import ApplicationError
from core.principals import Principal
from inbox.models import Channel, verify_token_digest
from inbox.webhooks import forget_app_secret

SECRET_FIELDS = ("access_token", "app_secret", "verify_token")


@transaction.atomic
def channel_create(*, account: Account, actor: Principal, context: RequestContext = SYSTEM, **fields: Any) -> Channel:
    if Channel.objects.filter(phone_number_id=fields["phone_number_id"]).exists():
        raise ApplicationError(
            "This WhatsApp number is already connected.",
            code="validation_error",
            details={"phone_number_id": ["This WhatsApp number is already connected."]},
        )
    channel = Channel.objects.create(account=account, **fields)
    audit_log_record(
        action="channel.created",
        actor=actor,
        account=account,
        target=channel,
        context=context,
        metadata={"phone_number_id": channel.phone_number_id, "display_phone_number": channel.display_phone_number},
    )
    forget_app_secret(channel.phone_number_id)
    return channel


@transaction.atomic
def channel_update(*, channel: Channel, actor: Principal, context: RequestContext = SYSTEM, **changes: Any) -> Channel:
    for name, value in changes.items():
        setattr(channel, name, value)
    if changes:
        channel.save(update_fields=[*changes, "updated_at"])
    audit_log_record(
        action="channel.updated",
        actor=actor,
        account=channel.account,
        target=channel,
        context=context,
        # names only: secret values never reach the audit trail
        metadata={"fields": sorted(changes)},
    )
    forget_app_secret(channel.phone_number_id)
    return channel


def channel_verify_token_digests_refresh() -> int:
    """Rewrite every own verify token's digest under the current SECRET_KEY (after rotating it);
    answers how many changed."""
    changed = 0
    for channel in Channel.objects.exclude(verify_token="").only("pk", "verify_token", "verify_token_digest"):
        digest = verify_token_digest(channel.verify_token)
        if digest != channel.verify_token_digest:
            Channel.objects.filter(pk=channel.pk).update(verify_token_digest=digest)
            changed += 1
    return changed
