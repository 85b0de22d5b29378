"""`Idempotency-Key` for actions: a retried request with the same key and body answers the first
result and changes nothing; the same key with a different body is refused (422).

The action and the stored answer commit together. Two simultaneous requests with one key both run,
but only one can store its answer (unique per tenant and key): the other's action is rolled back
and it answers the stored result instead. Only successful answers are kept — a refused request
(validation, a closed window) may be retried with the same key once the cause is fixed. Keys are
kept for `IDEMPOTENCY_KEY_TTL` (24 hours).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import status

from accounts.models import Account
from core.exceptions import ApplicationError, Conflict
from integrations.models import IdempotencyKey

HEADER = "Idempotency-Key"
_KEY_RE = re.compile(r"^[\x21-\x7e]{1,255}$")


class IdempotencyKeyReused(ApplicationError):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    code = "idempotency_key_reused"
    default_message = "This Idempotency-Key was already used with a different request."


@dataclass(frozen=True)
class ActionResult:
    status_code: int
    body: dict[str, Any]
    replayed: bool


class _Raced(Exception):
    """Another request with the same key stored its answer first."""


def _fingerprint(operation: str, request_body: Any) -> str:
    canonical = json.dumps(
        {"operation": operation, "body": request_body}, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _stored(account: Account, key: str, fingerprint: str) -> ActionResult | None:
    record = IdempotencyKey.objects.filter(account=account, key=key).first()
    if record is None:
        return None
    if record.expires_at <= timezone.now():
        record.delete()
        return None
    if record.request_hash != fingerprint:
        raise IdempotencyKeyReused()
    return ActionResult(status_code=record.status_code, body=record.response, replayed=True)


@transaction.atomic
def _run(
    account: Account, key: str, operation: str, fingerprint: str, action: Callable[[], tuple[int, dict[str, Any]]]
) -> ActionResult:
    status_code, body = action()
    try:
        with transaction.atomic():
            IdempotencyKey.objects.create(
                account=account,
                key=key,
                operation=operation,
                request_hash=fingerprint,
                status_code=status_code,
                response=body,
                expires_at=timezone.now() + settings.IDEMPOTENCY_KEY_TTL,
            )
    except IntegrityError:
        raise _Raced() from None  # undoes this action: the other request's answer stands
    return ActionResult(status_code=status_code, body=body, replayed=False)


def idempotent_action(
    *,
    account: Account,
    key: str | None,
    operation: str,
    request_body: Any,
    action: Callable[[], tuple[int, dict[str, Any]]],
) -> ActionResult:
    """Run `action` (answering status and JSON body) at most once per tenant and `key`."""
    if key is None:
        status_code, body = action()
        return ActionResult(status_code=status_code, body=body, replayed=False)
    if not _KEY_RE.match(key):
        message = "Use 1 to 255 visible ASCII characters (a UUID is a good key)."
        raise ApplicationError(message, code="validation_error", details={HEADER: [message]})
    fingerprint = _fingerprint(operation, request_body)
    for _ in range(2):
        if (stored := _stored(account, key, fingerprint)) is not None:
            return stored
        try:
            return _run(account, key, operation, fingerprint, action)
        except _Raced:
            continue
    raise Conflict("A request with this Idempotency-Key is still being processed.", code="idempotency_key_in_progress")
