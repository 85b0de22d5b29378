"""What an API key was used for: its per-day request and error counts, and when it was last used.

`api_key_usage_record` counts each request a key authenticated, after the answer is known
(`accounts.middleware.ApiKeyUsageMiddleware`). A request the key did not get through (unknown,
revoked, wrong secret) is counted nowhere: there is no key to count it against.

With Redis (production) a request costs one Redis round trip and no database write: a Lua script
adds to the key's counters for the UTC day and raises its last-use time in one hash of live
counters. `api_key_usage_flush` (Celery beat, every `API_KEY_USAGE_FLUSH_SECONDS`) writes them to
`ApiKeyUsageDay` and `ApiKey.last_used_at` exactly once, in three steps a crash can stop anywhere:

1. `api_key_usage_batch_take` renames the live hash to the batch hash and stamps it with a batch id
   (or answers the batch a crashed flush left there); requests from then on count in a new live hash.
2. `api_key_usage_batch_apply` adds the batch to the day rows, raises `last_used_at` and records the
   batch id in `ApiKeyUsageFlush`, in one transaction; a batch id already recorded adds nothing.
3. `api_key_usage_batch_release` deletes the batch hash.

Without Redis (the embedded default: one process on SQLite) each request writes directly: the
day's counters in one upsert, and `last_used_at` at most once a minute.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache as memoize

import redis
import structlog
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, DateTimeField, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from redis.commands.core import Script

from accounts.models import ApiKey, ApiKeyUsageFlush
from core.cache import redis_client, redis_key

logger = structlog.get_logger(__name__)

LAST_USED_RESOLUTION = timedelta(minutes=1)
# Batch ids outlive any retry of their batch (the next flush, an interval later) by far.
FLUSH_LEDGER_RETENTION = timedelta(days=1)

LIVE_COUNTERS = "api-key-usage:live"
BATCH_COUNTERS = "api-key-usage:batch"
# Fields of both hashes: "<account id>:<key id>:<YYYY-MM-DD>:<r|c|s>" count requests, client errors
# and server errors of a UTC day; "<account id>:<key id>:used" holds the last use in microseconds
# since the epoch. The account id lets a tenant's page pick its own keys out of the live hash.
BATCH_ID_FIELD = "batch"
_COUNTER_INDEX = {"r": 0, "c": 1, "s": 2}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

# `INSERT ... ON CONFLICT DO UPDATE` adding to the day's row: the same statement on PostgreSQL and
# SQLite (3.24+), atomic however many writers add at once. Django's
# `bulk_create(update_conflicts=True)` can only overwrite a counter, not add to it.
UPSERT_SQL = """
INSERT INTO accounts_apikeyusageday (api_key_id, account_id, day, requests, client_errors, server_errors)
VALUES (%s, %s, %s, %s, %s, %s)
ON CONFLICT (api_key_id, day) DO UPDATE SET
    requests = accounts_apikeyusageday.requests + excluded.requests,
    client_errors = accounts_apikeyusageday.client_errors + excluded.client_errors,
    server_errors = accounts_apikeyusageday.server_errors + excluded.server_errors
"""

# KEYS: live hash. ARGV: "<account id>:<key id>", day, client error (0/1), server error (0/1), now (µs).
_RECORD_LUA = """
local day = ARGV[1] .. ':' .. ARGV[2]
redis.call('HINCRBY', KEYS[1], day .. ':r', 1)
if ARGV[3] == '1' then redis.call('HINCRBY', KEYS[1], day .. ':c', 1) end
if ARGV[4] == '1' then redis.call('HINCRBY', KEYS[1], day .. ':s', 1) end
local used = ARGV[1] .. ':used'
local previous = redis.call('HGET', KEYS[1], used)
if not previous or tonumber(previous) < tonumber(ARGV[5]) then redis.call('HSET', KEYS[1], used, ARGV[5]) end
return 1
"""

# KEYS: live hash, batch hash. ARGV: new batch id, batch id field. A batch left by a crashed flush is
# answered as it is; otherwise the live counters become the batch (nil when there are none).
_TAKE_LUA = """
if redis.call('EXISTS', KEYS[2]) == 0 then
    if redis.call('EXISTS', KEYS[1]) == 0 then return nil end
    redis.call('RENAME', KEYS[1], KEYS[2])
    redis.call('HSET', KEYS[2], ARGV[2], ARGV[1])
