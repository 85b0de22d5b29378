"""AI agents: the SkyBot runner's HTTP API and the signed webhooks it sends back."""

from __future__ import annotations

from skybot_inbox.settings import env as config

SKYBOT_API_URL = config.SKYBOT_API_URL
SKYBOT_API_KEY = config.SKYBOT_API_KEY
SKYBOT_WEBHOOK_SECRET = config.SKYBOT_WEBHOOK_SECRET
SKYBOT_CONNECT_TIMEOUT = config.SKYBOT_CONNECT_TIMEOUT
SKYBOT_READ_TIMEOUT = config.SKYBOT_READ_TIMEOUT
# Runner webhooks older than this (by their signed timestamp) are refused as replays.
SKYBOT_WEBHOOK_TOLERANCE_SECONDS = 300
# Agents a person may create per period (django-ratelimit syntax).
AGENT_CREATE_RATE = config.AGENT_CREATE_RATE
# Analytics answers are cached this long, and dropped when new executions arrive.
AGENT_ANALYTICS_CACHE_SECONDS = 300
# Up to this many finished executions in a range, p50/p95 are computed exactly from their durations;
# above, they are estimated from the hourly roll-up's histogram (less than 5 % off).
AGENT_ANALYTICS_EXACT_PERCENTILES_MAX = 10_000
