"""Accepting Meta's WhatsApp notifications: the checks before anything is stored, and the one INSERT.

An unauthenticated notification cannot make the server work harder than a genuine one: the
platform's app secret is tried first (when no channel has its own, a body it does not verify is
refused before it is decoded), and a notification names at most `MAX_NUMBERS_PER_DELIVERY`
numbers, whose secrets come from one query, before its signature is checked. The subscription
check finds a channel's own verify token by its keyed digest, in one query whatever the number of
channels, and decrypts no other channel's token.

The Django view (`inbox.webhooks`) and the WSGI fast path (`inbox.fastpath`) both call
`accept_notification`, so the two cannot drift apart.
"""

from __future__ import annotations

import gc
import json
import re
import time
from dataclasses import dataclass
from typing import Any

import structlog
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from core.crypto import DecryptionError
from core.hashing import keyed_digests
from inbox.models import VERIFY_TOKEN_PURPOSE, Channel, InboundWebhookEvent, WebhookEventStatus
from inbox.tasks import schedule_drain
from inbox.whatsapp import signature_valid

logger = structlog.get_logger(__name__)

_SECRET_TTL_SECONDS = 30.0
_secret_cache: dict[str, tuple[float, str]] = {}
_NUMBER_MAX_LENGTH = Channel._meta.get_field("phone_number_id").max_length or 32
# Meta sends one business account's changes per notification, each naming the number it concerns;
# a delivery naming more numbers than this is refused before any database work (see
# docs/whatsapp.md), so a forged body cannot make the check look up thousands of numbers.
MAX_NUMBERS_PER_DELIVERY = 10
_SIGNATURE = re.compile(r"sha256=[0-9a-fA-F]{64}")


def app_secrets_for(phone_number_ids: set[str]) -> set[str]:
    """The app secrets of these numbers: each channel's own, else WHATSAPP_APP_SECRET.

    Known numbers are cached briefly per process; numbers no channel has are not remembered, so a
    stream of made-up numbers cannot grow the cache."""
    now = time.monotonic()
    secrets: set[str] = set()
    missing: set[str] = set()
    for number in phone_number_ids:
        cached = _secret_cache.get(number)
        if cached and cached[0] > now:
            secrets.add(cached[1])
        else:
            missing.add(number)
    if missing:
        # Only what fits the column can be a channel's number; callers pass at most
        # MAX_NUMBERS_PER_DELIVERY numbers, so this is one query.
        lookups = [n for n in missing if n and len(n) <= _NUMBER_MAX_LENGTH]
        known: dict[str, str] = {}
        if lookups:
            # Whole rows, not values_list(): each secret decrypts only with its own row's uuid.
            rows = Channel.objects.filter(phone_number_id__in=lookups).only("phone_number_id", "uuid", "app_secret")
            known.update((channel.phone_number_id, channel.app_secret) for channel in rows)
        for number in missing:
            secret = known.get(number) or settings.WHATSAPP_APP_SECRET
            if number in known:
                _secret_cache[number] = (now + _SECRET_TTL_SECONDS, secret)
            secrets.add(secret)
    return secrets


_own_secrets_exist = True
_own_secrets_known_until = 0.0


def channels_have_own_app_secrets() -> bool:
    """Whether any channel has its own app secret; remembered per process as briefly as the secrets."""
    global _own_secrets_exist, _own_secrets_known_until
    now = time.monotonic()
    if now >= _own_secrets_known_until:
        _own_secrets_exist = Channel.objects.exclude(app_secret="").exists()
        _own_secrets_known_until = now + _SECRET_TTL_SECONDS
    return _own_secrets_exist


def forget_app_secret(phone_number_id: str) -> None:
    global _own_secrets_known_until
    _secret_cache.pop(phone_number_id, None)
    _own_secrets_known_until = 0.0


def forget_app_secrets() -> None:
    """Forget every remembered secret (tests)."""
    global _own_secrets_known_until
    _secret_cache.clear()
    _own_secrets_known_until = 0.0


def verify_token_matches(token: str) -> bool:
    """The default verify token, or a channel's own: one indexed query by the token's keyed digest
    (under SECRET_KEY and its fallbacks); only a channel whose digest matches has its token
    decrypted, and compared in constant time."""
    if settings.WHATSAPP_VERIFY_TOKEN and constant_time_compare(token, settings.WHATSAPP_VERIFY_TOKEN):
        return True
    digests = keyed_digests(token, purpose=VERIFY_TOKEN_PURPOSE)
    candidates = Channel.objects.filter(verify_token_digest__in=digests).only("uuid", "verify_token")
    try:
        return any(constant_time_compare(token, candidate.verify_token) for candidate in candidates)
    except DecryptionError:
        logger.warning("whatsapp_verify_token_undecryptable")
        return False