end
return redis.call('HGETALL', KEYS[2])
"""

# KEYS: batch hash. ARGV: batch id field, batch id. Deletes the batch only if it is still that one.
_RELEASE_LUA = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('DEL', KEYS[1]) end
return 0
"""


@memoize
def _script(client: redis.Redis, source: str) -> Script:
    return client.register_script(source)


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICROSECOND


def _utc_day(moment: datetime) -> date:
    return timezone.localdate(moment, timezone=UTC)  # usage days are UTC days, whoever looks at them


# --- counting a request ---------------------------------------------------------------------------


def api_key_usage_record(*, api_key: ApiKey, status_code: int, now: datetime | None = None) -> None:
    """Count one request of `api_key` answered with `status_code` on its UTC day, and its use.

    With Redis: one script call on the live counters, flushed later. Without: written at once.
    """
    now = now or timezone.now()
    client_error = int(400 <= status_code < 500)
    server_error = int(status_code >= 500)
    client = redis_client()
    if client is None:
        _record_in_database(api_key=api_key, now=now, client_error=client_error, server_error=server_error)
        return
    owner = f"{api_key.account_id}:{api_key.pk}"
    args: list[str | int] = [owner, _utc_day(now).isoformat(), client_error, server_error, _micros(now)]
    _script(client, _RECORD_LUA)(keys=[redis_key(LIVE_COUNTERS)], args=args)


