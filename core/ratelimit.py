"""Rate limits over several fixed windows, checked and counted in one atomic step.

A window is a name, a limit and a length in seconds. Windows are aligned to the epoch: the counter of
`name` for the window starting at `index * seconds` is `ratelimit:<name>:<seconds>:<index>`, so every
process and server agrees on it without coordination. `rate_limit_hit` checks every window first
and counts the request in all of them only if none is full: a refused request counts nowhere, so a
client that keeps retrying during its wait does not push its own wait further.

With Redis (`core.cache.redis_client()`) the check and the counting are one Lua script, sent as
one `EVALSHA` (registered once per process; redis-py loads it again if the server forgot it): one
round trip per request whatever the number of windows, and exact under any concurrency because
Redis runs a script alone. Without Redis (the embedded default) the same steps run in the process
under a lock, on the local-memory cache: exact within the process, each process counting on its own.

If Redis does not answer, the request is let through (fail open): a rate limit protects the service,
and refusing every call while Redis is down would turn a cache outage into an API outage. Each such
request is counted in `skybot_rate_limit_unchecked_total` and a warning is logged at most once a
minute per process. The failure limits (`core.throttling`) do the same.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache as memoize

import redis
import structlog
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from prometheus_client import Counter
from redis.commands.core import Script

from core.cache import redis_client, redis_key

logger = structlog.get_logger(__name__)

unchecked_requests = Counter(
    "skybot_rate_limit_unchecked_total",
    "Requests let through without a rate-limit check because Redis did not answer.",
)

# KEYS: one counter per window. ARGV: for each window, its limit then the counter's lifetime in seconds.
# Answers the 1-based positions of the full windows; none means the request was counted in every one.
_HIT_SCRIPT = """
local counts = redis.call('MGET', unpack(KEYS))
local full = {}
for i = 1, #KEYS do
  if tonumber(counts[i] or '0') >= tonumber(ARGV[i * 2 - 1]) then
    full[#full + 1] = i
  end
end
if #full > 0 then
  return full
end
for i = 1, #KEYS do
  if redis.call('INCR', KEYS[i]) == 1 then
    redis.call('EXPIRE', KEYS[i], ARGV[i * 2])
  end
end
return full
"""

WARNING_INTERVAL_SECONDS = 60.0
_warned_at = -math.inf
_local_lock = threading.Lock()


@dataclass(frozen=True)
class Window:
    """At most `limit` requests of `name` in each `seconds`-long window aligned to the epoch."""

    name: str
    limit: int
    seconds: int


_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*(s|sec|second|m|min|minute|h|hour|d|day)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@memoize
def rate_parse(rate: str) -> tuple[int, int]:
    """`"120/m"` → (120, 60), `"10/15m"` → (10, 900): a count and its window in seconds (DRF's `10/s`
    and `1000/hour` forms, and a multiple of the unit)."""
    match = _RATE.match(rate)
    if not match or match.group(2).startswith("0"):
        raise ImproperlyConfigured(f"A rate must look like 10/s, 120/m, 10/15m or 1000/h (got {rate!r}).")
    count, multiple, unit = match.groups()
    return int(count), int(multiple or 1) * _UNIT_SECONDS[unit[0]]


def rate_limit_hit(windows: Sequence[Window], *, now: float | None = None) -> int | None:
    """Count one request in every window unless one is full.

    Answers None when the request may go ahead (it was counted), else the whole seconds until the
    latest-ending full window ends (at least 1): the `Retry-After` after which it can succeed.
    """
    if not windows:
        return None
    now = time.time() if now is None else now
    indexes = [int(now // window.seconds) for window in windows]
    names = [
        f"ratelimit:{window.name}:{window.seconds}:{index}" for window, index in zip(windows, indexes, strict=True)
    ]
    # A counter lives one second past its window's end so a slow clock elsewhere still finds it.
    lifetimes = [
        max(1, math.ceil((index + 1) * window.seconds - now)) + 1
        for window, index in zip(windows, indexes, strict=True)
    ]
    client = redis_client()
    if client is None:
        full = _hit_in_process(windows, names, lifetimes)
    else:
        try:
            full = _hit_in_redis(client, windows, names, lifetimes)
        except redis.RedisError as exc:
            rate_limit_unchecked(exc)
            return None
    if not full:
        return None
    return max(max(1, math.ceil((indexes[position] + 1) * windows[position].seconds - now)) for position in full)


@memoize
def _script(client: redis.Redis) -> Script:
    """The hit script, registered once per client (that is, once per process)."""
    return client.register_script(_HIT_SCRIPT)


def _hit_in_redis(client: redis.Redis, windows: Sequence[Window], names: list[str], lifetimes: list[int]) -> list[int]:
    args: list[int] = []
    for window, lifetime in zip(windows, lifetimes, strict=True):
        args += [window.limit, lifetime]
    full = _script(client)(keys=[redis_key(name) for name in names], args=args)
    return [int(position) - 1 for position in full]


def _hit_in_process(windows: Sequence[Window], names: list[str], lifetimes: list[int]) -> list[int]:
    with _local_lock:
        counts = cache.get_many(names)
        full = [
            position
            for position, (window, name) in enumerate(zip(windows, names, strict=True))
            if int(counts.get(name, 0)) >= window.limit
        ]
        if not full:
            for name, lifetime in zip(names, lifetimes, strict=True):
                cache.set(name, int(counts.get(name, 0)) + 1, timeout=lifetime)
        return full


def rate_limit_unchecked(exc: redis.RedisError) -> None:
    """Count a limit not applied because Redis did not answer; warn at most once a minute."""
    global _warned_at
    unchecked_requests.inc()
    now = time.monotonic()
    if now - _warned_at >= WARNING_INTERVAL_SECONDS:
        _warned_at = now
        logger.warning("rate_limit_unavailable", error=f"{type(exc).__name__}: {exc}", letting_through=True)
