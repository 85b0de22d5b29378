"""Whether a failed HTTP call to another service is worth trying again: one rule for every client.

Worth retrying: no answer at all (timeout, refused or reset connection, a name that did not
resolve — `None` here), any 5xx, 429 Too Many Requests and 408 Request Timeout. 408 means the server
gave up waiting for our request before acting on it, so sending it again is safe and may succeed.
Every other 4xx means the request itself is wrong: retrying it sends the same refusal again.

Used by the WhatsApp Graph API client, the SkyBot runner client, the n8n router and outgoing
webhook deliveries; each keeps its own schedule (`core.tasks.backoff`, the delivery schedule).
"""

from __future__ import annotations

RETRYABLE_CLIENT_STATUSES = frozenset({408, 429})


def status_is_retryable(status: int | None) -> bool:
    """True for no answer (`None`), a 5xx, 408 or 429."""
    return status is None or status >= 500 or status in RETRYABLE_CLIENT_STATUSES
