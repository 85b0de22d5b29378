"""`/api/v1/users`: role matrix, tenant isolation, role-raise and last-admin rules, audit rows."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from accounts.models import AuditLog, IssuedRefreshToken, Role, User
from accounts.principals import Principal
from accounts.services.users import user_update
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from core.exceptions import Conflict

USERS = "/api/v1/users"
STRONG_PASSWORD = "plum-violet-orchard-42"


def detail(user: User) -> str:
    return f"{USERS}/{user.pk}"


def audit(action: str):
    return AuditLog.objects.filter(action=action)


# --- role matrix -----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["viewer", "member"])
def test_viewer_and_user_are_refused_on_every_users_endpoint(request, client_for, client_admin, who):
    # given a VIEWER or USER of the tenant
    person = request.getfixturevalue(who)
    client = client_for(person)
    payload = {"email": "new@acme.test", "password": STRONG_PASSWORD, "role": Role.VIEWER}

    # when they call each endpoint, then each answers 403 and nothing changes
    assert client.get(USERS).status_code == 403
    assert client.post(USERS, payload, format="json").status_code == 403
    assert client.get(detail(client_admin)).status_code == 403
    assert client.patch(detail(client_admin), {"full_name": "X"}, format="json").status_code == 403
    assert client.delete(detail(client_admin)).status_code == 403
    assert not User.objects.filter(email="new@acme.test").exists()
    client_admin.refresh_from_db()
    assert client_admin.full_name != "X"


def test_anonymous_caller_gets_401(api_client, client_admin):
    assert api_client.get(USERS).status_code == 401
    assert api_client.get(detail(client_admin)).status_code == 401


@pytest.mark.parametrize(("scopes", "expected"), [(["read"], 403), (["read", "write"], 403), (["admin"], 200)])
def test_api_keys_need_the_admin_scope(key_client_for, account, scopes, expected):
    # given a key of the tenant with some scopes
    client = key_client_for(account, scopes)

    # when it lists users, then only the admin scope (CLIENT_ADMIN) is enough
    assert client.get(USERS).status_code == expected


# --- list ------------------------------------------------------------------------------------------


def test_client_admin_lists_only_its_tenant(client_for, client_admin, member, viewer, other_admin, super_admin):
    # when the tenant's admin lists users
    response = client_for(client_admin).get(USERS)

    # then it sees its own tenant's people and nobody else
    assert response.status_code == 200
    emails = {row["email"] for row in response.json()["results"]}
    assert emails == {client_admin.email, member.email, viewer.email}
    row = next(r for r in response.json()["results"] if r["email"] == member.email)
    assert row["id"] == member.pk
    assert row["account"] == member.account_id
    assert row["role"] == Role.USER
    assert "password" not in row


def test_client_admin_cannot_widen_its_scope_with_the_account_filter(client_for, client_admin, other_admin):
    response = client_for(client_admin).get(USERS, {"account": other_admin.account_id})

    assert response.status_code == 200
    assert response.json()["results"] == []


def test_super_admin_lists_everyone_and_filters_by_account(client_for, super_admin, client_admin, member, other_admin):
    client = client_for(super_admin)

    everyone = {row["email"] for row in client.get(USERS).json()["results"]}
    assert everyone == {super_admin.email, client_admin.email, member.email, other_admin.email}

    globex = client.get(USERS, {"account": other_admin.account_id}).json()["results"]
    assert [row["email"] for row in globex] == [other_admin.email]


def test_list_filters_by_role_and_rejects_bad_filter_values(client_for, client_admin, member, viewer):
    client = client_for(client_admin)

    rows = client.get(USERS, {"role": Role.VIEWER}).json()["results"]
    assert [row["email"] for row in rows] == [viewer.email]
    assert client.get(USERS, {"role": "OWNER"}).status_code == 400
    assert client.get(USERS, {"account": "abc"}).status_code == 400


@pytest.mark.parametrize("value", ["99999999999999999999", "-9223372036854775809", "1e30", "1.5", "0"])
def test_account_filter_out_of_the_id_range_is_400_not_a_database_error(client_for, super_admin, value):
    # given platform staff listing users
    client = client_for(super_admin)

    # when the account filter is not a whole number the database can compare with an id
    response = client.get(USERS, {"account": value})

    # then it is a 400 naming the filter, in the API's error shape
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert set(body["details"]) == {"account"}


def test_list_query_count_does_not_grow_with_the_page(client_for, client_admin, account, django_assert_num_queries):
    # given a signed-in admin (client built first: signing in writes rows of its own)
    client = client_for(client_admin)
    UserFactory.create_batch(2, account=account)
    with django_assert_num_queries(2) as small:
        assert len(client.get(USERS).json()["results"]) == 3

    # when the tenant has many more people
    UserFactory.create_batch(20, account=account)
    with django_assert_num_queries(2) as large:
        response = client.get(USERS)

    # then the same number of queries answers a bigger page
    assert len(response.json()["results"]) == 23
    assert len(large.captured_queries) == len(small.captured_queries)


def test_list_is_paginated_with_a_cursor(client_for, client_admin, account):
    UserFactory.create_batch(4, account=account)
    client = client_for(client_admin)

    first = client.get(USERS, {"page_size": 3}).json()
    assert len(first["results"]) == 3
    assert first["next"]
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 2
    seen = [row["id"] for row in first["results"] + second["results"]]
    assert len(set(seen)) == 5


# --- create ----------------------------------------------------------------------------------------


def test_client_admin_creates_a_user_in_its_tenant(client_for, client_admin, account):
    # when the admin creates a person
    response = client_for(client_admin).post(
        USERS,
        {"email": "New.Person@Acme.test", "password": STRONG_PASSWORD, "role": Role.USER, "full_name": "New Person"},
        format="json",
    )

    # then the person exists in the admin's tenant, with a hashed password, and no secret is answered
    assert response.status_code == 201, response.json()
    body = response.json()
    user = User.objects.get(pk=body["id"])
    assert user.email == "new.person@acme.test"
    assert user.account == account
    assert user.role == Role.USER
    assert user.full_name == "New Person"
    assert user.check_password(STRONG_PASSWORD)
    assert STRONG_PASSWORD not in user.password
    assert "password" not in body
    assert user.password not in response.content.decode()
    # and an audit row records it
    row = audit("user.created").get()
    assert row.account == account
    assert row.actor_user == client_admin
    assert row.target_id == str(user.pk)
    assert row.metadata == {"email": user.email, "role": Role.USER}


def test_super_admin_creates_a_user_in_a_chosen_account(client_for, super_admin, other_account):
    response = client_for(super_admin).post(
        USERS,
        {
            "email": "ops@globex.test",
            "password": STRONG_PASSWORD,
            "role": Role.CLIENT_ADMIN,
            "account": other_account.pk,
        },
        format="json",
    )

    assert response.status_code == 201
    user = User.objects.get(email="ops@globex.test")
    assert user.account == other_account
    assert response.json()["account"] == other_account.pk
    assert audit("user.created").get().account == other_account


def test_super_admin_creates_another_super_admin_without_account(client_for, super_admin):
    response = client_for(super_admin).post(
        USERS, {"email": "staff2@skybot.test", "password": STRONG_PASSWORD, "role": Role.SUPER_ADMIN}, format="json"
    )

    assert response.status_code == 201
    user = User.objects.get(email="staff2@skybot.test")
    assert user.account is None
    assert user.is_staff


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"role": Role.USER}, "account"),  # a tenant role needs an account
        ({"role": Role.SUPER_ADMIN, "account": "ACCOUNT"}, "account"),  # a SUPER_ADMIN has none
        ({"role": Role.USER, "account": 999999}, "account"),  # unknown account
    ],
)
def test_super_admin_account_rules(client_for, super_admin, account, payload, field):
    if payload.get("account") == "ACCOUNT":
        payload = {**payload, "account": account.pk}
    count = User.objects.count()

    response = client_for(super_admin).post(
        USERS, {"email": "x@acme.test", "password": STRONG_PASSWORD, **payload}, format="json"
    )

    assert response.status_code == 400
    assert field in response.json()["details"]
    assert User.objects.count() == count
    assert not audit("user.created").exists()


def test_client_admin_may_not_name_an_account(client_for, client_admin, other_account):
    response = client_for(client_admin).post(
        USERS,
        {"email": "x@acme.test", "password": STRONG_PASSWORD, "role": Role.USER, "account": other_account.pk},
        format="json",
    )

    assert response.status_code == 400
    assert "account" in response.json()["details"]
    assert not User.objects.filter(email="x@acme.test").exists()


def test_client_admin_cannot_create_a_super_admin(client_for, client_admin):
    response = client_for(client_admin).post(
        USERS, {"email": "boss@acme.test", "password": STRONG_PASSWORD, "role": Role.SUPER_ADMIN}, format="json"
    )

    assert response.status_code == 403
    assert response.json()["code"] == "role_above_own"
    assert not User.objects.filter(email="boss@acme.test").exists()


def test_weak_password_is_refused_with_the_validators_messages(client_for, client_admin):
    response = client_for(client_admin).post(
        USERS, {"email": "weak@acme.test", "password": "12345", "role": Role.USER}, format="json"
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert any("too short" in message for message in body["details"]["password"])
    assert not User.objects.filter(email="weak@acme.test").exists()


def test_duplicate_email_is_refused_whatever_its_case(client_for, client_admin, member):
    response = client_for(client_admin).post(
        USERS, {"email": member.email.upper(), "password": STRONG_PASSWORD, "role": Role.USER}, format="json"
    )

    assert response.status_code == 400
    assert "email" in response.json()["details"]
    assert User.objects.filter(email__iexact=member.email).count() == 1


@pytest.mark.parametrize(
    "payload",
    [
        {"email": "not-an-email", "password": STRONG_PASSWORD, "role": Role.USER},
        {"email": "a@acme.test", "password": STRONG_PASSWORD, "role": "OWNER"},
        {"email": "a@acme.test", "role": Role.USER},
        {"email": "a@acme.test", "password": STRONG_PASSWORD, "role": Role.USER, "is_staff": True},
        {"email": ["a@acme.test"], "password": STRONG_PASSWORD, "role": Role.USER},
    ],
)
def test_bad_create_input_is_400_and_creates_nothing(client_for, client_admin, payload):
    count = User.objects.count()

    response = client_for(client_admin).post(USERS, payload, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert User.objects.count() == count


def test_malformed_json_is_400(client_for, client_admin):
    response = client_for(client_admin).post(USERS, "{not json", content_type="application/json")

    assert response.status_code == 400


# --- retrieve --------------------------------------------------------------------------------------


def test_client_admin_reads_a_user_of_its_tenant(client_for, client_admin, member):
    response = client_for(client_admin).get(detail(member))

    assert response.status_code == 200
    assert response.json()["email"] == member.email


def test_another_tenants_user_looks_missing_on_every_item_endpoint(client_for, client_admin, other_admin):
    # given the admin of Acme and the admin of Globex
    client = client_for(client_admin)
    url = detail(other_admin)

    # when Acme's admin touches Globex's admin by id, then it is "not found", like a missing id
    for response in (
        client.get(url),
        client.patch(url, {"full_name": "Hacked"}, format="json"),
        client.delete(url),
        client.get(f"{USERS}/999999"),
    ):
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    other_admin.refresh_from_db()
    assert other_admin.full_name != "Hacked"
    assert User.objects.filter(pk=other_admin.pk).exists()


def test_super_admin_reaches_any_tenants_user(client_for, super_admin, other_admin):
    assert client_for(super_admin).get(detail(other_admin)).status_code == 200


# --- update ----------------------------------------------------------------------------------------


def test_update_changes_fields_and_audits_names_and_role_change(client_for, client_admin, member):
    # when the admin renames and promotes a person
    response = client_for(client_admin).patch(
        detail(member), {"full_name": "Promoted", "role": Role.CLIENT_ADMIN}, format="json"
    )

    # then both fields change
    assert response.status_code == 200
    assert response.json()["role"] == Role.CLIENT_ADMIN
    member.refresh_from_db()
    assert (member.full_name, member.role) == ("Promoted", Role.CLIENT_ADMIN)
    # and the audit trail names the fields and, separately, the role change
    updated = audit("user.updated").get()
    assert sorted(updated.metadata["fields"]) == ["full_name", "role"]
    assert updated.target_id == str(member.pk)
    changed = audit("user.role_changed").get()
    assert changed.metadata == {"old_role": Role.USER, "new_role": Role.CLIENT_ADMIN}
    assert changed.account == member.account


def test_password_change_is_validated_hashed_and_never_audited(client_for, client_admin, member):
    client = client_for(client_admin)
    sessions = IssuedRefreshToken.objects.filter(user=member, revoked_at__isnull=True)
    client_for(member)  # the person is signed in somewhere
    assert sessions.exists()

    assert client.patch(detail(member), {"password": "short"}, format="json").status_code == 400
    member.refresh_from_db()
    assert member.check_password(DEFAULT_PASSWORD)

    response = client.patch(detail(member), {"password": STRONG_PASSWORD}, format="json")

    assert response.status_code == 200
    member.refresh_from_db()
    assert member.check_password(STRONG_PASSWORD)
    row = audit("user.updated").get()
    assert row.metadata == {"fields": ["password"]}
    assert STRONG_PASSWORD not in str(row.metadata)
    # and the person's refresh tokens stop working
    assert not sessions.exists()


def test_client_admin_cannot_promote_to_super_admin(client_for, client_admin, member):
    response = client_for(client_admin).patch(detail(member), {"role": Role.SUPER_ADMIN}, format="json")

    assert response.status_code == 403
    member.refresh_from_db()
    assert member.role == Role.USER
    assert not audit("user.role_changed").exists()


def test_admin_key_cannot_grant_a_role_above_client_admin(key_client_for, account, member):
    response = key_client_for(account, ["admin"]).patch(detail(member), {"role": Role.SUPER_ADMIN}, format="json")

    assert response.status_code == 403
    member.refresh_from_db()
    assert member.role == Role.USER


def test_super_admin_cannot_turn_a_tenant_user_into_platform_staff_by_patch(client_for, super_admin, member):
    response = client_for(super_admin).patch(detail(member), {"role": Role.SUPER_ADMIN}, format="json")

    assert response.status_code == 400
    member.refresh_from_db()
    assert member.role == Role.USER


@pytest.mark.parametrize(
    "payload",
    [{"role": "OWNER"}, {"is_active": "maybe"}, {"email": "new@acme.test"}, {"full_name": "x" * 201}],
)
def test_bad_update_input_is_400_and_changes_nothing(client_for, client_admin, member, payload):
    before = (member.email, member.role, member.is_active, member.full_name)

    response = client_for(client_admin).patch(detail(member), payload, format="json")

    assert response.status_code == 400
    member.refresh_from_db()
    assert (member.email, member.role, member.is_active, member.full_name) == before
    assert not audit("user.updated").exists()


def test_no_op_update_writes_no_audit_row(client_for, client_admin, member):
    response = client_for(client_admin).patch(detail(member), {"role": member.role}, format="json")

    assert response.status_code == 200
    assert not audit("user.updated").exists()


def test_deactivated_user_can_no_longer_call_the_api(client_for, client_admin, member):
    member_client = client_for(member)

    response = client_for(client_admin).patch(detail(member), {"is_active": False}, format="json")

    assert response.status_code == 200
    assert audit("user.updated").get().metadata == {"fields": ["is_active"]}
    assert member_client.get("/api/v1/audit-logs").status_code == 401


# --- last admin ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "payload"),
    [("patch", {"role": Role.USER}), ("patch", {"is_active": False}), ("delete", None)],
    ids=["demote", "deactivate", "delete"],
)
def test_last_client_admin_cannot_be_removed(client_for, client_admin, member, method, payload):
    # given the tenant's only active CLIENT_ADMIN (the other admin is inactive and does not count)
    UserFactory(account=client_admin.account, role=Role.CLIENT_ADMIN, is_active=False)
    client = client_for(client_admin)

    # when they demote, deactivate or delete themselves
    response = getattr(client, method)(detail(client_admin), payload, format="json")

    # then 409 and nothing changed
    assert response.status_code == 409
    assert response.json()["code"] == "last_admin"
    client_admin.refresh_from_db()
    assert client_admin.role == Role.CLIENT_ADMIN
    assert client_admin.is_active
    assert not AuditLog.objects.filter(action__startswith="user.").exists()


def test_last_client_admin_is_protected_from_platform_staff_too(client_for, super_admin, other_admin):
    response = client_for(super_admin).delete(detail(other_admin))

    assert response.status_code == 409
    assert User.objects.filter(pk=other_admin.pk).exists()


def test_an_admin_can_be_demoted_while_another_remains(client_for, client_admin, account):
    second = UserFactory(account=account, role=Role.CLIENT_ADMIN)

    response = client_for(client_admin).patch(detail(second), {"role": Role.VIEWER}, format="json")

    assert response.status_code == 200
    assert User.objects.get(email=second.email).role == Role.VIEWER
    # and now the remaining admin is the last one
    assert client_for(client_admin).delete(detail(client_admin)).status_code == 409


@pytest.mark.postgres  # row locks: SQLite serialises the writes instead
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_demotions_cannot_remove_both_admins(account):
    # given a tenant with exactly two admins
    first = UserFactory(account=account, role=Role.CLIENT_ADMIN)
    second = UserFactory(account=account, role=Role.CLIENT_ADMIN)
    first_locked, release_first = threading.Event(), threading.Event()
    outcomes: dict[str, object] = {}

    def demote_first() -> None:
        try:
            with transaction.atomic():
                user_update(user=first, role=Role.USER, actor=Principal.for_user(first))
                first_locked.set()
                release_first.wait(10)  # hold the locks while the second request starts
            outcomes["first"] = "ok"
        except Conflict as exc:
            outcomes["first"] = exc
        finally:
            connection.close()

    def demote_second() -> None:
        try:
            user_update(user=second, role=Role.USER, actor=Principal.for_user(second))
            outcomes["second"] = "ok"
        except Conflict as exc:
            outcomes["second"] = exc
        finally:
            connection.close()

    # when both demotions run at once, the second starting while the first is uncommitted
    one = threading.Thread(target=demote_first)
    one.start()
    assert first_locked.wait(10)
    two = threading.Thread(target=demote_second)
    two.start()
    time.sleep(0.5)  # the second now waits on the first's row locks
    release_first.set()
    one.join(10)
    two.join(10)

    # then exactly one succeeded and the tenant keeps an admin
    assert outcomes["first"] == "ok"
    assert isinstance(outcomes["second"], Conflict)
    assert User.objects.filter(account=account, role=Role.CLIENT_ADMIN, is_active=True).count() == 1


# --- delete ----------------------------------------------------------------------------------------


def test_client_admin_deletes_a_user(client_for, client_admin, member):
    member_id, member_email = member.pk, member.email

    response = client_for(client_admin).delete(detail(member))

    assert response.status_code == 204
    assert not User.objects.filter(pk=member_id).exists()
    row = audit("user.deleted").get()
    assert row.target_id == str(member_id)
    assert row.metadata == {"email": member_email, "role": Role.USER}
    assert row.account == client_admin.account


def test_deleting_a_user_keeps_the_audit_rows_they_wrote(client_for, client_admin, account):
    # given a second admin who acted (wrote audit rows)
    second = UserFactory(account=account, role=Role.CLIENT_ADMIN)
    client_for(second).post(
        USERS, {"email": "hire@acme.test", "password": STRONG_PASSWORD, "role": Role.USER}, format="json"
    )

    # when that admin is deleted
    assert client_for(client_admin).delete(detail(second)).status_code == 204

    # then their rows stay, with their email as label
    row = audit("user.created").get()
    assert row.actor_user is None
    assert row.actor_label == second.email


def test_last_super_admin_cannot_delete_or_deactivate_themselves(client_for, super_admin):
    client = client_for(super_admin)

    assert client.patch(detail(super_admin), {"is_active": False}, format="json").status_code == 409
    assert client.delete(detail(super_admin)).status_code == 409
    super_admin.refresh_from_db()
    assert super_admin.is_active
