"""API throttles: per API key, per person, or per IP for anonymous callers (10/s, 120/min, 1000/h).

Rates come from `REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]` (env `THROTTLE_BURST`, `THROTTLE_SUSTAINED`,
`THROTTLE_HOURLY`) and are read on every request, so a changed setting applies without a restart of
the class (DRF's own `SimpleRateThrottle` freezes them at import). A throttled call answers 429 with
`Retry-After` through `core.exceptions.api_exception_handler`.
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


def throttle_ident(request: Request, fallback_ip: str) -> str:
    """`key:<id>` for an API key, `user:<id>` for a person, `platform` for the legacy key, else the IP."""
    user = request.user
    if user is not None and getattr(user, "is_authenticated", False):
        pk = user.pk
        return pk if isinstance(pk, str) else f"user:{pk}"  # a Principal's pk already names its kind
    return f"ip:{fallback_ip}"


class _PrincipalRateThrottle(SimpleRateThrottle):
    def get_rate(self) -> str | None:
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope or "")
        return str(rate) if rate is not None else None

    def get_cache_key(self, request: Request, view: Any) -> str:
        ident = throttle_ident(request, self.get_ident(request))
        return self.cache_format % {"scope": self.scope, "ident": ident}


class BurstThrottle(_PrincipalRateThrottle):
    scope = "burst"


class SustainedThrottle(_PrincipalRateThrottle):
    scope = "sustained"


class HourlyThrottle(_PrincipalRateThrottle):
    scope = "hourly"
