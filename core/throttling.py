"""Who a rate limit counts (`throttle_ident`), and the limits that count only failures.

The API's request limit itself is `accounts.throttling.PlanRateThrottle` (per caller and per tenant,
over `core.ratelimit`); it counts callers by `throttle_ident`.

Failures have limits of their own, counted in fixed windows and only when something fails: failed
sign-ins (`accounts.services.auth`) and requests with a refused API key or access token, per client
address (`API_AUTH_FAILURE_LIMIT`). Like the request limit they are not applied while Redis does not
answer (`core.ratelimit`): a cache outage must not refuse every signed-in call.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import redis
from django.conf import settings
from django.core.cache import cache
from rest_framework.request import Request

from core.middleware import client_ip
from core.ratelimit import rate_limit_unchecked, rate_parse


def throttle_ident(request: Request, fallback_ip: str) -> str:
    """`key:<id>` for an API key, `user:<id>` for a person, `platform` for the legacy key, else the IP."""
    user = request.user
    if user is not None and getattr(user, "is_authenticated", False):
        pk = user.pk
        return pk if isinstance(pk, str) else f"user:{pk}"  # a Principal's pk already names its kind
    return f"ip:{fallback_ip}"


# --- failure counters -----------------------------------------------------------------------------
# Fixed windows in the cache, for limits that count only failures (sign-in, credentials). Checking
# is one cache read, so a caller that never fails pays almost nothing; a failure adds one.


def _failure_cache_key(group: str, key: str, window: int, window_index: int) -> str:
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]  # keys hold emails and addresses
    return f"failures:{group}:{window}:{window_index}:{digest}"


def failures_retry_after(*, group: str, key: str, rate: str) -> int | None:
    """Seconds until `key` may try again if its failures fill this window of `rate`, else None."""
    limit, window = rate_parse(rate)
    now = int(time.time())
    index = now // window
    try:
        failures = int(cache.get(_failure_cache_key(group, key, window, index), 0))
    except redis.RedisError as exc:  # like every rate limit, open while Redis does not answer
        rate_limit_unchecked(exc)
        return None
    if failures < limit:
        return None
    return max(1, (index + 1) * window - now)


def failure_count(*, group: str, key: str, rate: str) -> None:
    """Count one failure of `key` in the current window of `rate`."""
    _limit, window = rate_parse(rate)
    now = int(time.time())
    index = now // window
    cache_key = _failure_cache_key(group, key, window, index)
    timeout = (index + 1) * window - now + 1
    try:
        if cache.add(cache_key, 1, timeout=timeout):
            return
        try:
            cache.incr(cache_key)
        except ValueError:  # expired between the two calls: this failure opens the counter again
            cache.add(cache_key, 1, timeout=timeout)
    except redis.RedisError as exc:
        rate_limit_unchecked(exc)


# --- failed credentials on the API, per client address ---------------------------------------------

CREDENTIAL_FAILURES = "credential-failures-address"


def credential_failures_retry_after(request: Any) -> int | None:
    """Seconds the caller's address must wait after presenting too many bad credentials, else None.

    The whole address waits, a valid key included: checking a key is the work the limit exists to
    bound, and a valid answer would tell a guesser that it guessed right.
    """
    address = client_ip(request)
    if not address:
        return None
    return failures_retry_after(group=CREDENTIAL_FAILURES, key=address, rate=settings.API_AUTH_FAILURE_LIMIT)


def credential_failure_count(request: Any) -> None:
    """Count one request whose API key, access token or legacy key was refused."""
    address = client_ip(request)
    if address:
        failure_count(group=CREDENTIAL_FAILURES, key=address, rate=settings.API_AUTH_FAILURE_LIMIT)
