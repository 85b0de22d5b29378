"""Analytics cache versioning: new executions bump a tenant's version, so every cached answer of
that tenant is simply never read again (and expires on its own)."""

from __future__ import annotations

from django.core.cache import cache


def _version_key(account_id: int) -> str:
    return f"agents:analytics-version:{account_id}"


def analytics_version(account_id: int) -> int:
    version = cache.get(_version_key(account_id))
    return int(version) if version else 1


def analytics_invalidate(account_id: int) -> None:
    """Call after executions of the tenant were written (after commit)."""
    key = _version_key(account_id)
    if not cache.add(key, 2, timeout=None):
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 2, timeout=None)
