"""Failed credentials on the API are limited per client address: bad API keys, bad or revoked JWT
access tokens and a wrong legacy key all count; once an address has too many, everything it presents
answers 429 with `Retry-After` until the window ends. Other addresses, and successes, are untouched."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from accounts.models import Account, User
from accounts.principals import Principal
from accounts.services.api_keys import IssuedKey, api_key_create
from accounts.services.auth import auth_tokens_issue

ME_URL = "/api/v1/me"
ATTACKER = "198.51.100.66"
NEIGHBOUR = "198.51.100.67"
LEGACY_KEY = "legacy-platform-key-0123456789abcdef"


def call(ip: str, *, key: str | None = None, bearer: str | None = None) -> Any:
    client = APIClient()
    if key is not None:
        client.credentials(HTTP_X_API_KEY=key)
    if bearer is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {bearer}")
    return client.get(ME_URL, REMOTE_ADDR=ip)


def bad_key(n: int) -> str:
    return f"sk_live_{'Z' * 12}_{n:040d}"


def assert_limited(response: Any) -> int:
    assert response.status_code == 429, response.content
    retry_after = int(response["Retry-After"])
    assert 0 < retry_after <= 60
    body = response.json()
    assert body["code"] == "rate_limited"
    assert body["message"].startswith("Too many requests with invalid credentials from this address.")
    assert body["details"] == {"retry_after": retry_after}
    return retry_after


@pytest.fixture
def issued(account: Account) -> IssuedKey:
    return api_key_create(
        account=account, name="Zapier", scopes=["read"], expires_at=None, actor=Principal.platform_key()
    )


def test_a_flood_of_bad_api_keys_from_one_address_is_refused_with_429(issued: IssuedKey) -> None:
    # given the default limit
    assert django_settings.API_AUTH_FAILURE_LIMIT == "20/m"

    # when one address presents 60 made-up keys
    statuses = [call(ATTACKER, key=bad_key(n)).status_code for n in range(60)]

    # then the first 20 are refused as bad keys, every later one as too many
    assert statuses == [401] * 20 + [429] * 40
    assert_limited(call(ATTACKER, key=bad_key(99)))
    # and while the window lasts the address is refused even with a valid key (decided: no oracle)
    assert_limited(call(ATTACKER, key=issued.key))


def test_another_address_is_not_affected(issued: IssuedKey, settings: Any) -> None:
    # given one address has used up its failures
    settings.API_AUTH_FAILURE_LIMIT = "3/m"
    for n in range(3):
        call(ATTACKER, key=bad_key(n))
    assert_limited(call(ATTACKER, key=bad_key(3)))

    # when / then: a good key from another address works, and a bad one there is an ordinary 401
    assert call(NEIGHBOUR, key=issued.key).status_code == 200
    assert call(NEIGHBOUR, bearer=issued.key).status_code == 200
    assert call(NEIGHBOUR, key=bad_key(4)).status_code == 401


def test_only_failures_count(issued: IssuedKey, settings: Any) -> None:
    # given two failures under a limit of three
    settings.API_AUTH_FAILURE_LIMIT = "3/m"
    call(ATTACKER, key=bad_key(0))
    call(ATTACKER, key=bad_key(1))

    # when the same address then makes many good calls
    good = [call(ATTACKER, key=issued.key).status_code for _ in range(25)]

    # then none of them counted: the third failure is still a 401, the fourth attempt a 429
    assert good == [200] * 25
    assert call(ATTACKER, key=bad_key(2)).status_code == 401
    assert_limited(call(ATTACKER, key=bad_key(3)))


def test_bad_access_tokens_are_limited_alike(member: User, settings: Any) -> None:
    # given access tokens that are forged, expired or malformed
    settings.API_AUTH_FAILURE_LIMIT = "5/m"
    forged = jwt.encode(
        {"user_id": member.pk, "token_type": "access"}, "not-the-signing-key-of-this-installation", algorithm="HS256"
    )
    expired = jwt.encode(
        {"user_id": member.pk, "token_type": "access", "exp": 1, "jti": "x"},
        django_settings.SIMPLE_JWT["SIGNING_KEY"],
        algorithm="HS256",
    )
    tokens = [forged, "garbage", expired, forged + "x", "a.b.c"]

    # when
    statuses = [call(ATTACKER, bearer=token).status_code for token in tokens]

    # then
    assert statuses == [401] * 5
    assert_limited(call(ATTACKER, bearer=forged))
    # a valid token from that address waits too; from another address it works
    valid = auth_tokens_issue(user=member).access
    assert_limited(call(ATTACKER, bearer=valid))
    assert call(NEIGHBOUR, bearer=valid).status_code == 200


def test_bad_keys_and_bad_tokens_share_the_address_counter(member: User, settings: Any) -> None:
    # given
    settings.API_AUTH_FAILURE_LIMIT = "4/m"
    call(ATTACKER, key=bad_key(0))
    call(ATTACKER, bearer="garbage")
    call(ATTACKER, bearer=bad_key(1))
    call(ATTACKER, bearer="eyJhbGciOiJIUzI1NiJ9.e30.x")

    # when / then
    assert_limited(call(ATTACKER, key=bad_key(2)))


@pytest.mark.parametrize("send", ["key", "bearer"])
def test_wrong_legacy_keys_are_limited(settings: Any, send: str) -> None:
    # given the legacy platform key is configured
    settings.LEGACY_API_KEY = LEGACY_KEY
    settings.API_AUTH_FAILURE_LIMIT = "3/m"
    guesses = [LEGACY_KEY[:-1] + c for c in "XYZ"]

    # when
    statuses = [call(ATTACKER, **{send: guess}).status_code for guess in guesses]

    # then
    assert statuses == [401] * 3
    assert_limited(call(ATTACKER, **{send: LEGACY_KEY}))
    assert call(NEIGHBOUR, **{send: LEGACY_KEY}).status_code == 200


def test_the_wait_ends_with_the_window(issued: IssuedKey, settings: Any) -> None:
    # given an address refused under a one-second window
    settings.API_AUTH_FAILURE_LIMIT = "2/s"
    for n in range(10):  # a window may end between two failures: fail until refused
        response = call(ATTACKER, key=bad_key(n))
        if response.status_code == 429:
            break
    retry_after = int(response["Retry-After"])
    assert response.status_code == 429
    assert retry_after == 1

    # when the wait has passed
    time.sleep(retry_after)

    # then the address is let in again
    assert call(ATTACKER, key=issued.key).status_code == 200


def test_requests_without_credentials_are_not_counted(settings: Any, db: None) -> None:
    # given
    settings.API_AUTH_FAILURE_LIMIT = "2/m"

    # when an address calls without any key or token, more often than the limit
    statuses = [APIClient().get(ME_URL, REMOTE_ADDR=ATTACKER).status_code for _ in range(5)]

    # then each is the ordinary 401 "not authenticated"
    assert statuses == [401] * 5


def test_behind_a_proxy_each_client_is_counted_on_its_own_address(issued: IssuedKey, settings: Any) -> None:
    # given one trusted proxy in front of the app, and a low limit
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    settings.API_AUTH_FAILURE_LIMIT = "3/m"

    def via_proxy(client_address: str, key: str) -> Any:
        client = APIClient()
        client.credentials(HTTP_X_API_KEY=key)
        return client.get(ME_URL, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"203.0.113.1, {client_address}")

    # when one client behind the proxy fails too often
    for n in range(3):
        assert via_proxy(ATTACKER, bad_key(n)).status_code == 401

    # then it is refused, and another client behind the same proxy is not
    assert_limited(via_proxy(ATTACKER, issued.key))
    assert via_proxy(NEIGHBOUR, issued.key).status_code == 200


def test_without_proxies_a_forwarded_header_does_not_change_the_address(issued: IssuedKey, settings: Any) -> None:
    # given no proxies (the default), and an address that used up its failures
    settings.API_AUTH_FAILURE_LIMIT = "3/m"
    for n in range(3):
        call(ATTACKER, key=bad_key(n))

    # when it claims another address in X-Forwarded-For
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=issued.key)
    response = client.get(ME_URL, REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR=NEIGHBOUR)

    # then it is still refused
    assert_limited(response)
