"""Calling the API with an API key: both headers, every way a key can be bad, rotation grace,
`last_used_at` bookkeeping and the legacy platform key."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Account, ApiKey, User
from accounts.principals import Principal
from accounts.services.api_key_usage import api_key_usage_flush
from accounts.services.api_keys import (
    IssuedKey,
    api_key_authenticate,
    api_key_create,
    api_key_revoke,
    api_key_rotate,
)
from conftest import USING_REDIS

ME_URL = "/api/v1/me"
LEGACY_KEY = "legacy-platform-key-0123456789abcdef"


def issue(account: Account, scopes: list[str] | None = None, *, expires_at: Any = None) -> IssuedKey:
    return api_key_create(
        account=account, name="Zapier", scopes=scopes or ["read"], expires_at=expires_at, actor=Principal.platform_key()
    )


def call_with_header(key: str) -> Any:
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=key)
    return client.get(ME_URL)


def call_with_bearer(key: str) -> Any:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client.get(ME_URL)


@pytest.fixture
def issued(account: Account) -> IssuedKey:
    return issue(account)


# --- the two headers --------------------------------------------------------------------------------


@pytest.mark.parametrize("send", [call_with_header, call_with_bearer], ids=["x-api-key", "bearer"])
def test_a_valid_key_works_in_either_header(issued: IssuedKey, send: Any) -> None:
    # when
    response = send(issued.key)

    # then
    assert response.status_code == 200, response.content
    assert response.json()["type"] == "api_key"
    assert response.json()["id"] == issued.api_key.pk


# --- bad keys: all alike ----------------------------------------------------------------------------


@pytest.fixture
def bad_keys(account: Account, issued: IssuedKey) -> dict[str, str]:
    """One key for every way a key can fail, each a well-formed-looking `sk_live_` key but the last two."""
    expired = issue(account, expires_at=timezone.now() + timedelta(minutes=5))
    ApiKey.objects.filter(pk=expired.api_key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    revoked = issue(account)
    api_key_revoke(api_key=revoked.api_key, actor=Principal.platform_key())
    prefix, _, secret = issued.key.removeprefix("sk_live_").partition("_")
    return {
        "expired": expired.key,
        "revoked": revoked.key,
        "unknown-prefix": f"sk_live_{'Z' * 12}_{secret}",
        "wrong-secret": f"sk_live_{prefix}_{'a' * 40}",
        "truncated": issued.key[:-1],
        "malformed": "sk_live_not-a-key",
        "garbage": "hello",
    }


def test_expired_revoked_unknown_and_malformed_keys_answer_the_same_401(bad_keys: dict[str, str]) -> None:
    # when every bad key is presented in X-API-Key
    responses = {name: call_with_header(key) for name, key in bad_keys.items()}

    # then each is a 401 with one and the same body
    assert {name: response.status_code for name, response in responses.items()} == dict.fromkeys(bad_keys, 401)
    bodies = {response.content for response in responses.values()}
    assert len(bodies) == 1, bodies
    assert responses["expired"].json()["code"] == "invalid_api_key"


def test_bad_sk_live_keys_as_bearer_answer_the_same_401(bad_keys: dict[str, str]) -> None:
    # when the sk_live_ shaped bad keys are sent as Authorization: Bearer
    responses = [call_with_bearer(key) for name, key in bad_keys.items() if key.startswith("sk_live_")]

    # then they answer exactly as in X-API-Key
    assert {response.status_code for response in responses} == {401}
    assert {response.content for response in responses} == {call_with_header(bad_keys["garbage"]).content}


def test_a_key_of_a_disabled_tenant_is_refused_alike(account: Account, issued: IssuedKey) -> None:
    # given the tenant is disabled
    unknown = call_with_header(f"sk_live_{'Z' * 12}_{'a' * 40}")
    Account.objects.filter(pk=account.pk).update(is_active=False)

    # when
    response = call_with_header(issued.key)

    # then
    assert response.status_code == 401
    assert response.content == unknown.content


def test_a_key_with_a_future_expiry_works(account: Account) -> None:
    # given
    issued = issue(account, expires_at=timezone.now() + timedelta(hours=1))

    # when / then
    assert call_with_header(issued.key).status_code == 200


def test_revoked_key_stops_working(issued: IssuedKey) -> None:
    # given it works
    assert call_with_header(issued.key).status_code == 200

    # when
    api_key_revoke(api_key=issued.api_key, actor=Principal.platform_key())

    # then
    assert call_with_header(issued.key).status_code == 401
    assert call_with_bearer(issued.key).status_code == 401


# --- rotation grace ---------------------------------------------------------------------------------


def test_the_old_key_works_during_the_grace_period_and_not_after(issued: IssuedKey) -> None:
    # given a rotation with one hour of grace
    rotated = api_key_rotate(api_key=issued.api_key, grace_seconds=3600, actor=Principal.platform_key())

    # then both the old and the new key work
    assert call_with_header(issued.key).status_code == 200
    assert call_with_header(rotated.key).status_code == 200

    # when the grace period is over
    ApiKey.objects.filter(pk=issued.api_key.pk).update(previous_valid_until=timezone.now() - timedelta(seconds=1))

    # then only the new key works
    assert call_with_header(issued.key).status_code == 401
    assert call_with_header(rotated.key).status_code == 200


def test_rotating_without_grace_stops_the_old_key_at_once(issued: IssuedKey) -> None:
    # when
    rotated = api_key_rotate(api_key=issued.api_key, grace_seconds=0, actor=Principal.platform_key())

    # then
    assert call_with_header(issued.key).status_code == 401
    assert call_with_header(rotated.key).status_code == 200


def test_a_second_rotation_ends_the_first_grace(issued: IssuedKey) -> None:
    # given two rotations, both with grace
    first = api_key_rotate(api_key=issued.api_key, grace_seconds=3600, actor=Principal.platform_key())
    second = api_key_rotate(api_key=issued.api_key, grace_seconds=3600, actor=Principal.platform_key())

    # then the original secret is gone; the last two work
    assert call_with_header(issued.key).status_code == 401
    assert call_with_header(first.key).status_code == 200
    assert call_with_header(second.key).status_code == 200


def test_revoking_during_grace_stops_the_old_key_too(issued: IssuedKey) -> None:
    # given
    rotated = api_key_rotate(api_key=issued.api_key, grace_seconds=3600, actor=Principal.platform_key())

    # when
    api_key_revoke(api_key=issued.api_key, actor=Principal.platform_key())

    # then
    assert call_with_header(issued.key).status_code == 401
    assert call_with_header(rotated.key).status_code == 401


# --- last_used_at -----------------------------------------------------------------------------------


def test_last_used_at_is_written_on_first_use(issued: IssuedKey) -> None:
    # given a key never used
    assert issued.api_key.last_used_at is None
    before = timezone.now()

    # when
    assert call_with_header(issued.key).status_code == 200

    # then (with Redis, once the use is flushed to the database)
    api_key_usage_flush()
    last_used_at = ApiKey.objects.get(pk=issued.api_key.pk).last_used_at
    assert last_used_at is not None
    assert last_used_at >= before


@pytest.mark.skipif(USING_REDIS, reason="with Redis a request writes nothing (test_api_key_usage_flush)")
def test_last_used_at_is_not_rewritten_within_a_minute(issued: IssuedKey, django_assert_num_queries: Any) -> None:
    # given the key was just used (checking a key alone writes nothing)
    with django_assert_num_queries(1):
        assert api_key_authenticate(issued.key) is not None
    assert call_with_header(issued.key).status_code == 200
    stamped = ApiKey.objects.get(pk=issued.api_key.pk).last_used_at
    assert stamped is not None

    # when it is used again within the minute
    with django_assert_num_queries(2) as second:
        assert call_with_header(issued.key).status_code == 200

    # then only the day's count was written (no UPDATE of the key) and the time is unchanged
    assert not any(q["sql"].lstrip().upper().startswith("UPDATE") for q in second.captured_queries)
    assert ApiKey.objects.get(pk=issued.api_key.pk).last_used_at == stamped


def test_last_used_at_is_rewritten_after_a_minute(issued: IssuedKey) -> None:
    # given the key was last used two minutes ago
    two_minutes_ago = timezone.now() - timedelta(minutes=2)
    ApiKey.objects.filter(pk=issued.api_key.pk).update(last_used_at=two_minutes_ago)

    # when
    assert call_with_header(issued.key).status_code == 200

    # then (with Redis, once the use is flushed to the database)
    api_key_usage_flush()
    last_used_at = ApiKey.objects.get(pk=issued.api_key.pk).last_used_at
    assert last_used_at is not None
    assert last_used_at > two_minutes_ago + timedelta(minutes=1)


def test_failed_attempts_do_not_touch_last_used_at(issued: IssuedKey) -> None:
    # when a wrong secret is presented for the key's prefix
    prefix = issued.api_key.prefix
    assert call_with_header(f"sk_live_{prefix}_{'a' * 40}").status_code == 401

    # then
    assert ApiKey.objects.get(pk=issued.api_key.pk).last_used_at is None


# --- the legacy platform key ------------------------------------------------------------------------


@pytest.mark.parametrize("send", [call_with_header, call_with_bearer], ids=["x-api-key", "bearer"])
def test_the_legacy_key_works_when_set(settings: Any, send: Any) -> None:
    # given
    settings.LEGACY_API_KEY = LEGACY_KEY

    # when
    response = send(LEGACY_KEY)

    # then it acts as the platform, without a tenant
    assert response.status_code == 200
    assert response.json()["type"] == "api_key"
    assert response.json()["account"] is None
    assert response.json()["role"] == "SUPER_ADMIN"


def test_the_legacy_key_is_off_when_unset(settings: Any) -> None:
    # given API_KEY is not configured
    settings.LEGACY_API_KEY = ""

    # when / then: neither an empty key nor the old value gets in
    assert call_with_header(LEGACY_KEY).status_code == 401
    assert call_with_header("").status_code == 401
    assert call_with_bearer(LEGACY_KEY).status_code == 401


def test_a_near_miss_of_the_legacy_key_is_refused(settings: Any) -> None:
    # given
    settings.LEGACY_API_KEY = LEGACY_KEY

    # when / then
    assert call_with_header(LEGACY_KEY[:-1] + "X").status_code == 401
    assert call_with_header(LEGACY_KEY + "X").status_code == 401


def test_the_legacy_key_is_compared_in_constant_time(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a spy on Django's constant-time comparison, as the authenticator uses it
    from django.utils import crypto

    import accounts.authentication

    compared: list[tuple[str, str]] = []

    def spy(a: str, b: str) -> bool:
        compared.append((a, b))
        return crypto.constant_time_compare(a, b)

    monkeypatch.setattr(accounts.authentication, "constant_time_compare", spy)
    settings.LEGACY_API_KEY = LEGACY_KEY

    # when
    response = call_with_header("not-the-legacy-key")

    # then the presented value was checked against the legacy key with that comparison
    assert response.status_code == 401
    assert ("not-the-legacy-key", LEGACY_KEY) in compared


def test_the_legacy_key_can_manage_any_tenants_keys(settings: Any, account: Account) -> None:
    # given
    settings.LEGACY_API_KEY = LEGACY_KEY
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=LEGACY_KEY)

    # when
    response = client.post("/api/v1/api-keys", {"name": "ops", "scopes": ["admin"], "account": account.pk}, "json")

    # then
    assert response.status_code == 201, response.content
    assert ApiKey.objects.get(pk=response.json()["id"]).account == account


def test_a_person_jwt_still_works_beside_api_keys(client_admin: User, client_for: Any) -> None:
    # when a Bearer value that is not an API key is sent, it is read as a JWT
    response = client_for(client_admin).get(ME_URL)

    # then
    assert response.status_code == 200
    assert response.json()["type"] == "user"