def _phone_number_ids(payload: Any) -> set[str] | None:
    """Every phone number id the delivery names: ingestion applies each entry to its own number's
    channel, so each one must be covered by the signature. None when it names more than
    MAX_NUMBERS_PER_DELIVERY (the count stops there)."""
    numbers: set[str] = set()
    entries = payload.get("entry") if isinstance(payload, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        for change in changes if isinstance(changes, list) else []:
            value = change.get("value") if isinstance(change, dict) else None
            metadata = value.get("metadata") if isinstance(value, dict) else None
            numbers.add(str(metadata.get("phone_number_id") or "") if isinstance(metadata, dict) else "")
            if len(numbers) > MAX_NUMBERS_PER_DELIVERY:
                return None
    return numbers or {""}


def _decode(text: str) -> Any:
    """`json.loads` with the cyclic garbage collector paused: decoding creates no reference cycles,
    and a large body's many new containers would otherwise set off full collections of the whole
    process heap while it is being decoded (most of the cost of a 2 MB body in a server process)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return json.loads(text)
    finally:
        if was_enabled:
            gc.enable()


@dataclass(frozen=True)
class Outcome:
    """What to answer Meta: 200, or an error status with the error body's code and message."""

    status: int
    code: str = ""
    message: str = ""


ACCEPTED = Outcome(200)
SIGNATURE_INVALID = Outcome(401, "signature_invalid", "The signature does not match the body.")


def accept_notification(*, body: bytes, signature: str) -> Outcome:
    """Verify a notification and store it for processing: the whole POST path, shared by the
    Django view and the WSGI fast path (`inbox.fastpath`)."""
    if not signature:
        return Outcome(401, "signature_missing", "X-Hub-Signature-256 header is required.")
    if not _SIGNATURE.fullmatch(signature):
        return SIGNATURE_INVALID
    # The platform's secret first: one HMAC over the body. When no channel has a secret of its own,
    # it is the only one that can verify anything, so a body it does not verify is refused before
    # it is decoded, whatever it names.
    platform_secret = settings.WHATSAPP_APP_SECRET
    platform_signed = signature_valid(body=body, header=signature, secret=platform_secret)
    if platform_secret and not platform_signed and not channels_have_own_app_secrets():
        return SIGNATURE_INVALID
    try:
        text = body.decode("utf-8")
        payload = _decode(text)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError; RecursionError: `[[[[...`
        return Outcome(400, "malformed_json", "The body is not valid JSON.")
    numbers = _phone_number_ids(payload)
    if numbers is None:
        logger.warning("whatsapp_webhook_too_many_numbers", limit=MAX_NUMBERS_PER_DELIVERY)
        return Outcome(
            400,
            "too_many_numbers",
            f"A notification may name at most {MAX_NUMBERS_PER_DELIVERY} phone numbers.",
        )
    # Numbers with different secrets (one tenant's own app and another's) can never share a valid
    # signature: a tenant that knows its own app secret cannot sign events into another's number.
    secrets = app_secrets_for(numbers)
    if not all(
        platform_signed if secret == platform_secret else signature_valid(body=body, header=signature, secret=secret)
        for secret in secrets
    ):
        return SIGNATURE_INVALID
    store_delivery(text)
    schedule_drain()
    return ACCEPTED


_INSERT_DELIVERY: str | None = None


def store_delivery(body: str) -> None:
    """One INSERT of the raw delivery. Written as SQL: on the acknowledgement path the ORM's model
    instance and query compilation cost more than the statement itself."""
    global _INSERT_DELIVERY
    if _INSERT_DELIVERY is None:
        table = connection.ops.quote_name(InboundWebhookEvent._meta.db_table)
        _INSERT_DELIVERY = (
            f"INSERT INTO {table} (provider, body, received_at, status, attempts, error) "  # noqa: S608
            "VALUES (%s, %s, %s, %s, 0, '')"
        )
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_DELIVERY, ["whatsapp", body, timezone.now(), WebhookEventStatus.PENDING])