def _record_in_database(*, api_key: ApiKey, now: datetime, client_error: int, server_error: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(UPSERT_SQL, [api_key.pk, api_key.account_id, _utc_day(now), 1, client_error, server_error])
    last_used = api_key.last_used_at
    if last_used is None or now - last_used >= LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now


# --- reading counters -----------------------------------------------------------------------------


@dataclass
class UsageCounters:
    """Counters read from a Redis hash: [requests, client errors, server errors] per (account, key,
    day), and the last use per (account, key)."""

    days: dict[tuple[int, int, date], list[int]] = field(default_factory=dict)
    last_used: dict[tuple[int, int], datetime] = field(default_factory=dict)


def usage_counters_parse(fields: Mapping[bytes, bytes]) -> UsageCounters:
    """The counters in a live or batch hash (`HGETALL`'s answer); fields of another shape are ignored."""
    counters = UsageCounters()
    for raw_name, raw_value in fields.items():
        parts = raw_name.decode().split(":")
        try:
            value = int(raw_value)
            if len(parts) == 3 and parts[2] == "used":
                counters.last_used[int(parts[0]), int(parts[1])] = _EPOCH + value * _MICROSECOND
            elif len(parts) == 4 and parts[3] in _COUNTER_INDEX:
                day = date.fromisoformat(parts[2])
                counters.days.setdefault((int(parts[0]), int(parts[1]), day), [0, 0, 0])[_COUNTER_INDEX[parts[3]]] = (
                    value
                )
        except ValueError:
            continue
    return counters


def usage_live_counters() -> UsageCounters:
    """The counters not yet taken by a flush: one `HGETALL` (empty without Redis, or when it cannot
    be reached: a page then shows what the database has)."""
    client = redis_client()
    if client is None:
        return UsageCounters()
    try:
        fields = client.hgetall(redis_key(LIVE_COUNTERS))
    except redis.RedisError:
        logger.warning("api_key_usage_live_unreadable", exc_info=True)
        return UsageCounters()
    return usage_counters_parse(fields)  # type: ignore[arg-type]


def usage_live_last_used(keys: list[ApiKey]) -> dict[int, datetime]:
    """The last use of each of `keys` not yet flushed, by key id: one `HMGET` (empty without Redis,
    or when it cannot be reached)."""
    client = redis_client()
    if client is None or not keys:
        return {}
    try:
        values = client.hmget(redis_key(LIVE_COUNTERS), [f"{key.account_id}:{key.pk}:used" for key in keys])
    except redis.RedisError:
        logger.warning("api_key_usage_live_unreadable", exc_info=True)
        return {}
    return {
        key.pk: _EPOCH + int(value) * _MICROSECOND for key, value in zip(keys, values, strict=True) if value is not None
    }


# --- flushing to the database ---------------------------------------------------------------------


@dataclass(frozen=True)
class UsageBatch:
    """Counters taken from Redis under one batch id, to be written once."""

    batch_id: str
    counters: UsageCounters


def api_key_usage_batch_take() -> UsageBatch | None:
    """Step 1: the batch a crashed flush left, else the live counters moved into a new batch (None
    when there is nothing to flush, or no Redis)."""
    client = redis_client()
    if client is None:
        return None
    keys = [redis_key(LIVE_COUNTERS), redis_key(BATCH_COUNTERS)]
    answer = _script(client, _TAKE_LUA)(keys=keys, args=[uuid.uuid4().hex, BATCH_ID_FIELD])
    if answer is None:
        return None
    fields = dict(zip(answer[::2], answer[1::2], strict=True))
    batch_id = fields.pop(BATCH_ID_FIELD.encode()).decode()
    return UsageBatch(batch_id=batch_id, counters=usage_counters_parse(fields))


@transaction.atomic
def api_key_usage_batch_apply(*, batch: UsageBatch) -> bool:
    """Step 2: add `batch` to the day rows and raise `last_used_at`, in one transaction with its
    ledger row. False (nothing written) when the batch was written before. Keys deleted since their
    requests are skipped."""
    if ApiKeyUsageFlush.objects.filter(batch_id=batch.batch_id).exists():
        return False
    try:
        with transaction.atomic():
            # First, so a concurrent flush of the same batch waits here and then adds nothing.
            ApiKeyUsageFlush.objects.create(batch_id=batch.batch_id)
    except IntegrityError:
        return False
    counters = batch.counters
    key_ids = {key_id for _, key_id, _ in counters.days} | {key_id for _, key_id in counters.last_used}
    # Locked, so none of them is deleted before the rows that point to it are written.
    accounts = dict(
        ApiKey.objects.select_for_update(no_key=True)
        .filter(pk__in=key_ids)
        .order_by("pk")
        .values_list("pk", "account_id")
    )
    rows: list[tuple[int | date, ...]] = [
        (key_id, accounts[key_id], day, *counts)
        for (_, key_id, day), counts in sorted(counters.days.items())
        if key_id in accounts
    ]
    if rows:
        with connection.cursor() as cursor:
            cursor.executemany(UPSERT_SQL, rows)
    last_used = {key_id: used for (_, key_id), used in counters.last_used.items() if key_id in accounts}
    if last_used:
        batch_value = Case(
            *(When(pk=key_id, then=Value(used)) for key_id, used in last_used.items()),
            output_field=DateTimeField(),
        )
        ApiKey.objects.filter(pk__in=last_used).update(
            last_used_at=Greatest(Coalesce("last_used_at", batch_value), batch_value)
        )
    return True


def api_key_usage_batch_release(*, batch_id: str) -> None:
    """Step 3: forget the batch in Redis (only if the batch hash still holds `batch_id`)."""
    client = redis_client()
    if client is not None:
        _script(client, _RELEASE_LUA)(keys=[redis_key(BATCH_COUNTERS)], args=[BATCH_ID_FIELD, batch_id])


def api_key_usage_flush(*, now: datetime | None = None) -> int:
    """Write the counters kept in Redis to the database: first a batch a crashed flush left, then
    the live ones. Safe to run again at any point, and concurrently. Answers the batches written."""
    written = 0
    for _ in range(2):
        batch = api_key_usage_batch_take()
        if batch is None:
            break
        written += api_key_usage_batch_apply(batch=batch)
        api_key_usage_batch_release(batch_id=batch.batch_id)
    ApiKeyUsageFlush.objects.filter(created_at__lt=(now or timezone.now()) - FLUSH_LEDGER_RETENTION).delete()
    return written
