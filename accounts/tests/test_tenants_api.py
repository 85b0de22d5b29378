"""`/api/v1/admin/accounts`: platform staff only; DELETE deactivates instead of destroying."""

from __future__ import annotations

import pytest

from accounts.models import Account, AuditLog, Plan, User
from accounts.tests.factories import AccountFactory

ACCOUNTS = "/api/v1/admin/accounts"


def detail(account: Account) -> str:
    return f"{ACCOUNTS}/{account.pk}"


def audit(action: str):
    return AuditLog.objects.filter(action=action)


# --- role matrix -----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["viewer", "member", "client_admin"])
def test_only_platform_staff_reach_tenant_admin(request, client_for, account, who):
    # given anyone below SUPER_ADMIN, including the tenant's own admin
    client = client_for(request.getfixturevalue(who))

    # when they call each endpoint, then 403 and nothing changes
    assert client.get(ACCOUNTS).status_code == 403
    assert client.post(ACCOUNTS, {"name": "New", "slug": "new"}, format="json").status_code == 403
    assert client.get(detail(account)).status_code == 403
    assert client.patch(detail(account), {"name": "Renamed"}, format="json").status_code == 403
    assert client.delete(detail(account)).status_code == 403
    account.refresh_from_db()
    assert (account.name, account.is_active) == ("Acme", True)
    assert not Account.objects.filter(slug="new").exists()


def test_admin_scoped_api_key_is_refused(key_client_for, account):
    client = key_client_for(account, ["read", "write", "admin"])

    assert client.get(ACCOUNTS).status_code == 403
    assert client.post(ACCOUNTS, {"name": "New", "slug": "new"}, format="json").status_code == 403


def test_anonymous_gets_401(api_client):
    assert api_client.get(ACCOUNTS).status_code == 401


# --- list / retrieve -------------------------------------------------------------------------------


def test_super_admin_lists_tenants_with_filters(client_for, super_admin, account, other_account):
    AccountFactory(name="Dormant", slug="dormant", is_active=False, plan=Plan.PRO)
    client = client_for(super_admin)

    slugs = {row["slug"] for row in client.get(ACCOUNTS).json()["results"]}
    assert slugs == {"acme", "globex", "dormant"}
    inactive = client.get(ACCOUNTS, {"is_active": "false"}).json()["results"]
    assert [row["slug"] for row in inactive] == ["dormant"]
    assert [r["slug"] for r in client.get(ACCOUNTS, {"q": "glob"}).json()["results"]] == ["globex"]
    assert client.get(ACCOUNTS, {"plan": "gold"}).status_code == 400


def test_list_query_count_is_flat(client_for, super_admin, django_assert_num_queries):
    client = client_for(super_admin)
    AccountFactory.create_batch(2)
    with django_assert_num_queries(2) as small:
        client.get(ACCOUNTS)
    AccountFactory.create_batch(20)
    with django_assert_num_queries(2) as large:
        response = client.get(ACCOUNTS)

    assert len(response.json()["results"]) == 22
    assert len(large.captured_queries) == len(small.captured_queries)


def test_retrieve_and_missing(client_for, super_admin, other_account):
    client = client_for(super_admin)

    response = client.get(detail(other_account))
    assert response.status_code == 200
    assert response.json()["slug"] == "globex"
    assert client.get(f"{ACCOUNTS}/999999").status_code == 404


# --- create ----------------------------------------------------------------------------------------


def test_super_admin_creates_a_tenant(client_for, super_admin):
    response = client_for(super_admin).post(
        ACCOUNTS, {"name": "Initech", "slug": "initech", "plan": Plan.STARTER}, format="json"
    )

    assert response.status_code == 201
    body = response.json()
    account = Account.objects.get(pk=body["id"])
    assert (account.name, account.slug, account.plan, account.is_active) == ("Initech", "initech", "starter", True)
    row = audit("account.created").get()
    assert row.account == account
    assert row.actor_user == super_admin
    assert row.target_id == str(account.pk)


def test_duplicate_slug_is_400(client_for, super_admin, account):
    response = client_for(super_admin).post(ACCOUNTS, {"name": "Acme 2", "slug": "ACME"}, format="json")

    assert response.status_code == 400
    assert "slug" in response.json()["details"]
    assert Account.objects.filter(slug__iexact="acme").count() == 1
    assert not audit("account.created").exists()


@pytest.mark.parametrize(
    "payload",
    [
        {"name": "No slug"},
        {"name": "Bad", "slug": "not a slug"},
        {"name": "Bad", "slug": "bad", "plan": "gold"},
        {"name": "Bad", "slug": "bad", "owner": "me"},
        {"name": "Bad", "slug": "bad", "is_active": "perhaps"},
    ],
)
def test_bad_create_input_is_400_and_creates_nothing(client_for, super_admin, payload):
    count = Account.objects.count()

    response = client_for(super_admin).post(ACCOUNTS, payload, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert Account.objects.count() == count


# --- update ----------------------------------------------------------------------------------------


def test_super_admin_updates_a_tenant(client_for, super_admin, account):
    response = client_for(super_admin).patch(detail(account), {"name": "Acme Corp", "plan": Plan.PRO}, format="json")

    assert response.status_code == 200
    account.refresh_from_db()
    assert (account.name, account.plan) == ("Acme Corp", Plan.PRO)
    assert audit("account.updated").get().metadata == {"fields": ["name", "plan"]}


def test_update_to_a_taken_slug_is_400_and_changes_nothing(client_for, super_admin, account, other_account):
    response = client_for(super_admin).patch(detail(account), {"name": "X", "slug": "globex"}, format="json")

    assert response.status_code == 400
    account.refresh_from_db()
    assert (account.name, account.slug) == ("Acme", "acme")
    assert not audit("account.updated").exists()


def test_update_missing_tenant_is_404(client_for, super_admin):
    assert client_for(super_admin).patch(f"{ACCOUNTS}/999999", {"name": "X"}, format="json").status_code == 404


# --- deactivate ------------------------------------------------------------------------------------


def test_delete_deactivates_and_locks_out_people_and_keys(client_for, key_client_for, super_admin, client_admin):
    # given a tenant whose admin and API key both work
    account = client_admin.account
    person = client_for(client_admin)
    key = key_client_for(account, ["admin"])
    assert person.get("/api/v1/users").status_code == 200
    assert key.get("/api/v1/users").status_code == 200

    # when platform staff delete the tenant
    response = client_for(super_admin).delete(detail(account))

    # then it is deactivated, not destroyed
    assert response.status_code == 204
    account.refresh_from_db()
    assert account.is_active is False
    assert User.objects.filter(pk=client_admin.pk).exists()
    assert audit("account.deactivated").get().target_id == str(account.pk)
    # and its people and keys no longer authenticate
    assert person.get("/api/v1/users").status_code == 401
    assert key.get("/api/v1/users").status_code == 401


def test_delete_missing_tenant_is_404(client_for, super_admin):
    assert client_for(super_admin).delete(f"{ACCOUNTS}/999999").status_code == 404
    assert not audit("account.deactivated").exists()
