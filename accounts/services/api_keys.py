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

from accounts.models import Account, ApiKey, ApiKeyScope
from accounts.principals import SCOPE_ROLES, Principal
from accounts.services.audit import SYSTEM, RequestContext, audit_log_record
from core.exceptions import ApplicationError, Conflict, Forbidden

KEY_PREFIX = "sk_live_"
_ALPHABET = string.ascii_letters + string.digits
PREFIX_LENGTH = 12
SECRET_LENGTH = 40
MAX_GRACE_SECONDS = 7 * 24 * 3600
# Compared against when the prefix is unknown, so a miss costs what a hit costs.
_NO_MATCH_HASH = "0" * 64


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


def _check_scopes(scopes: list[str], actor: Principal) -> list[str]:
    """The scopes, deduplicated and sorted; refused when unknown, empty, or above the actor's role."""
    unknown = sorted(set(scopes) - set(ApiKeyScope.values))
    if not scopes or unknown:
        raise ApplicationError(
            "Give at least one scope out of read, write, admin.",
            code="validation_error",
            details={"scopes": [f"Unknown scope: {scope}." for scope in unknown] or ["At least one scope."]},
        )
    too_strong = sorted(scope for scope in set(scopes) if not actor.has_role(SCOPE_ROLES[scope]))
    if too_strong:
        raise Forbidden(
            "A key cannot be given more power than its creator has.",
            details={"scopes": [f"Not allowed to grant: {scope}." for scope in too_strong]},
        )
    return sorted(set(scopes))


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
    """A new key of `account`; the returned `IssuedKey.key` is the only copy of the secret."""
    if not actor.is_platform and actor.account != account:
        raise Forbidden("Keys can only be created for your own account.")
    scopes = _check_scopes(scopes, actor)
    if expires_at is not None and expires_at <= timezone.now():
        raise ApplicationError(
            "The expiry must be in the future.",
            code="validation_error",
            details={"expires_at": ["Must be in the future."]},
        )
    secret = _random(SECRET_LENGTH)
    api_key = ApiKey.objects.create(
        account=account,
        name=name,
        prefix=_random(PREFIX_LENGTH),
        secret_hash=hash_secret(secret),
        scopes=scopes,
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
    """Issue a new secret for the same key; the old one keeps working for `grace_seconds`.

    A revoked key stays revoked: rotating it is a conflict. Rotating again during a grace period
    ends the earlier grace, so at most two secrets are ever valid.
    """
    if not 0 <= grace_seconds <= MAX_GRACE_SECONDS:
        raise ApplicationError(
            "The grace period must be between 0 seconds and 7 days.",
            code="validation_error",
            details={"grace_seconds": [f"Must be between 0 and {MAX_GRACE_SECONDS}."]},
        )
    api_key = ApiKey.objects.select_for_update().select_related("account").get(pk=api_key.pk)
    if not api_key.is_active:
        raise Conflict("A revoked key cannot be rotated.", code="api_key_revoked")
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
    """Stop the key (and any secret still in its grace period) from working. Revoking twice is a no-op."""
    api_key = ApiKey.objects.select_for_update().select_related("account").get(pk=api_key.pk)
    if not api_key.is_active:
        return api_key
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
    """The active, unexpired key matching `raw`, or None. Reads only: the request's use of the key
    (`last_used_at`, the day's counts) is recorded once its answer is known, see `api_key_usage`."""
    parsed = parse_key(raw)
    if parsed is None:
        return None
    prefix, secret = parsed
    presented = hash_secret(secret)
    api_key = ApiKey.objects.select_related("account").filter(prefix=prefix).first()
    matches = constant_time_compare(presented, api_key.secret_hash if api_key else _NO_MATCH_HASH)
    if api_key is None or not api_key.is_active or not api_key.account.is_active:
        return None
    now = timezone.now()
    if api_key.expires_at is not None and api_key.expires_at <= now:
        return None
    if not matches and api_key.previous_secret_hash and api_key.previous_valid_until:
        matches = api_key.previous_valid_until > now and constant_time_compare(presented, api_key.previous_secret_hash)
    if not matches:
        return None
    return api_key
