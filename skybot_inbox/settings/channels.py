"""Channels layer: Redis when REDIS_URL is set (events cross processes), else in-memory."""

from __future__ import annotations

from typing import Any

from skybot_inbox.settings import env as config


def redis_host(url: str) -> dict[str, Any]:
    """A channels-redis host. Its receive loop blocks in BZPOPMIN for 5 s; redis-py's default
    socket timeout is also 5 s, so under load the read timed out just as the pop returned."""
    return {"address": url, "socket_timeout": 30}


CHANNEL_LAYERS: dict[str, Any] = (
    {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [redis_host(config.REDIS_URL)], "prefix": "skybot:channels"},
        }
    }
    if config.REDIS_URL
    else {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
)

# An open WebSocket re-reads its person's access (active, same sign-in generation, tenant enabled)
# before forwarding an event when its last check is older than this. Sockets are also closed by a
# message when access ends; this bounds how long a lost message could matter.
REALTIME_ACCESS_RECHECK_SECONDS = 5
