"""Short-lived shared flags (set-if-absent / clear) for coordinating workers.

With Redis this talks to it through the process's client (`core.cache.redis_client`). Without
Redis (the embedded default) the local cache does the same job.
"""

from __future__ import annotations

from django.core.cache import cache

from core.cache import redis_client, redis_key


def _key(name: str) -> str:
    return redis_key(f"flag:{name}")


def flag_set_if_absent(name: str, *, ttl_seconds: int) -> bool:
    """Set the flag unless it is set; True when this call set it."""
    client = redis_client()
    if client is None:
        return bool(cache.add(_key(name), 1, timeout=ttl_seconds))
    return bool(client.set(_key(name), 1, nx=True, ex=ttl_seconds))


def flag_clear(name: str) -> None:
    client = redis_client()
    if client is None:
        cache.delete(_key(name))
    else:
        client.delete(_key(name))
