"""Per-key usage: every request an API key makes is counted on its day, by how it was answered;
nothing is counted for other callers; each tenant sees its own. With Redis the counts reach the
database at the flush (`test_api_key_usage_flush`); readers see them before it, and without Redis
each request writes them at once."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.urls import include, path
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIClient

from accounts.apis.base import TenantApi
from accounts.models import Account, ApiKey, ApiKeyUsageDay, User
from accounts.principals import Principal
from accounts.selectors import api_key_usage, api_key_usage_by_key, usage_total
from accounts.services.api_key_usage import api_key_usage_flush, api_key_usage_record
from accounts.services.api_keys import IssuedKey, api_key_create
from conftest import USING_REDIS

ME_URL = "/api/v1/me"


class BrokenApi(TenantApi):
    """Fails the way a bug does: an exception nobody handles."""

    def get(self, request: Request) -> Response:
        raise RuntimeError("a bug")


urlpatterns = [
    path("api/v1/broken", BrokenApi.as_view()),
    path("", include("skybot_inbox.urls")),
]


def issue(account: Account, scopes: list[str] | None = None) -> IssuedKey:
    return api_key_create(
        account=account, name="CRM sync", scopes=scopes or ["read"], expires_at=None, actor=Principal.platform_key()
    )


def with_key(key: str) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_X_API_KEY=key)
    return client


def today_row(api_key: ApiKey) -> ApiKeyUsageDay:
    """Today's row, once what Redis counted is flushed (without Redis it was written already)."""
    api_key_usage_flush()
    return ApiKeyUsageDay.objects.get(api_key=api_key, day=timezone.localdate())


def test_each_request_is_counted_on_todays_row_by_how_it_was_answered(account: Account) -> None:
    # given a key that may read but not administer
    issued = issue(account, ["read"])
    client = with_key(issued.key)

    # when it makes two good calls, one refused for its scope, one for a missing row, one invalid
    assert client.get(ME_URL).status_code == 200
    assert client.get("/api/v1/conversations").status_code == 200
    assert client.get("/api/v1/webhooks").status_code == 403
    assert client.get("/api/v1/contacts/999999").status_code == 404
    assert client.get("/api/v1/conversations", {"status": "nonsense"}).status_code == 400

    # then one row for today holds all five, three of them client errors
    row = today_row(issued.api_key)
    assert (row.requests, row.client_errors, row.server_errors) == (5, 3, 0)
    assert row.account_id == account.pk
    assert ApiKeyUsageDay.objects.count() == 1


@pytest.mark.urls(__name__)
def test_a_server_error_is_counted_as_one(account: Account) -> None:
    # given
    issued = issue(account)

    # when the view fails
    response = with_key(issued.key).get("/api/v1/broken")

    # then the caller got a 500 and it was counted as a server error
    assert response.status_code == 500
    row = today_row(issued.api_key)
    assert (row.requests, row.client_errors, row.server_errors) == (1, 0, 1)


def test_days_are_counted_apart(account: Account) -> None:
    # given requests on three days, answered in various ways
    api_key = issue(account).api_key
    monday = timezone.make_aware(datetime(2026, 5, 4, 23, 59, 59))
    for when, status in [
        (monday, 200),
        (monday, 503),
        (monday + timedelta(seconds=1), 200),  # Tuesday, just after midnight
        (monday + timedelta(days=2), 429),
        (monday + timedelta(days=2), 200),
    ]:
        api_key_usage_record(api_key=api_key, status_code=status, now=when)

    # when the last seven days up to Wednesday are read, before and after Redis's counts are flushed
    for _ in ("before the flush", "after it"):
        usage = api_key_usage(principal=Principal.platform_key(), api_key=api_key, days=7, today=date(2026, 5, 6))

        # then every day is there, oldest first, the quiet ones at zero, each counted once
        assert [point.day for point in usage.days] == [date(2026, 4, 30) + timedelta(days=n) for n in range(7)]
        counts = {point.day: (point.requests, point.client_errors, point.server_errors) for point in usage.days}
        assert counts[date(2026, 5, 4)] == (2, 0, 1)
        assert counts[date(2026, 5, 5)] == (1, 0, 0)
        assert counts[date(2026, 5, 6)] == (2, 1, 0)
        assert counts[date(2026, 5, 3)] == (0, 0, 0)
        assert (usage.requests, usage.client_errors, usage.server_errors, usage.errors) == (5, 1, 1, 2)
        api_key_usage_flush()


