"""Fixtures shared by every app's tests: tenants, one person per role, and clients that sign in
through the real authentication paths (JWT access tokens and API keys)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.models import Account, Role, User
from accounts.principals import Principal
from accounts.services.api_keys import api_key_create
from accounts.services.auth import auth_tokens_issue
from accounts.tests.factories import AccountFactory, UserFactory
from accounts.throttling import plan_rate_limits_assume

USING_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
USING_REDIS = bool(settings.CACHES["default"]["BACKEND"].endswith("RedisCache"))


# End-to-end suites that start the platform, a browser or Node.js: `slow` (see `make test-fast`).
SLOW_SUITES = ("tests/browser/", "tests/packages/")


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    for item in items:
        if item.nodeid.startswith(SLOW_SUITES):
            item.add_marker(pytest.mark.slow)
        if "postgres" in item.keywords and not USING_POSTGRES:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)"))
        if "redis" in item.keywords and not USING_REDIS:
            item.add_marker(pytest.mark.skip(reason="needs Redis (set REDIS_URL)"))


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    """Throttle and login-limit counters live in the cache; every test starts from zero."""
    cache.clear()


@pytest.fixture(autouse=True)
def _no_plan_rate_limits() -> None:
    """The plans' rate limits are read once per process and kept 30 s: every test starts knowing
    the new database's (none), so query counts do not depend on what ran before or how long ago."""
    plan_rate_limits_assume({})


@pytest.fixture
def account(db: None) -> Account:
    return AccountFactory(name="Acme", slug="acme")


@pytest.fixture
def other_account(db: None) -> Account:
    return AccountFactory(name="Globex", slug="globex")


@pytest.fixture
def client_admin(account: Account) -> User:
    return UserFactory(account=account, role=Role.CLIENT_ADMIN, email="admin@acme.test")


@pytest.fixture
def member(account: Account) -> User:
    """A USER: works the inbox."""
    return UserFactory(account=account, role=Role.USER, email="user@acme.test")


@pytest.fixture
def viewer(account: Account) -> User:
    return UserFactory(account=account, role=Role.VIEWER, email="viewer@acme.test")


@pytest.fixture
def super_admin(db: None) -> User:
    return UserFactory(super_admin=True, email="staff@skybot.test")


@pytest.fixture
def other_admin(other_account: Account) -> User:
    return UserFactory(account=other_account, role=Role.CLIENT_ADMIN, email="admin@globex.test")


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def client_for() -> Callable[[User], APIClient]:
    """An API client that sends a real JWT access token for `user`."""

    def make(user: User) -> APIClient:
        client = APIClient()
        pair = auth_tokens_issue(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair.access}")
        return client

    return make


@pytest.fixture
def key_client_for() -> Callable[..., APIClient]:
    """An API client that sends a freshly created API key of `account` with `scopes`."""

    def make(account: Account, scopes: list[str] | None = None) -> APIClient:
        issued = api_key_create(
            account=account,
            name="test key",
            scopes=scopes or ["read", "write"],
            expires_at=None,
            actor=Principal.platform_key(),
        )
        client = APIClient()
        client.credentials(HTTP_X_API_KEY=issued.key)
        return client

    return make
