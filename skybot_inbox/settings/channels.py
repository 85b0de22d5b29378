"""Channels layer: Redis when REDIS_URL is set (events cross processes), else in-memory."""

from __future__ import annotations

from typing import Any

from skybot_inbox.settings import env as config

CHANNEL_LAYERS: dict[str, Any] = (
    {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [config.REDIS_URL], "prefix": "skybot:channels"},
        }
    }
    if config.REDIS_URL
    else {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
)
