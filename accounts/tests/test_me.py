"""GET /api/v1/me: who the credential belongs to, for people and for API keys."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import Account, Role, User
from accounts.principals import Principal
from accounts.services.api_keys import api_key_create, api_key_revoke
from conftest import USING_REDIS

ME_URL = "/api/v1/me"


def key_for(account: Account, scopes: list[str]) -> Any:
    return api_key_create(
        account=account, name="Zapier", scopes=scopes, expires_at=None, actor=Principal.platform_key()
    )


def with_key(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=key)
    return client


@pytest.mark.parametrize("person", ["viewer", "member", "client_admin"])
def test_a_person_sees_themselves_and_their_account(
    request: pytest.FixtureRequest, client_for: Any, account: Account, person: str
) -> None:
    # given
    user: User = request.getfixturevalue(person)

    # when
    response = client_for(user).get(ME_URL)

    # then
    assert response.status_code == 200
    assert response.json() == {
        "type": "user",
        "account": {"id": account.pk, "name": "Acme", "slug": "acme"},
        "id": user.pk,
        "email": user.email,
        "full_name": user.full_name,
        "role": user.role,
    }


def test_platform_staff_have_no_account(super_admin: User, client_for: Any) -> None:
    # when
    body = client_for(super_admin).get(ME_URL).json()

    # then
    assert body["type"] == "user"
    assert body["account"] is None
    assert body["role"] == Role.SUPER_ADMIN


@pytest.mark.parametrize(
    ("scopes", "role"),
    [(["read"], Role.VIEWER), (["read", "write"], Role.USER), (["admin"], Role.CLIENT_ADMIN)],
)
def test_a_key_sees_itself_its_scopes_and_the_role_it_acts_with(account: Account, scopes: list[str], role: str) -> None:
    # given
    issued = key_for(account, scopes)

    # when
    response = with_key(issued.key).get(ME_URL)

    # then
    assert response.status_code == 200
    assert response.json() == {
        "type": "api_key",
        "account": {"id": account.pk, "name": "Acme", "slug": "acme"},
        "id": issued.api_key.pk,
        "name": "Zapier",
        "prefix": issued.api_key.prefix,
        "scopes": scopes,
        "role": role,
    }
    assert "key" not in response.json()
    assert issued.key not in response.content.decode()


def test_me_costs_few_queries_with_a_key(account: Account, django_assert_num_queries: Any) -> None:
    # given a key already used once (so last_used_at is fresh)
    client = with_key(key_for(account, ["read"]).key)
    client.get(ME_URL)

    # when / then: one lookup of the key with its account, and without Redis (where the usage is
    # counted until the flush) one upsert of the day's usage
    with django_assert_num_queries(1 if USING_REDIS else 2) as queries:
        assert client.get(ME_URL).status_code == 200
    if not USING_REDIS:
        assert "ON CONFLICT" in queries.captured_queries[-1]["sql"].upper()


def test_no_credential_is_401(api_client: APIClient, db: None) -> None:
    # when
    response = api_client.get(ME_URL)

    # then
    assert response.status_code == 401
    assert set(response.json()) == {"code", "message", "details"}


def test_a_revoked_key_is_401(account: Account) -> None:
    # given
    issued = key_for(account, ["read"])
    api_key_revoke(api_key=issued.api_key, actor=Principal.platform_key())

    # when / then
    assert with_key(issued.key).get(ME_URL).status_code == 401


def test_a_person_of_a_disabled_tenant_is_401(client_admin: User, client_for: Any, account: Account) -> None:
    # given a token issued while the tenant was active
    client = client_for(client_admin)
    Account.objects.filter(pk=account.pk).update(is_active=False)

    # when / then
    assert client.get(ME_URL).status_code == 401
