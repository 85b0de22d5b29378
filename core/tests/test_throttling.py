"""Rate limits: the atomic multi-window counter (`core.ratelimit`) with Redis and in process, what
happens when Redis does not answer; the API's per-caller counters (per API key, per person, per IP;
429 with Retry-After and the JSON error body); the rates' settings and the failure limits' settings.

The test settings raise every rate very high so ordinary tests never trip them; these tests set
low rates of their own. Per-tenant windows and plans: accounts/tests/test_rate_limits.py.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from prometheus_client import REGISTRY
from rest_framework.test import APIClient

from accounts.models import Account, User
from conftest import USING_REDIS
from core import ratelimit
from core.cache import redis_client
from core.ratelimit import Window, rate_limit_hit, rate_parse

HIGH = {
    "burst": "10000/s",
    "sustained": "100000/m",
    "hourly": "1000000/h",
    "tenant_burst": "10000/s",
    "tenant_sustained": "100000/m",
    "tenant_hourly": "1000000/h",
}
# An instant in the middle of an hour: 100 s into it, so its minute window has 20 s left.
NOW = 500_000 * 3600 + 100.0


@pytest.fixture
def rates(settings: Any) -> Callable[..., None]:
    settings.ROOT_URLCONF = "core.tests.urls"

    def set_rates(**overrides: str) -> None:
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {**HIGH, **overrides}}

    return set_rates


@pytest.fixture
def in_process(settings: Any) -> None:
    """The embedded default's cache (local memory), whichever mode the tests run in."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "ratelimit-tests"}
    }
    assert redis_client() is None


