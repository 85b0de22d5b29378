"""API keys: create, rotate (with a grace period), revoke, and authenticate.

Key format: `sk_live_<prefix>_<secret>`. The prefix is the key's visible id and never changes;
only `sha256(secret)` is stored. Authentication looks the row up by prefix and compares hashes in
constant time.
"""

from __future__ import annotations

import hashlib
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from accounts.models import Account, ApiKey
from accounts.services.audit import SYSTEM, RequestContext, audit_log_record
from core.principals import Principal

KEY_PREFIX = "sk_live_"
_ALPHABET = string.ascii_letters + string.digits
PREFIX_LENGTH = 12
SECRET_LENGTH = 40
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedKey:
    """An API key row plus its full secret, which exists only in this object, once."""

    api_key: ApiKey
    key: str


def _random(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_key(raw: str) -> tuple[str, str] | None:
    """Split `sk_live_<prefix>_<secret>` into (prefix, secret); None when malformed."""
    if not raw.startswith(KEY_PREFIX):
        return None
    prefix, sep, secret = raw[len(KEY_PREFIX) :].partition("_")
    if not sep or len(prefix) != PREFIX_LENGTH or len(secret) != SECRET_LENGTH:
        return None
    if not (prefix.isalnum() and secret.isalnum() and prefix.isascii() and secret.isascii()):
        return None
    return prefix, secret


def _format(prefix: str, secret: str) -> str:
    return f"{KEY_PREFIX}{prefix}_{secret}"


@transaction.atomic
def api_key_create(
    *,
    account: Account,
    name: str,
    scopes: list[str],
    expires_at: datetime | None,
    actor: Principal,
    context: RequestContext = SYSTEM,
) -> IssuedKey:
    secret = _random(SECRET_LENGTH)
    api_key = ApiKey.objects.create(
        account=account,
        name=name,
        prefix=_random(PREFIX_LENGTH),
        secret_hash=hash_secret(secret),
        scopes=sorted(set(scopes)),
        expires_at=expires_at,
        created_by=actor.user,
    )
    audit_log_record(
        action="api_key.created",
        actor=actor,
        account=account,
        target=api_key,
        context=context,
        metadata={"name": name, "prefix": api_key.prefix, "scopes": api_key.scopes},
    )
    return IssuedKey(api_key=api_key, key=_format(api_key.prefix, secret))


@transaction.atomic
def api_key_rotate(
    *, api_key: ApiKey, grace_seconds: int, actor: Principal, context: RequestContext = SYSTEM
) -> IssuedKey:
    """Issue a new secret for the same key; the old one keeps working for `grace_seconds`."""
    api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    secret = _random(SECRET_LENGTH)
    now = timezone.now()
    api_key.previous_secret_hash = api_key.secret_hash if grace_seconds > 0 else ""
    api_key.previous_valid_until = now + timedelta(seconds=grace_seconds) if grace_seconds > 0 else None
    api_key.secret_hash = hash_secret(secret)
    api_key.save(update_fields=["previous_secret_hash", "previous_valid_until", "secret_hash", "updated_at"])
    audit_log_record(
        action="api_key.rotated",
        actor=actor,
        account=api_key.account,
        target=api_key,
        context=context,
        metadata={"prefix": api_key.prefix, "grace_seconds": grace_seconds},
    )
    return IssuedKey(api_key=api_key, key=_format(api_key.prefix, secret))


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey, actor: Principal, context: RequestContext = SYSTEM) -> ApiKey:
    api_key.is_active = False
    api_key.revoked_at = timezone.now()
    api_key.previous_secret_hash = ""
    api_key.previous_valid_until = None
    api_key.save(
        update_fields=["is_active", "revoked_at", "previous_secret_hash", "previous_valid_until", "updated_at"]
    )
    audit_log_record(
        action="api_key.revoked",
        actor=actor,
        account=api_key.account,
        target=api_key,
        context=context,
        metadata={"prefix": api_key.prefix},
    )
    return api_key


def api_key_authenticate(raw: str) -> ApiKey | None:
    """The active, unexpired key matching `raw`, or None. Records `last_used_at` at most once a minute."""
    parsed = parse_key(raw)
    if parsed is None:
        return None
    prefix, secret = parsed
    api_key = ApiKey.objects.select_related("account").filter(prefix=prefix).first()
    if api_key is None or not api_key.is_active or not api_key.account.is_active:
        return None
    now = timezone.now()
    if api_key.expires_at is not None and api_key.expires_at <= now:
        return None
    presented = hash_secret(secret)
    matches = constant_time_compare(presented, api_key.secret_hash)
    if not matches and api_key.previous_secret_hash and api_key.previous_valid_until:
        matches = api_key.previous_valid_until > now and constant_time_compare(presented, api_key.previous_secret_hash)
    if not matches:
        return None
    if api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key
