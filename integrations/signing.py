"""Standard Webhooks signatures (https://www.standardwebhooks.com).

A secret is `whsec_` + base64 of 32 random bytes. Each request carries `webhook-id`,
`webhook-timestamp` (Unix seconds) and `webhook-signature`: `v1,<base64 HMAC-SHA256>` of
`{webhook-id}.{webhook-timestamp}.{body}` keyed with the secret's decoded bytes — one per secret
still valid, separated by spaces.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def secret_generate() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signature(secret: str, *, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(secrets_in_use: list[str], *, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value: one `v1,...` per secret, space-separated."""
    return " ".join(
        signature(secret, message_id=message_id, timestamp=timestamp, body=body) for secret in secrets_in_use
    )
