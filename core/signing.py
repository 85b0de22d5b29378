"""HMAC-SHA256 signatures in the `sha256=<hex>` form, made and checked one way everywhere.

Two schemes share it:
- Meta's `X-Hub-Signature-256` over the raw body (`body_signature`).
- Ours, over `"<timestamp>.<raw body>"` (`timestamped_signature`): what the SkyBot runner sends in
  `X-SkyBot-Signature` and what we send to a tenant's n8n router, so a captured request cannot be
  replayed later with another timestamp.

Outgoing webhooks are signed the Standard Webhooks way instead (`integrations.signing`).
"""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "sha256="


def body_signature(*, secret: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256(secret, body)>`."""
    return PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def timestamped_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`."""
    return body_signature(secret=secret, body=timestamp.encode() + b"." + body)


def signature_matches(expected: str, presented: str) -> bool:
    """Constant-time comparison of two signature strings, whatever characters `presented` holds.

    As bytes: `hmac.compare_digest` refuses str with non-ASCII characters (a TypeError, so a 500).
    """
    return hmac.compare_digest(expected.encode(), presented.encode(errors="replace"))