def test_a_window_leaves_out_older_days(account: Account) -> None:
    # given a request 14 days ago and one today
    api_key = issue(account).api_key
    now = timezone.now()
    api_key_usage_record(api_key=api_key, status_code=200, now=now - timedelta(days=14))
    api_key_usage_record(api_key=api_key, status_code=200, now=now)

    # when the last 14 days are read, then only today's request is in them
    usage = api_key_usage(principal=Principal.platform_key(), api_key=api_key, days=14)
    assert len(usage.days) == 14
    assert usage.requests == 1


@pytest.mark.skipif(USING_REDIS, reason="with Redis a request writes nothing (test_api_key_usage_flush)")
def test_without_redis_a_request_with_a_key_costs_one_statement_more(
    account: Account, django_assert_num_queries: Any
) -> None:
    # given a key used a moment ago (its last_used_at is fresh), and no Redis to count in
    client = with_key(issue(account).key)
    assert client.get(ME_URL).status_code == 200

    # when it calls again, then: the key's lookup, and the day's upsert
    with django_assert_num_queries(2) as queries:
        assert client.get(ME_URL).status_code == 200
    assert "ON CONFLICT" in queries.captured_queries[-1]["sql"].upper()
    assert ApiKeyUsageDay.objects.get().requests == 2
    # and there is nothing left for a flush to do
    assert api_key_usage_flush() == 0
    assert ApiKeyUsageDay.objects.get().requests == 2


@pytest.mark.skipif(USING_REDIS, reason="with Redis last_used_at is written by the flush (test_api_key_usage_flush)")
def test_without_redis_last_used_at_is_written_with_the_count_at_most_once_a_minute(account: Account) -> None:
    # given a key last used two minutes ago
    api_key = issue(account).api_key
    two_minutes_ago = timezone.now() - timedelta(minutes=2)
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=two_minutes_ago)
    api_key.refresh_from_db()

    # when it is used twice in a row
    api_key_usage_record(api_key=api_key, status_code=200)
    stamped = ApiKey.objects.get(pk=api_key.pk).last_used_at
    api_key_usage_record(api_key=api_key, status_code=200, now=timezone.now() + timedelta(seconds=30))

    # then the first use moved last_used_at, the second (within the minute) did not
    assert stamped is not None
    assert stamped > two_minutes_ago
    assert ApiKey.objects.get(pk=api_key.pk).last_used_at == stamped


def test_people_the_platform_key_and_refused_keys_are_not_counted(
    account: Account, client_admin: User, client_for: Any, settings: Any
) -> None:
    # given a key, a signed-in person and the legacy platform key
    issued = issue(account)
    settings.LEGACY_API_KEY = "legacy-platform-key-0123456789abcdef"

    # when the person calls, the platform key calls, and the key's prefix comes with a wrong secret
    assert client_for(client_admin).get(ME_URL).status_code == 200
    assert with_key(settings.LEGACY_API_KEY).get(ME_URL).status_code == 200
    assert with_key(f"sk_live_{issued.api_key.prefix}_{'a' * 40}").get(ME_URL).status_code == 401

    # then nothing was counted, and the key was never "used"
    api_key_usage_flush()
    assert not ApiKeyUsageDay.objects.exists()
    assert ApiKey.objects.get(pk=issued.api_key.pk).last_used_at is None


def test_each_tenant_reads_only_its_own_keys_usage(account: Account, other_account: Account) -> None:
    # given keys of two tenants, both used (with Redis: counted there, not flushed yet)
    ours, theirs = issue(account), issue(other_account)
    for issued, calls in ((ours, 2), (theirs, 3)):
        for _ in range(calls):
            assert with_key(issued.key).get(ME_URL).status_code == 200
    admin = Principal(kind="user", role="CLIENT_ADMIN", account=account)

    for _ in ("before the flush", "after it"):
        # when our tenant reads usage
        by_key = api_key_usage_by_key(principal=admin, days=14)
        theirs_seen_by_us = api_key_usage(principal=admin, api_key=theirs.api_key, days=14)

        # then it sees its key only, and nothing of the other tenant's
        assert set(by_key) == {ours.api_key.pk}
        assert by_key[ours.api_key.pk].requests == 2
        assert theirs_seen_by_us.requests == 0
        assert usage_total(by_key.values(), days=14).requests == 2
        assert api_key_usage_by_key(principal=Principal.platform_key(), days=14)[theirs.api_key.pk].requests == 3
        api_key_usage_flush()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_requests_are_all_counted(account: Account) -> None:
    # given one key and four workers that each count 25 requests on their own connection
    api_key = issue(account).api_key
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(25):
                api_key_usage_record(api_key=api_key, status_code=200)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    # when they run at once
    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then no request was lost
    assert errors == []
    assert today_row(api_key).requests == 100
