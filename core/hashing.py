"""Keyed digests: look a secret up by an index without storing it in the clear or decrypting rows.

`keyed_digest(value, purpose=...)` is HMAC-SHA256 keyed with SECRET_KEY and a per-purpose salt, so
a digest means nothing without the server's key and one purpose's digests never match another's.
`keyed_digests` also answers the digests under SECRET_KEY_FALLBACKS, so a lookup keeps working
while SECRET_KEY is being rotated (until the stored digests are rewritten under the new key).
"""

from __future__ import annotations

from django.conf import settings
from django.utils.crypto import salted_hmac


def keyed_digest(value: str, *, purpose: str, secret: str | bytes | None = None) -> str:
    """The hex HMAC-SHA256 of `value` for `purpose`, keyed with SECRET_KEY (or `secret`)."""
    return salted_hmac(f"skybot.{purpose}", value, secret=secret or settings.SECRET_KEY, algorithm="sha256").hexdigest()


def keyed_digests(value: str, *, purpose: str) -> list[str]:
    """The digest under SECRET_KEY first, then under each of SECRET_KEY_FALLBACKS."""
    keys = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    return [keyed_digest(value, purpose=purpose, secret=key) for key in keys]
