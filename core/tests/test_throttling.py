"""DRF throttles: per API key, per person, per IP; 429 with Retry-After and the JSON error body; the
failure limits' settings.

The test settings raise every rate very high so ordinary tests never trip them; these tests set
low rates of their own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Account, User

HIGH = {"burst": "10000/s", "sustained": "100000/m", "hourly": "1000000/h"}


@pytest.fixture
def rates(settings: Any) -> Callable[..., None]:
    settings.ROOT_URLCONF = "core.tests.urls"

    def set_rates(**overrides: str) -> None:
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {**HIGH, **overrides}}

    return set_rates


def _assert_throttled(response: Any) -> None:
    assert response.status_code == 429, response.content
    retry_after = int(response["Retry-After"])
    assert retry_after > 0
    body = response.json()
    assert body["code"] == "rate_limited"
    assert set(body) == {"code", "message", "details"}
    assert body["details"] == {"retry_after": retry_after}


@pytest.mark.django_db
def test_an_api_key_is_throttled_on_its_own_counter(
    account: Account, key_client_for: Callable[..., APIClient], rates: Callable[..., None]
) -> None:
    # given: two keys of the same tenant and 2 requests a minute
    rates(sustained="2/m")
    first, second = key_client_for(account, ["read"]), key_client_for(account, ["read"])

    # when
    answers = [first.get("/api/test/whoami").status_code for _ in range(2)]
    throttled = first.get("/api/test/whoami")

    # then: the first key is throttled, the second is still served
    assert answers == [200, 200]
    _assert_throttled(throttled)
    assert second.get("/api/test/whoami").status_code == 200


@pytest.mark.django_db
def test_a_person_is_throttled_on_their_own_counter(
    client_admin: User, member: User, client_for: Callable[[User], APIClient], rates: Callable[..., None]
) -> None:
    # given
    rates(sustained="2/m")
    admin_client, member_client = client_for(client_admin), client_for(member)

    # when
    for _ in range(2):
        assert admin_client.get("/api/test/whoami").status_code == 200
    throttled = admin_client.get("/api/test/whoami")

    # then
    _assert_throttled(throttled)
    assert member_client.get("/api/test/whoami").status_code == 200


@pytest.mark.django_db
def test_a_person_and_their_tenants_key_have_separate_counters(
    account: Account,
    client_admin: User,
    client_for: Callable[[User], APIClient],
    key_client_for: Callable[..., APIClient],
    rates: Callable[..., None],
) -> None:
    rates(sustained="1/m")
    person, key = client_for(client_admin), key_client_for(account, ["read"])

    assert person.get("/api/test/whoami").status_code == 200
    _assert_throttled(person.get("/api/test/whoami"))
    assert key.get("/api/test/whoami").status_code == 200


@pytest.mark.django_db
def test_anonymous_callers_are_throttled_per_address_and_cannot_dodge_with_forwarded_headers(
    rates: Callable[..., None],
) -> None:
    # given
    rates(sustained="1/m")
    client = Client()

    def post(**extra: str) -> Any:
        return client.post("/api/test/echo", data={}, content_type="application/json", **extra)

    # when / then
    assert post(REMOTE_ADDR="192.0.2.10").status_code == 200
    _assert_throttled(post(REMOTE_ADDR="192.0.2.10", HTTP_X_FORWARDED_FOR="198.51.100.99"))
    assert post(REMOTE_ADDR="192.0.2.11").status_code == 200


@pytest.mark.parametrize("scope", ["burst", "sustained", "hourly"])
@pytest.mark.django_db
def test_each_window_is_enforced(
    scope: str, account: Account, key_client_for: Callable[..., APIClient], rates: Callable[..., None]
) -> None:
    # given: only this window is low (a per-hour limit keeps the test independent of timing)
    rates(**{scope: "2/h"})
    client = key_client_for(account, ["read"])

    # when
    statuses = [client.get("/api/test/whoami").status_code for _ in range(3)]

    # then
    assert statuses == [200, 200, 429]


SHOW_RATES = """
import django, json
django.setup()
from django.conf import settings
print(json.dumps(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]))
"""


def _run_settings(env_overrides: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("THROTTLE_")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "skybot_inbox.settings.base",
            "PYTHONPATH": str(django_settings.BASE_DIR),
            **env_overrides,
        }
    )
    return subprocess.run([sys.executable, "-c", SHOW_RATES], env=env, capture_output=True, text=True, timeout=60)


def test_default_rates_are_10_per_second_120_per_minute_1000_per_hour() -> None:
    result = _run_settings({})

    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == '{"burst": "10/s", "sustained": "120/m", "hourly": "1000/h"}'


def test_rates_come_from_the_environment() -> None:
    result = _run_settings({"THROTTLE_BURST": "5/s", "THROTTLE_SUSTAINED": "60/min", "THROTTLE_HOURLY": "500/hour"})

    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == '{"burst": "5/s", "sustained": "60/min", "hourly": "500/hour"}'


def test_a_malformed_rate_stops_start_up_naming_the_variable() -> None:
    result = _run_settings({"THROTTLE_SUSTAINED": "lots"})

    assert result.returncode != 0
    assert "THROTTLE_SUSTAINED must look like" in result.stderr


SHOW_FAILURE_LIMITS = """
import django, json
django.setup()
from django.conf import settings
names = ["LOGIN_FAILURE_LIMIT", "LOGIN_FAILURE_EMAIL_LIMIT", "LOGIN_FAILURE_ADDRESS_LIMIT", "API_AUTH_FAILURE_LIMIT"]
print(json.dumps([getattr(settings, name) for name in names]))
"""


def test_failure_limits_default_and_come_from_the_environment() -> None:
    def shown(overrides: dict[str, str]) -> str:
        env = {k: v for k, v in os.environ.items() if not k.endswith("_FAILURE_LIMIT")}
        env.update(
            {"DJANGO_SETTINGS_MODULE": "skybot_inbox.settings.base", "PYTHONPATH": str(django_settings.BASE_DIR)}
        )
        result = subprocess.run(
            [sys.executable, "-c", SHOW_FAILURE_LIMITS], env={**env, **overrides}, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr[-2000:]
        return result.stdout.strip().splitlines()[-1]

    assert shown({}) == '["10/15m", "50/15m", "20/15m", "20/m"]'
    assert shown({"LOGIN_FAILURE_EMAIL_LIMIT": "100/h", "API_AUTH_FAILURE_LIMIT": "50/5m"}) == (
        '["10/15m", "100/h", "20/15m", "50/5m"]'
    )


@pytest.mark.parametrize("name", ["LOGIN_FAILURE_EMAIL_LIMIT", "API_AUTH_FAILURE_LIMIT"])
def test_a_malformed_failure_limit_stops_start_up_naming_the_variable(name: str) -> None:
    result = _run_settings({name: "ten per minute"})

    assert result.returncode != 0
    assert f"{name} must look like 10/15m" in result.stderr
