"""With Redis, API-key usage is counted there and written to the database by the flush: a request
writes no row, the flush writes each count exactly once whatever step a crash stops it at, and a
person reading the keys sees a use before the flush."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import redis
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Account, ApiKey, ApiKeyUsageDay, ApiKeyUsageFlush, User
from accounts.principals import Principal
from accounts.selectors import api_key_get, api_key_usage_by_key
from accounts.services.api_key_usage import (
    BATCH_COUNTERS,
    LIVE_COUNTERS,
    api_key_usage_batch_apply,
    api_key_usage_batch_release,
    api_key_usage_batch_take,
    api_key_usage_flush,
    api_key_usage_record,
)
from accounts.services.api_keys import IssuedKey, api_key_create
from accounts.tasks import flush_api_key_usage
from core.cache import redis_client, redis_key

pytestmark = pytest.mark.redis

ME_URL = "/api/v1/me"
MONDAY = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
TUESDAY = MONDAY + timedelta(days=1)


def issue(account: Account) -> IssuedKey:
    return api_key_create(
        account=account, name="CRM sync", scopes=["read"], expires_at=None, actor=Principal.platform_key()
    )


def with_key(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=key)
    return client


def use(api_key: ApiKey, *statuses: int, now: datetime = MONDAY) -> None:
    for status in statuses:
        api_key_usage_record(api_key=api_key, status_code=status, now=now)


def rows() -> dict[tuple[int, date], tuple[int, int, int]]:
    """Every day row in the database: (key, day) → (requests, client errors, server errors)."""
    return {
        (row.api_key_id, row.day): (row.requests, row.client_errors, row.server_errors)
        for row in ApiKeyUsageDay.objects.all()
    }


def last_used(api_key: ApiKey) -> datetime | None:
    return ApiKey.objects.get(pk=api_key.pk).last_used_at


def in_redis(name: str) -> bool:
    client = redis_client()
    assert client is not None
    return bool(client.exists(redis_key(name)))


def test_a_request_writes_no_usage_until_the_flush(account: Account, django_assert_num_queries: Any) -> None:
    # given a key that made one request
    issued = issue(account)
    client = with_key(issued.key)
    assert client.get(ME_URL).status_code == 200
    before = timezone.now()

    # when it makes another, then the only query is the key's lookup: no usage row, no last_used_at
    with django_assert_num_queries(1) as queries:
        assert client.get(ME_URL).status_code == 200
    assert queries.captured_queries[0]["sql"].lstrip().upper().startswith("SELECT")
    assert not ApiKeyUsageDay.objects.exists()
    assert last_used(issued.api_key) is None

    # when the flush runs, then both requests are on today's row and the key was used just now
    assert api_key_usage_flush() == 1
    assert rows() == {(issued.api_key.pk, timezone.localdate(timezone=UTC)): (2, 0, 0)}
    used = last_used(issued.api_key)
    assert used is not None
    assert before <= used <= timezone.now()
    assert not in_redis(LIVE_COUNTERS)
    assert not in_redis(BATCH_COUNTERS)


def test_the_flush_writes_each_keys_counts_by_day_and_answer(account: Account, other_account: Account) -> None:
    # given two tenants' keys used on two days, answered in various ways
    ours, theirs = issue(account).api_key, issue(other_account).api_key
    use(ours, 200, 404, 503)
    use(ours, 200, 429, now=TUESDAY)
    use(theirs, 500, 200, now=TUESDAY + timedelta(minutes=5))

    # when the flush runs
    assert api_key_usage_flush() == 1

    # then each key's days are in the database with their owner, and its last use
    assert rows() == {
        (ours.pk, MONDAY.date()): (3, 1, 1),
        (ours.pk, TUESDAY.date()): (2, 1, 0),
        (theirs.pk, TUESDAY.date()): (2, 0, 1),
    }
    assert set(ApiKeyUsageDay.objects.filter(api_key=theirs).values_list("account_id", flat=True)) == {other_account.pk}
    assert last_used(ours) == TUESDAY
    assert last_used(theirs) == TUESDAY + timedelta(minutes=5)


def test_a_second_flush_adds_only_what_came_since(account: Account) -> None:
    # given a key's requests, flushed
    api_key = issue(account).api_key
    use(api_key, 200, 200)
    api_key_usage_flush()

    # when the flush runs again with nothing new, then nothing changes
    assert api_key_usage_flush() == 0
    assert rows() == {(api_key.pk, MONDAY.date()): (2, 0, 0)}

    # when one more request comes and the flush runs, then only that one is added
    use(api_key, 404)
    assert api_key_usage_flush() == 1
    assert rows() == {(api_key.pk, MONDAY.date()): (3, 1, 0)}


def test_a_flush_that_died_after_its_commit_is_finished_by_the_next_without_counting_twice(account: Account) -> None:
    # given a flush that wrote its batch to the database but died before deleting it from Redis
    api_key = issue(account).api_key
    use(api_key, 200, 200, 500)
    batch = api_key_usage_batch_take()
    assert batch is not None
    assert api_key_usage_batch_apply(batch=batch) is True
    # and a request counted meanwhile
    use(api_key, 200)

    # when the batch is written again, then nothing is added
    assert api_key_usage_batch_apply(batch=batch) is False
    assert rows() == {(api_key.pk, MONDAY.date()): (3, 0, 1)}

    # when the next flush runs, then the old batch is let go and only the new request is added
    assert api_key_usage_flush() == 1
    assert rows() == {(api_key.pk, MONDAY.date()): (4, 0, 1)}
    assert ApiKeyUsageFlush.objects.filter(batch_id=batch.batch_id).exists()
    assert not in_redis(BATCH_COUNTERS)
    assert not in_redis(LIVE_COUNTERS)


def test_a_flush_that_died_before_its_commit_loses_nothing(account: Account) -> None:
    # given a flush that took the counters and died inside its transaction
    api_key = issue(account).api_key
    use(api_key, 200, 404)
    batch = api_key_usage_batch_take()
    assert batch is not None

    def apply_and_die() -> None:
        with transaction.atomic():
            api_key_usage_batch_apply(batch=batch)
            raise RuntimeError("the worker died")

    with pytest.raises(RuntimeError):
        apply_and_die()
    assert rows() == {}
    # and one that took them and died before writing anything, with a request counted since
    use(api_key, 200)

    # when the next flush runs, then every request is counted, once
    assert api_key_usage_flush() == 2
    assert rows() == {(api_key.pk, MONDAY.date()): (3, 1, 0)}
    assert last_used(api_key) == MONDAY


def test_requests_counted_during_a_flush_are_written_by_the_next(account: Account) -> None:
    # given a flush that has taken the counters
    api_key = issue(account).api_key
    use(api_key, 200, 200)
    batch = api_key_usage_batch_take()
    assert batch is not None

    # when requests are counted before it writes
    use(api_key, 200, 503, now=MONDAY + timedelta(minutes=1))
    api_key_usage_batch_apply(batch=batch)
    api_key_usage_batch_release(batch_id=batch.batch_id)

    # then they are not in its batch but waiting in Redis, and the next flush writes them
    assert rows() == {(api_key.pk, MONDAY.date()): (2, 0, 0)}
    assert in_redis(LIVE_COUNTERS)
    api_key_usage_flush()
    assert rows() == {(api_key.pk, MONDAY.date()): (4, 0, 1)}
    assert last_used(api_key) == MONDAY + timedelta(minutes=1)


def test_requests_counted_while_flushes_run_are_all_written_once(account: Account) -> None:
    # given four workers counting 150 requests each while the flush runs over and over
    api_key = issue(account).api_key
    errors: list[BaseException] = []

    def work() -> None:
        try:
            use(api_key, *[200] * 150)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        api_key_usage_flush()

    # when the last flush runs, then all 600 are counted, no more
    api_key_usage_flush()
    assert errors == []
    assert rows() == {(api_key.pk, MONDAY.date()): (600, 0, 0)}


def test_a_key_deleted_before_the_flush_is_skipped(account: Account) -> None:
    # given two keys used, one of them deleted before the flush
    kept, deleted = issue(account).api_key, issue(account).api_key
    use(kept, 200)
    use(deleted, 200, 200)
    ApiKey.objects.filter(pk=deleted.pk).delete()

    # when the flush runs, then the kept key's request is written and nothing is left behind
    assert api_key_usage_flush() == 1
    assert rows() == {(kept.pk, MONDAY.date()): (1, 0, 0)}
    assert not in_redis(BATCH_COUNTERS)


def test_the_flush_never_moves_last_used_at_back(account: Account) -> None:
    # given a key whose last_used_at is later than the use counted in Redis
    api_key = issue(account).api_key
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=TUESDAY)
    use(api_key, 200, now=MONDAY)

    # when the flush runs, then the request is counted and last_used_at stays
    api_key_usage_flush()
    assert rows() == {(api_key.pk, MONDAY.date()): (1, 0, 0)}
    assert last_used(api_key) == TUESDAY


def test_the_flush_forgets_batches_older_than_a_day(account: Account) -> None:
    # given batches written two days and an hour ago
    old = ApiKeyUsageFlush.objects.create(batch_id="old")
    recent = ApiKeyUsageFlush.objects.create(batch_id="recent")
    ApiKeyUsageFlush.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))
    ApiKeyUsageFlush.objects.filter(pk=recent.pk).update(created_at=timezone.now() - timedelta(hours=1))

    # when the flush runs, then only the recent one is kept
    api_key_usage_flush()
    assert set(ApiKeyUsageFlush.objects.values_list("batch_id", flat=True)) == {"recent"}


def test_the_beat_task_flushes_every_interval(account: Account) -> None:
    # given a key's requests in Redis
    api_key = issue(account).api_key
    use(api_key, 200, 200)

    # when the beat's task runs, then they are written
    flush_api_key_usage.delay()
    assert rows() == {(api_key.pk, MONDAY.date()): (2, 0, 0)}
    entry = settings.CELERY_BEAT_SCHEDULE["accounts-flush-api-key-usage"]
    assert entry["task"] == flush_api_key_usage.name
    assert entry["schedule"] == settings.API_KEY_USAGE_FLUSH_SECONDS


def test_people_see_a_keys_use_before_the_flush(
    account: Account, other_account: Account, client_admin: User, client_for: Callable[[User], APIClient]
) -> None:
    # given our key used twice and another tenant's once, nothing flushed yet
    ours, theirs = issue(account), issue(other_account)
    before = timezone.now()
    for _ in range(2):
        assert with_key(ours.key).get(ME_URL).status_code == 200
    assert with_key(theirs.key).get(ME_URL).status_code == 200
    assert not ApiKeyUsageDay.objects.exists()
    admin = client_for(client_admin)

    # when our admin lists the keys and opens ours, then its last use is there
    listed = admin.get("/api/v1/api-keys").json()["results"]
    assert [key["id"] for key in listed] == [ours.api_key.pk]
    shown = admin.get(f"/api/v1/api-keys/{ours.api_key.pk}").json()
    for key in (listed[0], shown):
        assert key["last_used_at"] is not None
        assert before <= datetime.fromisoformat(key["last_used_at"]) <= timezone.now()

    # and today's requests are counted for our tenant only; after the flush they still are, once
    principal = Principal.for_user(client_admin)
    for _ in ("before the flush", "after it"):
        usage = api_key_usage_by_key(principal=principal, days=7)
        assert set(usage) == {ours.api_key.pk}
        assert usage[ours.api_key.pk].days[-1].requests == 2
        api_key_usage_flush()


def test_without_a_reachable_redis_pages_show_what_the_database_has(account: Account, settings: Any) -> None:
    # given a key's flushed requests
    api_key = issue(account).api_key
    use(api_key, 200, 404)
    api_key_usage_flush()

    # when Redis cannot be reached
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": f"redis://127.0.0.1:{closed_port}/0"}}

    # then the usage and the key still read, from the database
    usage = api_key_usage_by_key(principal=Principal.platform_key(), days=7, today=MONDAY.date())
    assert (usage[api_key.pk].requests, usage[api_key.pk].client_errors) == (2, 1)
    assert ApiKey.objects.filter(pk=api_key.pk).count() == 1
    assert api_key_get(principal=Principal.platform_key(), pk=api_key.pk).last_used_at == MONDAY
    # and counting a request fails with Redis's error, which the middleware logs (the answer is sent)
    with pytest.raises(redis.RedisError):
        use(api_key, 200)
