"""Short-lived shared flags (set-if-absent / clear) for coordinating workers.

With Redis this talks to it through one client per process: Django's Redis cache backend builds a
new client object on every call, which costs more than the round trip on a hot path. Without
Redis (the embedded default) the local cache does the same job.
"""

from __future__ import annotations

from functools import cache as memoize
from typing import Any

from django.conf import settings
from django.core.cache import cache


@memoize
def _redis() -> Any:
    backend = settings.CACHES["default"]
    if not backend["BACKEND"].endswith("RedisCache"):
        return None
    import redis

    return redis.Redis.from_url(backend["LOCATION"])


def _key(name: str) -> str:
    return f"{settings.CACHES['default'].get('KEY_PREFIX', '')}:flag:{name}"


def flag_set_if_absent(name: str, *, ttl_seconds: int) -> bool:
    """Set the flag unless it is set; True when this call set it."""
    client = _redis()
    if client is None:
        return bool(cache.add(_key(name), 1, timeout=ttl_seconds))
    return bool(client.set(_key(name), 1, nx=True, ex=ttl_seconds))


def flag_clear(name: str) -> None:
    client = _redis()
    if client is None:
        cache.delete(_key(name))
    else:
        client.delete(_key(name))