@pytest.fixture
def unreachable_redis(settings: Any) -> None:
    """A Redis cache on a port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.CACHES = {"default": {"BACKEND": "core.cache.RedisCache", "LOCATION": f"redis://127.0.0.1:{port}/0"}}
    ratelimit._warned_at = float("-inf")  # this process may already have warned within the minute


def _assert_throttled(response: Any) -> None:
    assert response.status_code == 429, response.content
    retry_after = int(response["Retry-After"])
    assert retry_after > 0
    body = response.json()
    assert body["code"] == "rate_limited"
    assert set(body) == {"code", "message", "details"}
    assert body["details"] == {"retry_after": retry_after}


def _hit_in_parallel(windows: list[Window], times: int) -> list[int | None]:
    start = threading.Barrier(times)
    answers: list[int | None] = []
    lock = threading.Lock()

    def hit() -> None:
        start.wait()
        answer = rate_limit_hit(windows)
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=hit) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(answers) == times
    return answers


# --- the counter ----------------------------------------------------------------------------------


def test_fifty_parallel_hits_against_a_limit_of_20_let_exactly_20_through() -> None:
    # given: Redis in the production mode, the in-process lock in the embedded one
    windows = [Window("parallel", limit=20, seconds=86400)]

    # when
    answers = _hit_in_parallel(windows, 50)

    # then
    assert answers.count(None) == 20
    assert all(isinstance(answer, int) and answer >= 1 for answer in answers if answer is not None)


def test_the_in_process_counter_is_exact_under_threads_too(in_process: None) -> None:
    answers = _hit_in_parallel([Window("parallel", limit=20, seconds=86400)], 50)

    assert answers.count(None) == 20


@pytest.mark.parametrize("mode", ["configured", "in_process"])
def test_a_refused_hit_counts_in_no_window(mode: str, request: pytest.FixtureRequest) -> None:
    # given: a tight window and a loose one, hit together
    if mode == "in_process":
        request.getfixturevalue("in_process")
    tight, loose = Window("tight", limit=2, seconds=3600), Window("loose", limit=4, seconds=3600)
    assert [rate_limit_hit([tight, loose], now=NOW) for _ in range(2)] == [None, None]

    # when: the tight window refuses three more
    refused = [rate_limit_hit([tight, loose], now=NOW) for _ in range(3)]

    # then: those did not count in the loose one, which still has two places
    assert all(answer is not None for answer in refused)
    assert [rate_limit_hit([loose], now=NOW) for _ in range(3)] == [None, None, 3500]


@pytest.mark.parametrize("mode", ["configured", "in_process"])
def test_retry_after_is_the_wait_until_the_latest_full_window_ends(mode: str, request: pytest.FixtureRequest) -> None:
    if mode == "in_process":
        request.getfixturevalue("in_process")
    minute, hour = Window("minute", limit=1, seconds=60), Window("hour", limit=1, seconds=3600)
    assert rate_limit_hit([minute, hour], now=NOW) is None

    # only the minute is full (20 s left of it)
    assert rate_limit_hit([minute], now=NOW) == 20
    # both are full: the hour's 3,500 s win
    assert rate_limit_hit([minute, hour], now=NOW) == 3500
    # a fraction of a second before the end still says 1
    assert rate_limit_hit([minute], now=NOW + 19.9) == 1
    # the next minute starts from zero; the hour is still full
    assert rate_limit_hit([minute], now=NOW + 20) is None
    assert rate_limit_hit([hour], now=NOW + 20) == 3480


def test_windows_of_other_names_count_apart() -> None:
    assert rate_limit_hit([Window("one", limit=1, seconds=60)], now=NOW) is None
    assert rate_limit_hit([Window("two", limit=1, seconds=60)], now=NOW) is None
    assert rate_limit_hit([Window("one", limit=1, seconds=60)], now=NOW) == 20


@pytest.mark.skipif(not USING_REDIS, reason="needs Redis (set REDIS_URL)")
def test_with_redis_the_counters_are_redis_keys_that_expire_after_their_window() -> None:
    # given
    client = redis_client()
    assert client is not None

    # when
    rate_limit_hit([Window("expiring", limit=5, seconds=60)])

    # then: one key, under the cache's prefix, living at most the rest of its minute and a second
    keys = client.keys("*ratelimit:expiring:60:*")
    assert len(keys) == 1
    assert keys[0].decode().startswith(f"{django_settings.CACHES['default']['KEY_PREFIX']}:ratelimit:")
    assert 1 <= client.ttl(keys[0]) <= 61


def test_when_redis_does_not_answer_requests_go_through_with_one_warning_a_minute(
    unreachable_redis: None, caplog: pytest.LogCaptureFixture
) -> None:
    # given
    caplog.set_level(logging.WARNING)
    before = REGISTRY.get_sample_value("skybot_rate_limit_unchecked_total") or 0.0
    window = Window("down", limit=1, seconds=3600)

    # when: more hits than the limit allows
    answers = [rate_limit_hit([window]) for _ in range(3)]

    # then: all let through, each counted as unchecked, one warning
    assert answers == [None, None, None]
    assert (REGISTRY.get_sample_value("skybot_rate_limit_unchecked_total") or 0.0) - before == 3
    warnings = [record for record in caplog.records if "rate_limit_unavailable" in str(record.msg)]
    assert len(warnings) == 1


@pytest.mark.django_db
def test_when_redis_does_not_answer_api_keys_and_anonymous_callers_are_served_without_limits(
    account: Account, key_client_for: Callable[..., APIClient], rates: Callable[..., None], unreachable_redis: None
) -> None:
    # given: one request an hour per caller, and no Redis
    rates(hourly="1/h")
    key = key_client_for(account, ["read"])
    anonymous, wrong_key = Client(), APIClient()
    wrong_key.credentials(HTTP_X_API_KEY="sk_live_unknown_0123456789abcdef")

    # when
    key_statuses = [key.get("/api/test/whoami").status_code for _ in range(2)]
    anonymous_statuses = [
        anonymous.post("/api/test/echo", data={}, content_type="application/json").status_code for _ in range(2)
    ]
    wrong_key_status = wrong_key.get("/api/test/whoami").status_code

    # then: served (neither the request limit nor the failed-credentials check refuses them), and a
    # wrong key still answers 401 though its failure cannot be counted
    assert key_statuses == [200, 200]
    assert anonymous_statuses == [200, 200]
    assert wrong_key_status == 401


# --- the API's per-caller windows -----------------------------------------------------------------


@pytest.mark.django_db
def test_an_api_key_is_throttled_on_its_own_counter(
    account: Account, key_client_for: Callable[..., APIClient], rates: Callable[..., None]
) -> None:
    # given: two keys of the same tenant and 2 requests an hour each
    rates(hourly="2/h")
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
    rates(hourly="2/h")
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
    rates(hourly="1/h")
    person, key = client_for(client_admin), key_client_for(account, ["read"])

    assert person.get("/api/test/whoami").status_code == 200
    _assert_throttled(person.get("/api/test/whoami"))
    assert key.get("/api/test/whoami").status_code == 200


@pytest.mark.django_db
def test_anonymous_callers_are_throttled_per_address_and_cannot_dodge_with_forwarded_headers(
    rates: Callable[..., None],
) -> None:
    # given
    rates(hourly="1/h")
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
    # given: only this window is low (a per-day limit keeps the test independent of timing)
    rates(**{scope: "2/d"})
    client = key_client_for(account, ["read"])

    # when
    statuses = [client.get("/api/test/whoami").status_code for _ in range(3)]

    # then
    assert statuses == [200, 200, 429]


# --- settings -------------------------------------------------------------------------------------

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


def _shown_rates(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip().splitlines()[-1]


def test_default_rates_are_10_a_second_120_a_minute_1000_an_hour_and_ten_times_that_per_tenant() -> None:
    assert _shown_rates(_run_settings({})) == (
        '{"burst": "10/s", "sustained": "120/m", "hourly": "1000/h", '
        '"tenant_burst": "100/s", "tenant_sustained": "1200/m", "tenant_hourly": "10000/h"}'
    )


def test_rates_come_from_the_environment_and_tenant_rates_follow_the_callers_unless_set() -> None:
    result = _run_settings(
        {
            "THROTTLE_BURST": "5/s",
            "THROTTLE_SUSTAINED": "60/min",
            "THROTTLE_HOURLY": "500/hour",
            "THROTTLE_TENANT_HOURLY": "2000/h",
        }
    )

    assert _shown_rates(result) == (
        '{"burst": "5/s", "sustained": "60/min", "hourly": "500/hour", '
        '"tenant_burst": "50/s", "tenant_sustained": "600/min", "tenant_hourly": "2000/h"}'
    )


@pytest.mark.parametrize("name", ["THROTTLE_SUSTAINED", "THROTTLE_TENANT_BURST"])
def test_a_malformed_rate_stops_start_up_naming_the_variable(name: str) -> None:
    result = _run_settings({name: "lots"})

    assert result.returncode != 0
    assert f"{name} must look like" in result.stderr


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


@pytest.mark.parametrize(
    ("rate", "parsed"),
    [("5/s", (5, 1)), ("120/m", (120, 60)), ("60/min", (60, 60)), ("10/15m", (10, 900)), ("1000/hour", (1000, 3600))],
)
def test_one_rate_syntax_serves_the_api_windows_and_the_failure_limits(rate: str, parsed: tuple[int, int]) -> None:
    assert rate_parse(rate) == parsed


@pytest.mark.parametrize("rate", ["lots", "10/w", "/m", "10/0.5m", "10/0m"])
def test_a_rate_it_cannot_read_is_a_configuration_error(rate: str) -> None:
    with pytest.raises(ImproperlyConfigured):
        rate_parse(rate)
