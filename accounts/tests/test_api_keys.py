"""Managing API keys: /api/v1/api-keys (list, create, detail, rotate, revoke)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Account, ApiKey, AuditLog, Role, User
from accounts.principals import Principal
from accounts.services.api_keys import IssuedKey, api_key_create, api_key_revoke, hash_secret, parse_key
from accounts.tests.factories import UserFactory
from core.exceptions import Forbidden

LIST_URL = "/api/v1/api-keys"

LISTED_FIELDS = {
    "id",
    "account",
    "name",
    "prefix",
    "scopes",
    "last_used_at",
    "expires_at",
    "is_active",
    "revoked_at",
    "created_at",
    "created_by",
}


def detail_url(pk: int) -> str:
    return f"/api/v1/api-keys/{pk}"


def rotate_url(pk: int) -> str:
    return f"/api/v1/api-keys/{pk}/rotate"


def issue(account: Account, scopes: list[str] | None = None, *, created_by: User | None = None, **kw: Any) -> IssuedKey:
    actor = Principal.for_user(created_by) if created_by else Principal.platform_key()
    return api_key_create(
        account=account, name=kw.pop("name", "Zapier"), scopes=scopes or ["read"], expires_at=None, actor=actor, **kw
    )


def key_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=key)
    return client


def secret_of(key: str) -> str:
    parsed = parse_key(key)
    assert parsed is not None
    return parsed[1]


@pytest.fixture
def admin_client(client_admin: User, client_for: Any) -> APIClient:
    return client_for(client_admin)


# --- create -----------------------------------------------------------------------------------------


def test_create_answers_the_full_key_once_and_stores_only_its_hash(admin_client: APIClient, client_admin: User) -> None:
    # given a tenant admin
    expires = timezone.now() + timedelta(days=30)

    # when they create a key
    response = admin_client.post(
        LIST_URL, {"name": "Zapier", "scopes": ["write", "read", "read"], "expires_at": expires.isoformat()}, "json"
    )

    # then the answer has the full key and the listed fields
    assert response.status_code == 201, response.content
    body = response.json()
    assert {"id", "name", "prefix", "scopes", "expires_at", "created_at", "key"} <= set(body)
    assert body["name"] == "Zapier"
    assert body["scopes"] == ["read", "write"]
    assert body["key"].startswith(f"sk_live_{body['prefix']}_")
    secret = secret_of(body["key"])
    # and the stored row holds neither the key nor the secret, only the secret's SHA-256
    row = ApiKey.objects.filter(pk=body["id"]).values().get()
    for column, value in row.items():
        assert secret not in str(value), column
        assert body["key"] not in str(value), column
    assert row["secret_hash"] == hash_secret(secret)
    assert row["account_id"] == client_admin.account_id
    assert row["created_by_id"] == client_admin.pk
    # and neither does the audit row
    audit = AuditLog.objects.filter(action="api_key.created").values().get()
    assert all(secret not in str(value) for value in audit.values())


def test_create_writes_an_audit_row_with_the_actor(admin_client: APIClient, client_admin: User) -> None:
    # when
    response = admin_client.post(LIST_URL, {"name": "n8n", "scopes": ["read"]}, "json", HTTP_USER_AGENT="pytest")

    # then
    audit = AuditLog.objects.get(action="api_key.created")
    assert audit.actor_user == client_admin
    assert audit.actor_label == client_admin.email
    assert audit.account_id == client_admin.account_id
    assert audit.target_id == str(response.json()["id"])
    assert audit.user_agent == "pytest"
    assert audit.metadata["prefix"] == response.json()["prefix"]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"name": "x", "scopes": ["read"], "colour": "red"}, id="unknown-field"),
        pytest.param({"name": "x", "scopes": "read"}, id="scopes-not-a-list"),
        pytest.param({"name": "x", "scopes": []}, id="scopes-empty"),
        pytest.param({"name": "x", "scopes": ["root"]}, id="scope-unknown"),
        pytest.param({"name": "x", "scopes": [1]}, id="scope-wrong-type"),
        pytest.param({"name": ["x"], "scopes": ["read"]}, id="name-wrong-type"),
        pytest.param({"scopes": ["read"]}, id="name-missing"),
        pytest.param({"name": "x" * 101, "scopes": ["read"]}, id="name-too-long"),
        pytest.param({"name": "x", "scopes": ["read"], "expires_at": "tomorrow"}, id="expiry-not-a-date"),
        pytest.param({"name": "x", "scopes": ["read"], "expires_at": "2001-01-01T00:00:00Z"}, id="expiry-in-the-past"),
        pytest.param({"name": "x", "scopes": ["read"], "account": 1}, id="account-from-a-tenant-admin"),
        pytest.param(["name", "scopes"], id="not-an-object"),
    ],
)
def test_create_refuses_bad_input_and_creates_nothing(admin_client: APIClient, body: Any) -> None:
    # when
    response = admin_client.post(LIST_URL, body, "json")

    # then
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "validation_error"
    assert not ApiKey.objects.exists()
    assert not AuditLog.objects.filter(action="api_key.created").exists()


def test_create_refuses_malformed_json(admin_client: APIClient) -> None:
    # when
    response = admin_client.post(LIST_URL, '{"name": "x", "scopes": [', content_type="application/json")

    # then
    assert response.status_code == 400
    assert set(response.json()) == {"code", "message", "details"}
    assert not ApiKey.objects.exists()


def test_super_admin_creates_a_key_for_the_account_it_names(
    super_admin: User, account: Account, client_for: Any
) -> None:
    # when
    response = client_for(super_admin).post(
        LIST_URL, {"name": "ops", "scopes": ["admin"], "account": account.pk}, "json"
    )

    # then
    assert response.status_code == 201, response.content
    api_key = ApiKey.objects.get(pk=response.json()["id"])
    assert api_key.account == account
    assert api_key.created_by == super_admin
    assert AuditLog.objects.get(action="api_key.created").account == account


@pytest.mark.parametrize(
    ("extra", "field"),
    [pytest.param({}, "account", id="account-missing"), pytest.param({"account": 999_999}, "account", id="unknown")],
)
def test_super_admin_must_name_an_existing_account(
    super_admin: User, client_for: Any, extra: dict[str, Any], field: str
) -> None:
    # when
    response = client_for(super_admin).post(LIST_URL, {"name": "ops", "scopes": ["read"], **extra}, "json")

    # then
    assert response.status_code == 400
    assert field in response.json()["details"]
    assert not ApiKey.objects.exists()


def test_a_caller_cannot_grant_a_scope_above_its_own_role(member: User, account: Account) -> None:
    # given a USER (write power) acting through the service
    actor = Principal.for_user(member)

    # when it grants admin, then it is refused and nothing is stored
    with pytest.raises(Forbidden):
        api_key_create(account=account, name="x", scopes=["read", "admin"], expires_at=None, actor=actor)
    assert not ApiKey.objects.exists()

    # while scopes up to its own role are fine
    issued = api_key_create(account=account, name="x", scopes=["read", "write"], expires_at=None, actor=actor)
    assert issued.api_key.scopes == ["read", "write"]


def test_a_tenant_cannot_create_a_key_for_another_tenant(client_admin: User, other_account: Account) -> None:
    # when / then
    with pytest.raises(Forbidden):
        api_key_create(
            account=other_account,
            name="x",
            scopes=["read"],
            expires_at=None,
            actor=Principal.for_user(client_admin),
        )
    assert not ApiKey.objects.exists()


# --- list and detail --------------------------------------------------------------------------------


def test_list_shows_the_tenants_keys_without_secrets(
    admin_client: APIClient, account: Account, other_account: Account, client_admin: User
) -> None:
    # given two keys here and one in another tenant
    mine = [issue(account, ["read"], created_by=client_admin), issue(account, ["admin"], name="ops")]
    issue(other_account)

    # when
    response = admin_client.get(LIST_URL)

    # then
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"results", "next", "previous"}
    assert {row["id"] for row in body["results"]} == {issued.api_key.pk for issued in mine}
    assert all(set(row) == LISTED_FIELDS for row in body["results"])
    by_id = {row["id"]: row for row in body["results"]}
    assert by_id[mine[0].api_key.pk]["created_by"] == client_admin.email
    assert by_id[mine[1].api_key.pk]["created_by"] is None
    for issued in mine:
        assert issued.key not in response.content.decode()
        assert secret_of(issued.key) not in response.content.decode()
        assert issued.api_key.secret_hash not in response.content.decode()


def test_list_filters_on_is_active(admin_client: APIClient, account: Account, client_admin: User) -> None:
    # given one active and one revoked key
    active = issue(account, name="active")
    revoked = issue(account, name="revoked")
    api_key_revoke(api_key=revoked.api_key, actor=Principal.for_user(client_admin))

    # when / then
    only_revoked = admin_client.get(LIST_URL, {"is_active": "false"}).json()["results"]
    assert [row["id"] for row in only_revoked] == [revoked.api_key.pk]
    assert only_revoked[0]["revoked_at"] is not None
    only_active = admin_client.get(LIST_URL, {"is_active": "true"}).json()["results"]
    assert [row["id"] for row in only_active] == [active.api_key.pk]


def test_list_pages_with_a_cursor(admin_client: APIClient, account: Account) -> None:
    # given
    keys = [issue(account, name=f"key {n}") for n in range(3)]

    # when
    first = admin_client.get(LIST_URL, {"page_size": 2}).json()
    second = admin_client.get(first["next"]).json()

    # then
    seen = [row["id"] for row in first["results"] + second["results"]]
    assert sorted(seen) == sorted(issued.api_key.pk for issued in keys)
    assert second["next"] is None


def test_list_query_count_does_not_grow_with_the_number_of_keys(
    admin_client: APIClient, account: Account, django_assert_num_queries: Any
) -> None:
    # given two keys by two people
    for _ in range(2):
        issue(account, created_by=UserFactory(account=account, role=Role.CLIENT_ADMIN))
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(LIST_URL).status_code == 200

    # when there are ten more, each by another person
    for _ in range(10):
        issue(account, created_by=UserFactory(account=account, role=Role.CLIENT_ADMIN))

    # then listing them costs the same queries
    with django_assert_num_queries(len(few.captured_queries)):
        response = admin_client.get(LIST_URL)
    assert len(response.json()["results"]) == 12


def test_super_admin_lists_every_tenants_keys(
    super_admin: User, account: Account, other_account: Account, client_for: Any
) -> None:
    # given
    keys = {issue(account).api_key.pk, issue(other_account).api_key.pk}

    # when
    response = client_for(super_admin).get(LIST_URL)

    # then
    assert {row["id"] for row in response.json()["results"]} == keys


def test_detail_shows_one_key_without_its_secret(admin_client: APIClient, account: Account) -> None:
    # given
    issued = issue(account, ["read", "write"])

    # when
    response = admin_client.get(detail_url(issued.api_key.pk))

    # then
    assert response.status_code == 200
    body = response.json()
    assert set(body) == LISTED_FIELDS
    assert body["prefix"] == issued.api_key.prefix
    assert body["scopes"] == ["read", "write"]
    assert secret_of(issued.key) not in response.content.decode()


# --- rotate -----------------------------------------------------------------------------------------


def test_rotate_answers_a_new_key_with_the_same_prefix(
    admin_client: APIClient, account: Account, client_admin: User
) -> None:
    # given
    issued = issue(account)

    # when
    response = admin_client.post(rotate_url(issued.api_key.pk), {"grace_seconds": 3600}, "json")

    # then
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["prefix"] == issued.api_key.prefix
    assert body["key"] != issued.key
    assert body["previous_valid_until"] is not None
    row = ApiKey.objects.filter(pk=issued.api_key.pk).values().get()
    assert row["secret_hash"] == hash_secret(secret_of(body["key"]))
    assert row["previous_secret_hash"] == hash_secret(secret_of(issued.key))
    for value in row.values():
        assert secret_of(body["key"]) not in str(value)
        assert secret_of(issued.key) not in str(value)
    # and the rotation is audited
    audit = AuditLog.objects.get(action="api_key.rotated")
    assert audit.actor_user == client_admin
    assert audit.target_id == str(issued.api_key.pk)
    assert audit.metadata["grace_seconds"] == 3600
    # and the new key is not shown again
    assert "key" not in admin_client.get(detail_url(issued.api_key.pk)).json()


def test_rotate_without_grace_stops_the_old_key_at_once(admin_client: APIClient, account: Account) -> None:
    # given
    issued = issue(account)

    # when the body is empty, grace_seconds defaults to 0
    response = admin_client.post(rotate_url(issued.api_key.pk))

    # then
    assert response.status_code == 200
    assert response.json()["previous_valid_until"] is None
    assert key_client(issued.key).get("/api/v1/me").status_code == 401
    assert key_client(response.json()["key"]).get("/api/v1/me").status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"grace_seconds": -1}, id="negative"),
        pytest.param({"grace_seconds": 7 * 24 * 3600 + 1}, id="over-7-days"),
        pytest.param({"grace_seconds": "soon"}, id="wrong-type"),
        pytest.param({"grace_seconds": 60, "scopes": ["admin"]}, id="unknown-field"),
    ],
)
def test_rotate_refuses_bad_input_and_keeps_the_secret(admin_client: APIClient, account: Account, body: Any) -> None:
    # given
    issued = issue(account)

    # when
    response = admin_client.post(rotate_url(issued.api_key.pk), body, "json")

    # then
    assert response.status_code == 400
    assert ApiKey.objects.get(pk=issued.api_key.pk).secret_hash == issued.api_key.secret_hash
    assert not AuditLog.objects.filter(action="api_key.rotated").exists()


def test_rotating_a_revoked_key_is_a_conflict(admin_client: APIClient, account: Account, client_admin: User) -> None:
    # given
    issued = issue(account)
    api_key_revoke(api_key=issued.api_key, actor=Principal.for_user(client_admin))

    # when
    response = admin_client.post(rotate_url(issued.api_key.pk), {"grace_seconds": 60}, "json")

    # then
    assert response.status_code == 409
    assert response.json()["code"] == "api_key_revoked"
    assert ApiKey.objects.get(pk=issued.api_key.pk).secret_hash == issued.api_key.secret_hash
    assert not AuditLog.objects.filter(action="api_key.rotated").exists()


# --- revoke -----------------------------------------------------------------------------------------


def test_revoke_stops_the_key_and_is_audited(admin_client: APIClient, account: Account, client_admin: User) -> None:
    # given a key that works
    issued = issue(account)
    assert key_client(issued.key).get("/api/v1/me").status_code == 200

    # when
    response = admin_client.delete(detail_url(issued.api_key.pk))

    # then
    assert response.status_code == 204
    api_key = ApiKey.objects.get(pk=issued.api_key.pk)
    assert api_key.is_active is False
    assert api_key.revoked_at is not None
    assert key_client(issued.key).get("/api/v1/me").status_code == 401
    audit = AuditLog.objects.get(action="api_key.revoked")
    assert audit.actor_user == client_admin
    assert audit.target_id == str(issued.api_key.pk)


def test_revoking_twice_changes_nothing_more(admin_client: APIClient, account: Account) -> None:
    # given a revoked key
    issued = issue(account)
    admin_client.delete(detail_url(issued.api_key.pk))
    revoked_at = ApiKey.objects.get(pk=issued.api_key.pk).revoked_at

    # when
    response = admin_client.delete(detail_url(issued.api_key.pk))

    # then
    assert response.status_code == 204
    assert ApiKey.objects.get(pk=issued.api_key.pk).revoked_at == revoked_at
    assert AuditLog.objects.filter(action="api_key.revoked").count() == 1


# --- who may do what --------------------------------------------------------------------------------


def _call(client: APIClient, operation: str, pk: int) -> Any:
    if operation == "list":
        return client.get(LIST_URL)
    if operation == "create":
        return client.post(LIST_URL, {"name": "x", "scopes": ["read"]}, "json")
    if operation == "detail":
        return client.get(detail_url(pk))
    if operation == "rotate":
        return client.post(rotate_url(pk), {"grace_seconds": 60}, "json")
    return client.delete(detail_url(pk))


OPERATIONS = ["list", "create", "detail", "rotate", "revoke"]


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("person", ["viewer", "member"])
def test_viewers_and_users_cannot_manage_keys(
    request: pytest.FixtureRequest, client_for: Any, account: Account, person: str, operation: str
) -> None:
    # given
    issued = issue(account)
    client = client_for(request.getfixturevalue(person))

    # when
    response = _call(client, operation, issued.api_key.pk)

    # then
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert ApiKey.objects.count() == 1
    assert ApiKey.objects.get().secret_hash == issued.api_key.secret_hash
    assert ApiKey.objects.get().is_active


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("scopes", [["read"], ["read", "write"]])
def test_keys_without_admin_scope_cannot_manage_keys(account: Account, scopes: list[str], operation: str) -> None:
    # given
    target = issue(account)
    caller = key_client(issue(account, scopes, name="caller").key)

    # when / then
    assert _call(caller, operation, target.api_key.pk).status_code == 403


@pytest.mark.parametrize(
    ("operation", "expected"),
    [("list", 200), ("create", 201), ("detail", 200), ("rotate", 200), ("revoke", 204)],
)
def test_client_admins_and_admin_keys_manage_keys(
    admin_client: APIClient, account: Account, operation: str, expected: int
) -> None:
    # given
    target = issue(account)
    admin_key = key_client(issue(account, ["admin"], name="admin key").key)

    # when / then
    assert _call(admin_client, operation, target.api_key.pk).status_code == expected
    if operation in {"rotate", "revoke"}:
        target = issue(account, name="second target")
    assert _call(admin_key, operation, target.api_key.pk).status_code == expected


def test_an_admin_key_is_recorded_as_the_actor(account: Account) -> None:
    # given
    admin = issue(account, ["admin"], name="admin key")

    # when
    response = key_client(admin.key).post(LIST_URL, {"name": "child", "scopes": ["read"]}, "json")

    # then
    assert response.status_code == 201
    audit = AuditLog.objects.get(action="api_key.created", target_id=str(response.json()["id"]))
    assert audit.actor_api_key_id == admin.api_key.pk
    assert audit.actor_user is None
    assert audit.actor_label == f"api_key:{admin.api_key.prefix}"


@pytest.mark.parametrize("operation", ["detail", "rotate", "revoke"])
def test_another_tenants_key_is_not_found(admin_client: APIClient, other_account: Account, operation: str) -> None:
    # given a key of another tenant
    theirs = issue(other_account)

    # when
    response = _call(admin_client, operation, theirs.api_key.pk)
    missing = _call(admin_client, operation, 999_999)

    # then it answers exactly as a missing key does, and nothing changed
    assert response.status_code == 404
    assert response.json() == missing.json()
    row = ApiKey.objects.get(pk=theirs.api_key.pk)
    assert row.is_active
    assert row.secret_hash == theirs.api_key.secret_hash
    assert not AuditLog.objects.filter(action__in=["api_key.rotated", "api_key.revoked"]).exists()


def test_unauthenticated_callers_get_401(api_client: APIClient, account: Account) -> None:
    # when / then
    assert api_client.get(LIST_URL).status_code == 401
    assert api_client.post(LIST_URL, {"name": "x", "scopes": ["read"]}, "json").status_code == 401
    assert not ApiKey.objects.exists()


def test_super_admin_manages_any_tenants_keys(super_admin: User, other_account: Account, client_for: Any) -> None:
    # given a key of some tenant and a platform staff member
    target = issue(other_account)
    client = client_for(super_admin)

    # when / then
    assert client.get(detail_url(target.api_key.pk)).status_code == 200
    rotated = client.post(rotate_url(target.api_key.pk), {"grace_seconds": 0}, "json")
    assert rotated.status_code == 200
    assert client.delete(detail_url(target.api_key.pk)).status_code == 204
    assert not ApiKey.objects.get(pk=target.api_key.pk).is_active
    audit = AuditLog.objects.get(action="api_key.revoked")
    assert audit.actor_user == super_admin
    assert audit.account == other_account
