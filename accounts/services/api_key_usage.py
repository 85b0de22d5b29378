"""What an API key was used for: its per-day request and error counts, and when it was last used.

Both are written here, once per request the key authenticated, after the answer is known
(`accounts.middleware.ApiKeyUsageMiddleware`): the day's counters in one upsert, and `last_used_at`
at most once a minute (a key busy all day costs one extra write a minute, not one per request).
A request the key did not get through (unknown, revoked, wrong secret) is counted nowhere: there is
no key to count it against.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db import connection
from django.utils import timezone

from accounts.models import ApiKey

LAST_USED_RESOLUTION = timedelta(minutes=1)


# `INSERT ... ON CONFLICT DO UPDATE` adding to the day's row: the same statement on PostgreSQL and
# SQLite (3.24+), atomic however many requests of the key arrive at once. Django's
# `bulk_create(update_conflicts=True)` can only overwrite a counter, not add to it.
UPSERT_SQL = """
INSERT INTO accounts_apikeyusageday (api_key_id, account_id, day, requests, client_errors, server_errors)
VALUES (%s, %s, %s, 1, %s, %s)
ON CONFLICT (api_key_id, day) DO UPDATE SET
    requests = accounts_apikeyusageday.requests + 1,
    client_errors = accounts_apikeyusageday.client_errors + excluded.client_errors,
    server_errors = accounts_apikeyusageday.server_errors + excluded.server_errors
"""


def api_key_usage_record(*, api_key: ApiKey, status_code: int, now: datetime | None = None) -> None:
    """Count one request of `api_key` answered with `status_code` on today's row (UTC day)."""
    now = now or timezone.now()
    client_error = int(400 <= status_code < 500)
    server_error = int(status_code >= 500)
    day = timezone.localdate(now, timezone=UTC)  # usage days are UTC days, whoever looks at them
    with connection.cursor() as cursor:
        cursor.execute(UPSERT_SQL, [api_key.pk, api_key.account_id, day, client_error, server_error])
    last_used = api_key.last_used_at
    if last_used is None or now - last_used >= LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
