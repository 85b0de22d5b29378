"""API throttles: per API key, per person, or per IP for anonymous callers (10/s, 120/min, 1000/h)."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle


class _PrincipalRateThrottle(SimpleRateThrottle):
    def get_cache_key(self, request: Request, view: Any) -> str:
        user = request.user
        if getattr(user, "is_authenticated", False):
            ident = str(user.pk)
            if request.auth is not None and hasattr(request.auth, "prefix"):
                ident = f"key:{request.auth.pk}"
            elif not ident.startswith(("key:", "user:", "platform")):
                ident = f"user:{ident}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class BurstThrottle(_PrincipalRateThrottle):
    scope = "burst"


class SustainedThrottle(_PrincipalRateThrottle):
    scope = "sustained"


class HourlyThrottle(_PrincipalRateThrottle):
    scope = "hourly"
