"""The API's rate limit: per caller and per tenant, several windows, one atomic check per request.

Each caller (an API key, a person, the legacy platform key, or the address of an anonymous caller;
`core.throttling.throttle_ident`) has a window per second, per minute and per hour (`burst`,
`sustained`, `hourly`); each tenant has the same three for all its keys and people together
(`tenant_*`). The legacy key, platform staff and anonymous callers belong to no tenant and have no
tenant window. All of them are checked and counted in one step (`core.ratelimit.rate_limit_hit`), and
a refused request counts in none.

The limits are the installation's (`REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`, from the `THROTTLE_*`
variables) unless platform staff set others for the tenant's plan (`PlanRateLimit`, in the admin).
Plans' limits are read once per process and kept `PLAN_LIMITS_TTL_SECONDS` (30 s), so a request costs
no query; a change made in the admin applies at once in the process that saved it and within 30
seconds everywhere else.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from accounts.models import Account, PlanRateLimit, User
from accounts.principals import Principal
from core.ratelimit import Window, rate_limit_hit, rate_parse
from core.throttling import throttle_ident

PLAN_LIMITS_TTL_SECONDS = 30.0

# Each window: its scope in DEFAULT_THROTTLE_RATES, the PlanRateLimit field that overrides it, and
# the length of the overriding window.
CALLER_WINDOWS = (
    ("burst", "caller_per_second", 1),
    ("sustained", "caller_per_minute", 60),
    ("hourly", "caller_per_hour", 3600),
)
TENANT_WINDOWS = (
    ("tenant_burst", "tenant_per_second", 1),
    ("tenant_sustained", "tenant_per_minute", 60),
    ("tenant_hourly", "tenant_per_hour", 3600),
)


@dataclass(frozen=True)
class _PlanLimits:
    loaded_at: float
    by_plan: Mapping[str, Mapping[str, int]]  # plan → PlanRateLimit field → the limit staff set


_loaded: _PlanLimits | None = None
_load_lock = threading.Lock()


def plan_rate_limits(plan: str, *, now: float | None = None) -> Mapping[str, int]:
    """The limits staff set for `plan` (PlanRateLimit field → limit; unset fields are absent).

    All plans are read in one query and kept for `PLAN_LIMITS_TTL_SECONDS` of `time.monotonic()`.
    """
    global _loaded
    now = time.monotonic() if now is None else now
    loaded = _loaded
    if loaded is None or not 0 <= now - loaded.loaded_at < PLAN_LIMITS_TTL_SECONDS:
        with _load_lock:
            loaded = _loaded
            if loaded is None or not 0 <= now - loaded.loaded_at < PLAN_LIMITS_TTL_SECONDS:
                loaded = _loaded = _PlanLimits(loaded_at=now, by_plan=_plan_limits_load())
    return loaded.by_plan.get(plan, {})


def _plan_limits_load() -> dict[str, dict[str, int]]:
    fields = [field for _scope, field, _seconds in CALLER_WINDOWS + TENANT_WINDOWS]
    return {
        row["plan"]: {field: row[field] for field in fields if row[field] is not None}
        for row in PlanRateLimit.objects.values("plan", *fields)
    }


def plan_rate_limits_assume(by_plan: Mapping[str, Mapping[str, int]]) -> None:
    """Keep `by_plan` as the plans' limits, as if just read (the test suite: a new database has none,
    so no test's first request pays for the query, whatever ran before it in the process)."""
    global _loaded
    _loaded = _PlanLimits(loaded_at=time.monotonic(), by_plan=by_plan)


def plan_rate_limits_forget() -> None:
    """Read the plans' limits again on the next request (as when the 30 seconds are over)."""
    global _loaded
    _loaded = None


@receiver([post_save, post_delete], sender=PlanRateLimit, dispatch_uid="accounts.throttling.plan_limits_forget")
def _plan_limits_changed(**kwargs: Any) -> None:
    plan_rate_limits_forget()


def _window(name: str, scope: str, override: int | None, override_seconds: int) -> Window | None:
    if override is not None:
        return Window(name=name, limit=override, seconds=override_seconds)
    try:
        rate = api_settings.DEFAULT_THROTTLE_RATES[scope]
    except KeyError:
        raise ImproperlyConfigured(f'REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] has no rate for {scope!r}.') from None
    if rate is None:  # DRF's way of saying "no limit"
        return None
    limit, seconds = rate_parse(str(rate))
    return Window(name=name, limit=limit, seconds=seconds)


def rate_limit_tenant(user: Any) -> Account | None:
    """The tenant whose windows a request also counts in: a key's or a person's own; else None.

    Platform staff acting in a tenant count as themselves only: they are not its callers.
    """
    if isinstance(user, Principal):
        if user.api_key is not None:
            return user.account
        if user.user is not None:
            return user.user.account if user.user.account_id is not None else None
        return user.account  # a plugin acting for its tenant; None for the legacy platform key
    if isinstance(user, User) and user.account_id is not None:
        return user.account
    return None


class PlanRateThrottle(BaseThrottle):
    """DRF throttle: the caller's and its tenant's windows, limits by the tenant's plan.

    A refused request answers 429 with `Retry-After` (the seconds until the latest-ending full window
    ends) through `core.exceptions.api_exception_handler`.
    """

    def __init__(self) -> None:
        self.retry_after: int | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        account = rate_limit_tenant(request.user)
        overrides = plan_rate_limits(account.plan) if account is not None else {}
        caller = throttle_ident(request, self.get_ident(request))
        windows = [
            _window(f"{scope}:{caller}", scope, overrides.get(field), seconds)
            for scope, field, seconds in CALLER_WINDOWS
        ]
        if account is not None:
            windows += [
                _window(f"{scope}:{account.pk}", scope, overrides.get(field), seconds)
                for scope, field, seconds in TENANT_WINDOWS
            ]
        self.retry_after = rate_limit_hit([window for window in windows if window is not None])
        return self.retry_after is None

    def wait(self) -> float | None:
        return None if self.retry_after is None else float(self.retry_after)
