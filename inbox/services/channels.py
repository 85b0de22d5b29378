"""Connecting and updating a tenant's WhatsApp numbers.

Connecting a number proves it: Meta's Graph API must answer for that phone number id with the
access token given before anything is stored. Every refusal — a token that cannot read the number,
an unknown id, a number another tenant has connected — gets the same answer, so the form cannot be
used to find out which numbers other tenants have connected. (The demo seed creates its number
directly through the model, offline, and is never shown to Meta.)
"""

from __future__ import annotations

from typing import Any

import structlog
from django.db import IntegrityError, transaction
from rest_framework import status

from accounts.models import Account
from accounts.principals import Principal
from accounts.services.audit import SYSTEM, RequestContext, audit_log_record
from core.exceptions import ApplicationError
from inbox.models import Channel, verify_token_digest
from inbox.services.webhooks import forget_app_secret
from inbox.whatsapp import GraphApiError, PhoneNumber, WhatsAppClient

logger = structlog.get_logger(__name__)

SECRET_FIELDS = ("access_token", "app_secret", "verify_token")
NOT_CONFIRMED = (
    "WhatsApp did not confirm this number for this access token: check the phone number ID, and that "
    "the token belongs to a System User of the business that owns the number."
)
ALREADY_CONNECTED_HERE = "This WhatsApp number is already connected to this account."


class NumberNotConfirmed(ApplicationError):
    """Meta did not confirm the number for the token, or it cannot be connected here: one answer."""

    code = "validation_error"
    default_message = NOT_CONFIRMED

    def __init__(self) -> None:
        super().__init__(details={"phone_number_id": [NOT_CONFIRMED]})


class WhatsAppUnavailable(ApplicationError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    code = "whatsapp_unavailable"
    default_message = "WhatsApp could not be reached to confirm this number; try again in a moment."

    def __init__(self) -> None:
        super().__init__(details={"non_field_errors": [self.default_message]})


def _not_confirmed(reason: str, **detail: Any) -> NumberNotConfirmed:
    # The reason goes to the server log only; the caller sees the same refusal whatever it was.
    logger.info("channel_connect_refused", reason=reason, **detail)
    return NumberNotConfirmed()


def channel_number_confirm(*, phone_number_id: str, access_token: str) -> PhoneNumber:
    """Ask the Graph API for the number with the token; refuse unless it answers for exactly it."""
    try:
        with WhatsAppClient(phone_number_id=phone_number_id, access_token=access_token) as client:
            number = client.phone_number()
    except GraphApiError as error:
        if error.retryable:
            logger.warning("channel_connect_graph_unavailable", http_status=error.status, error=error.message)
            raise WhatsAppUnavailable() from error
        raise _not_confirmed("graph_api", http_status=error.status, graph_code=error.code) from error
    if number.id != phone_number_id:
        raise _not_confirmed("graph_api_other_number")
    return number


def channel_create(*, account: Account, actor: Principal, context: RequestContext = SYSTEM, **fields: Any) -> Channel:
    """Connect a number once Meta confirms the access token can read it. The Graph API call comes
    first, outside the transaction, so no database transaction waits on the network."""
    channel_number_confirm(phone_number_id=fields["phone_number_id"], access_token=fields["access_token"])
    return _channel_store(account=account, actor=actor, context=context, **fields)


@transaction.atomic
def _channel_store(*, account: Account, actor: Principal, context: RequestContext, **fields: Any) -> Channel:
    owners = Channel.objects.filter(phone_number_id=fields["phone_number_id"]).values_list("account_id", flat=True)
    owner = owners.first()
    if owner == account.pk:
        raise ApplicationError(
            ALREADY_CONNECTED_HERE, code="validation_error", details={"phone_number_id": [ALREADY_CONNECTED_HERE]}
        )
    if owner is not None:
        raise _not_confirmed("connected_elsewhere", account_id=account.pk)
    try:
        with transaction.atomic():
            channel = Channel.objects.create(account=account, **fields)
    except IntegrityError as error:  # connected by someone else a moment ago (the unique phone_number_id)
        raise _not_confirmed("connected_elsewhere", account_id=account.pk) from error
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


# A sandbox number's credentials are the platform's own: nobody sets them.
SANDBOX_FIXED_FIELDS = ("app_secret", "access_token", "verify_token")


@transaction.atomic
def channel_update(*, channel: Channel, actor: Principal, context: RequestContext = SYSTEM, **changes: Any) -> Channel:
    fixed = sorted(set(changes) & set(SANDBOX_FIXED_FIELDS)) if channel.is_sandbox else []
    if fixed:
        raise ApplicationError(
            "A sandbox number has no Meta credentials to set.",
            code="validation_error",
            details={name: ["Not used by a sandbox number."] for name in fixed},
        )
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
