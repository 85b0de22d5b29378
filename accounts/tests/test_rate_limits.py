"""The API rate limit per tenant and per plan (`accounts.throttling`): exact under parallel requests,
429 with Retry-After, the tenant's windows shared by its keys and people, plans' limits set by staff
in the admin and read without a query per request.

Per-caller windows, the counter itself and Redis being down: core/tests/test_throttling.py.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connections
from django.test import Client
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from accounts.models import Account, AuditLog, Plan, PlanRateLimit, User
from accounts.principals import Principal
from accounts.services.api_keys import api_key_create
from accounts.tests.factories import AccountFactory
from accounts.throttling import (
    PLAN_LIMITS_TTL_SECONDS,
    PlanRateThrottle,
    plan_rate_limits,
    plan_rate_limits_forget,
    rate_limit_tenant,
)
from accounts.web.audit_sentences import audit_sentence, resolve_targets

ME_URL = "/api/v1/me"
HIGH = {
    "burst": "10000/s",
    "sustained": "100000/m",
    "hourly": "1000000/h",
    "tenant_burst": "10000/s",
    "tenant_sustained": "100000/m",
    "tenant_hourly": "1000000/h",
}
ADD_URL = "/admin/accounts/planratelimit/add/"
LIMIT_FIELDS = {
    "caller_per_second": "",
    "caller_per_minute": "",
    "caller_per_hour": "",
    "tenant_per_second": "",
    "tenant_per_minute": "",
    "tenant_per_hour": "",
}


@pytest.fixture(autouse=True)
def _fresh_plan_limits() -> Iterator[None]:
    """Plans' limits are kept per process for 30 s; no test sees another's rows."""
    plan_rate_limits_forget()
    yield
    plan_rate_limits_forget()


@pytest.fixture
def rates(settings: Any) -> Callable[..., None]:
    def set_rates(**overrides: str) -> None:
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {**HIGH, **overrides}}

    return set_rates


@pytest.fixture
def staff_client(super_admin: User) -> Client:
    client = Client()
    client.force_login(super_admin)
    return client


def _key(account: Account) -> str:
    return api_key_create(
        account=account, name="Integration", scopes=["read"], expires_at=None, actor=Principal.platform_key()
    ).key


def _with_key(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=key)
    return client


def _statuses(client: APIClient, times: int) -> list[int]:
    return [client.get(ME_URL).status_code for _ in range(times)]


@pytest.mark.django_db(transaction=True)
def test_fifty_parallel_requests_against_a_limit_of_20_let_exactly_20_through(
    client_for: Callable[[User], APIClient], rates: Callable[..., None]
) -> None:
    # given: one person (whose requests write nothing, so SQLite serves them in parallel too),
    # 20 requests a day, and 50 requests sent at once from 50 threads
    rates(hourly="20/d")
    person = User.objects.create_user("parallel@acme.test", account=AccountFactory())
    clients = [client_for(person) for _ in range(50)]
    start = threading.Barrier(50)
    statuses: list[int] = []
    lock = threading.Lock()

    def call(client: APIClient) -> None:
        start.wait()
        try:
            status = client.get(ME_URL).status_code
        finally:
            connections.close_all()
        with lock:
            statuses.append(status)

    # when
    threads = [threading.Thread(target=call, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then
    assert sorted(statuses) == [200] * 20 + [429] * 30


@pytest.mark.django_db
def test_a_request_over_the_limit_answers_429_with_retry_after_and_the_json_body(
    account: Account, rates: Callable[..., None]
) -> None:
    # given
    rates(sustained="2/m")
    client = _with_key(_key(account))
    assert _statuses(client, 2) == [200, 200]

    # when
    response = client.get(ME_URL)

    # then: the wait until the minute ends, in the header and the body
    assert response.status_code == 429
    wait = int(response["Retry-After"])
    assert 1 <= wait <= 60
    unit = "second" if wait == 1 else "seconds"
    assert response.json() == {
        "code": "rate_limited",
        "message": f"Request was throttled. Expected available in {wait} {unit}.",
        "details": {"retry_after": wait},
    }


@pytest.mark.django_db
def test_the_tenant_window_is_shared_by_its_keys_and_people_but_not_by_another_tenant(
    account: Account,
    other_account: Account,
    client_admin: User,
    client_for: Callable[[User], APIClient],
    rates: Callable[..., None],
) -> None:
    # given: 4 requests an hour per tenant, far more per caller
    rates(tenant_hourly="4/h")
    first, second, person = _with_key(_key(account)), _with_key(_key(account)), client_for(client_admin)
    elsewhere = _with_key(_key(other_account))

    # when: two keys and a person of one tenant call
    served = _statuses(first, 2) + _statuses(second, 1) + _statuses(person, 1)

    # then: the tenant's fifth request is refused whoever makes it; another tenant is served
    assert served == [200, 200, 200, 200]
    assert _statuses(second, 1) == [429]
    assert _statuses(person, 1) == [429]
    assert _statuses(elsewhere, 3) == [200, 200, 200]


@pytest.mark.django_db
def test_the_legacy_platform_key_and_anonymous_callers_have_no_tenant_window(
    settings: Any, rates: Callable[..., None]
) -> None:
    # given: one request an hour per tenant
    rates(tenant_burst="1/h", tenant_sustained="1/h", tenant_hourly="1/h")
    settings.LEGACY_API_KEY = "legacy-platform-key-0123456789abcdef"
    platform = _with_key(settings.LEGACY_API_KEY)
    anonymous = APIClient()

    # when / then: neither counts in a tenant's window
    assert _statuses(platform, 3) == [200, 200, 200]
    assert [anonymous.get("/api/health").status_code for _ in range(3)] == [200, 200, 200]


@pytest.mark.django_db
def test_staff_acting_in_a_tenant_do_not_count_as_its_callers(account: Account, super_admin: User) -> None:
    key = api_key_create(account=account, name="k", scopes=["read"], expires_at=None, actor=Principal.platform_key())
    member = User.objects.create_user("someone@acme.test", account=account)

    assert rate_limit_tenant(Principal.for_staff_in(super_admin, account)) is None
    assert rate_limit_tenant(super_admin) is None
    assert rate_limit_tenant(Principal.platform_key()) is None
    assert rate_limit_tenant(None) is None
    assert rate_limit_tenant(Principal.for_api_key(key.api_key)) == account
    assert rate_limit_tenant(member) == account
    assert rate_limit_tenant(Principal.for_user(member)) == account


@pytest.mark.django_db
def test_staff_set_a_plans_limits_in_the_admin_and_they_apply_to_tenants_on_that_plan(
    staff_client: Client, rates: Callable[..., None]
) -> None:
    # given: a tenant on the Pro plan, one on Free, and the defaults (high) for both
    rates()
    pro, free = AccountFactory(plan=Plan.PRO), AccountFactory(plan=Plan.FREE)
    pro_key, pro_other_key, free_key = _with_key(_key(pro)), _with_key(_key(pro)), _with_key(_key(free))
    assert _statuses(pro_key, 1) == [200]  # the plans' limits are now loaded in this process

    # when: staff give Pro 2 requests an hour per tenant (the other fields left empty: defaults)
    response = staff_client.post(ADD_URL, {"plan": Plan.PRO, **LIMIT_FIELDS, "tenant_per_hour": "2"})

    # then: it applies at once in this process (the request before counts), to Pro tenants only,
    # and was audited
    assert response.status_code == 302, response.content.decode()[:2000]
    assert _statuses(pro_key, 2) == [200, 429]
    assert _statuses(pro_other_key, 1) == [429]
    assert _statuses(free_key, 4) == [200, 200, 200, 200]
    limits = PlanRateLimit.objects.get(plan=Plan.PRO)
    entry = AuditLog.objects.get(action="plan_rate_limit.created")
    assert (entry.target_type, entry.target_id, entry.account_id) == ("accounts.planratelimit", str(limits.pk), None)
    assert entry.metadata["via"] == "admin"
    sentence = audit_sentence(entry, resolve_targets([entry]))
    assert "set the API rate limits of the plan Pro" in sentence

    # when: staff raise it to 3
    response = staff_client.post(
        f"/admin/accounts/planratelimit/{limits.pk}/change/", {"plan": Plan.PRO, **LIMIT_FIELDS, "tenant_per_hour": "3"}
    )

    # then: one more request fits in the hour
    assert response.status_code == 302
    assert _statuses(pro_other_key, 2) == [200, 429]
    assert AuditLog.objects.filter(action="plan_rate_limit.updated").count() == 1
    listed = staff_client.get("/admin/accounts/planratelimit/")
    assert listed.status_code == 200
    assert "Rate limits of the Pro plan" in listed.content.decode()


@pytest.mark.django_db
def test_a_plans_caller_limits_apply_to_each_key_on_its_own(rates: Callable[..., None]) -> None:
    # given: Enterprise callers get one request an hour, tenants the default (high)
    rates()
    PlanRateLimit.objects.create(plan=Plan.ENTERPRISE, caller_per_hour=1)
    tenant = AccountFactory(plan=Plan.ENTERPRISE)
    first, second = _with_key(_key(tenant)), _with_key(_key(tenant))

    # when / then
    assert _statuses(first, 2) == [200, 429]
    assert _statuses(second, 2) == [200, 429]


@pytest.mark.django_db
def test_staff_cannot_save_a_limit_of_zero_or_a_second_row_for_a_plan(staff_client: Client) -> None:
    PlanRateLimit.objects.create(plan=Plan.STARTER)

    zero = staff_client.post(ADD_URL, {"plan": Plan.PRO, **LIMIT_FIELDS, "caller_per_minute": "0"})
    twice = staff_client.post(ADD_URL, {"plan": Plan.STARTER, **LIMIT_FIELDS})

    assert zero.status_code == twice.status_code == 200  # the form again, with its errors
    assert "Ensure this value is greater than or equal to 1." in zero.content.decode()
    assert "already exists" in twice.content.decode()
    assert list(PlanRateLimit.objects.values_list("plan", flat=True)) == [Plan.STARTER]


@pytest.mark.django_db
def test_a_change_saved_by_another_process_applies_within_30_seconds() -> None:
    # given: this process has read the plans' limits
    PlanRateLimit.objects.create(plan=Plan.PRO, tenant_per_minute=100)
    loaded_at = time.monotonic()
    assert plan_rate_limits(Plan.PRO, now=loaded_at) == {"tenant_per_minute": 100}

    # when: the row changes without this process hearing of it (another server's admin)
    PlanRateLimit.objects.filter(plan=Plan.PRO).update(tenant_per_minute=50, caller_per_second=5)

    # then: the old limits until the 30 seconds are over, the new ones after
    assert plan_rate_limits(Plan.PRO, now=loaded_at + PLAN_LIMITS_TTL_SECONDS - 1) == {"tenant_per_minute": 100}
    assert plan_rate_limits(Plan.PRO, now=loaded_at + PLAN_LIMITS_TTL_SECONDS) == {
        "tenant_per_minute": 50,
        "caller_per_second": 5,
    }
    assert plan_rate_limits(Plan.FREE) == {}


@pytest.mark.django_db
def test_the_throttle_costs_no_query_once_the_plans_limits_are_loaded(
    account: Account, django_assert_num_queries: Any, django_assert_max_num_queries: Any
) -> None:
    # given: a request of an API key, after the key and its tenant were loaded by authentication
    PlanRateLimit.objects.create(plan=account.plan, tenant_per_hour=1000)
    key = api_key_create(account=account, name="k", scopes=["read"], expires_at=None, actor=Principal.platform_key())
    request = Request(APIRequestFactory().get(ME_URL))
    request.user = Principal.for_api_key(key.api_key)  # type: ignore[assignment]  # as ApiKeyAuthentication sets it
    throttle = PlanRateThrottle()

    # when / then: one query for every plan's limits, then none for many requests
    with django_assert_num_queries(1):
        assert throttle.allow_request(request, None)
    with django_assert_max_num_queries(0):
        for _ in range(20):
            assert throttle.allow_request(request, None)
