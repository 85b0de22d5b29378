"""Redis, reached through one client per process.

Django's Redis cache backend builds a new `redis.Redis` object for every operation (its
`RedisCacheClient.get_client`), which costs more than the round trip on a hot path such as a rate
limit or a usage counter. `RedisCache` here keeps one client per connection pool, and
`redis_client()` hands the same kind of client to code that needs commands the cache API lacks
(Lua scripts, hashes, pipelines). With `hiredis` installed (requirements.txt) redis-py parses
replies in C.

Without Redis (the embedded default) `redis_client()` is None and callers use the local cache.
"""

from __future__ import annotations

from functools import cache as memoize
from typing import Any

import redis
from django.conf import settings
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class _ReusingClient(RedisCacheClient):
    """Django's client, but the `redis.Redis` object of each pool is built once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, redis.Redis] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> redis.Redis:
        # The stubs omit Django's private helpers; these are the ones its own get_client uses.
        index: int = self._get_connection_pool_index(write)  # type: ignore[attr-defined]
        client = self._clients.get(index)
        if client is None:
            pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
            client = self._clients[index] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client


class RedisCache(DjangoRedisCache):
    """`django.core.cache.backends.redis.RedisCache` reusing its clients (settings `CACHES`)."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _ReusingClient


# A Redis that hangs (rather than refusing) must not hold a request for long: after this the call
# fails as if Redis refused it (rate limits and usage counters then let the request through).
SOCKET_TIMEOUTS = {"socket_connect_timeout": 1.0, "socket_timeout": 1.0}


@memoize
def _client_for(location: str) -> redis.Redis:
    return redis.Redis.from_url(location, **SOCKET_TIMEOUTS)


def redis_client() -> redis.Redis | None:
    """This process's client of the default cache's Redis, or None when the cache is not Redis."""
    backend = settings.CACHES["default"]
    if not str(backend["BACKEND"]).endswith("RedisCache"):
        return None
    return _client_for(str(backend["LOCATION"]))


def redis_key(name: str) -> str:
    """`name` under the cache's key prefix, so installations sharing a Redis keep apart."""
    return f"{settings.CACHES['default'].get('KEY_PREFIX', '')}:{name}"
