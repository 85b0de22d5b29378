"""`GET /api/v1/audit-logs`: tenant-scoped, filtered, cursor-paginated, read-only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditLog
from accounts.principals import Principal
from accounts.services.api_keys import api_key_create
from accounts.services.audit import RequestContext, audit_log_record

AUDIT = "/api/v1/audit-logs"


def entry(account, action="thing.done", *, actor=None, minutes_ago=0, **fields) -> AuditLog:
    return AuditLog.objects.create(
        account=account,
        actor_user=actor,
        actor_label=actor.email if actor else fields.pop("actor_label", ""),
        action=action,
        created_at=timezone.now() - timedelta(minutes=minutes_ago),
        **fields,
    )


def actions(response) -> list[str]:
    return [row["action"] for row in response.json()["results"]]


# --- role matrix -----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["viewer", "member"])
def test_viewer_and_user_are_refused(request, client_for, who):
    assert client_for(request.getfixturevalue(who)).get(AUDIT).status_code == 403


def test_anonymous_gets_401(api_client):
    assert api_client.get(AUDIT).status_code == 401


@pytest.mark.parametrize(("scopes", "expected"), [(["read", "write"], 403), (["admin"], 200)])
def test_api_keys_need_the_admin_scope(key_client_for, account, scopes, expected):
    assert key_client_for(account, scopes).get(AUDIT).status_code == expected


# --- scoping ---------------------------------------------------------------------------------------


def test_client_admin_sees_only_its_tenants_rows(client_for, client_admin, account, other_account):
    # given rows of two tenants and a platform row
    client = client_for(client_admin)
    entry(account, "acme.thing")
    entry(other_account, "globex.thing")
    entry(None, "platform.thing")

    # when the Acme admin reads the log, then only Acme rows appear
    response = client.get(AUDIT)
    assert response.status_code == 200
    assert set(actions(response)) == {"acme.thing", "auth.login"}
    # and naming another tenant does not widen the scope
    assert actions(client.get(AUDIT, {"account": other_account.pk})) == []


def test_super_admin_sees_every_row_and_filters_by_account(client_for, super_admin, account, other_account):
    client = client_for(super_admin)
    entry(account, "acme.thing")
    entry(other_account, "globex.thing")

    assert {"acme.thing", "globex.thing"} <= set(actions(client.get(AUDIT)))
    assert actions(client.get(AUDIT, {"account": other_account.pk})) == ["globex.thing"]


# --- fields, order, pagination ---------------------------------------------------------------------


def test_rows_carry_every_documented_field(client_for, client_admin, member):
    # given a real change made through the API
    client = client_for(client_admin)
    client.patch(
        f"/api/v1/users/{member.pk}",
        {"full_name": "Renamed"},
        format="json",
        HTTP_USER_AGENT="pytest-agent",
        HTTP_X_REQUEST_ID="req-12345678",
    )

    # when the admin reads it back
    row = client.get(AUDIT, {"action": "user.updated"}).json()["results"][0]

    # then it carries who, what, where from and when
    assert set(row) >= {
        "id",
        "action",
        "actor",
        "actor_type",
        "target_type",
        "target_id",
        "ip_address",
        "user_agent",
        "request_id",
        "metadata",
        "created_at",
    }
    assert row["actor"] == client_admin.email
    assert row["actor_type"] == "user"
    assert (row["target_type"], row["target_id"]) == ("accounts.user", str(member.pk))
    assert row["ip_address"] == "127.0.0.1"
    assert row["user_agent"] == "pytest-agent"
    assert row["request_id"] == "req-12345678"
    assert row["metadata"] == {"fields": ["full_name"]}


def test_actor_type_of_api_keys_and_system(client_for, client_admin, account):
    issued = api_key_create(
        account=account, name="zap", scopes=["read"], expires_at=None, actor=Principal.platform_key()
    )
    audit_log_record(action="by.key", actor=Principal.for_api_key(issued.api_key), account=account)
    audit_log_record(action="by.system", actor=None, account=account, context=RequestContext())

    rows = {row["action"]: row for row in client_for(client_admin).get(AUDIT).json()["results"]}

    assert (rows["by.key"]["actor_type"], rows["by.key"]["actor"]) == ("api_key", f"api_key:{issued.api_key.prefix}")
    assert rows["api_key.created"]["actor_type"] == "platform_key"
    assert rows["by.system"]["actor_type"] == "system"


def test_newest_first_with_a_working_cursor(client_for, client_admin, account):
    client = client_for(client_admin)
    for minutes_ago in (50, 40, 30, 20, 10):
        entry(account, f"step.{minutes_ago}", minutes_ago=minutes_ago)

    # (the sign-in row of `client_for` is newer than five minutes ago, so it stays out)
    first = client.get(AUDIT, {"page_size": 3, "created_before": (timezone.now() - timedelta(minutes=5)).isoformat()})
    assert first.status_code == 200, first.json()
    assert actions(first) == ["step.10", "step.20", "step.30"]
    second = client.get(first.json()["next"])
    assert actions(second) == ["step.40", "step.50"]
    assert second.json()["next"] is None


def test_list_query_count_is_flat(client_for, client_admin, account, member, django_assert_num_queries):
    client = client_for(client_admin)
    for _ in range(2):
        entry(account, actor=member)
    with django_assert_num_queries(2) as small:
        client.get(AUDIT)
    for _ in range(30):
        entry(account, actor=member)
    with django_assert_num_queries(2) as large:
        response = client.get(AUDIT)

    assert len(response.json()["results"]) == 33
    assert len(large.captured_queries) == len(small.captured_queries)


# --- filters ---------------------------------------------------------------------------------------


def test_filter_by_action(client_for, client_admin, account):
    entry(account, "user.created")
    entry(account, "user.deleted")

    assert actions(client_for(client_admin).get(AUDIT, {"action": "user.deleted"})) == ["user.deleted"]


def test_filter_by_actor_id_email_or_key_prefix(client_for, client_admin, member, account):
    client = client_for(client_admin)
    entry(account, "by.member", actor=member)
    entry(account, "by.key", actor_label="api_key:abcdefabcdef")
    entry(account, "by.nobody")

    assert actions(client.get(AUDIT, {"actor": member.pk})) == ["by.member"]
    assert actions(client.get(AUDIT, {"actor": member.email.upper()})) == ["by.member"]
    assert actions(client.get(AUDIT, {"actor": "abcdefabcdef"})) == ["by.key"]
    assert actions(client.get(AUDIT, {"actor": "api_key:abcdefabcdef"})) == ["by.key"]


@pytest.mark.parametrize("actor", ["99999999999999999999", "\u00b2"])
def test_actor_that_looks_numeric_but_is_no_user_id_matches_nothing(client_for, client_admin, member, account, actor):
    # given a row written by a person
    entry(account, "by.member", actor=member)

    # when the actor filter is a number beyond any id, or a non-ASCII digit such as "²"
    response = client_for(client_admin).get(AUDIT, {"actor": actor})

    # then it matches no row instead of failing in the database
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_filter_by_time_range(client_for, client_admin, account):
    client = client_for(client_admin)
    entry(account, "old", minutes_ago=120)
    entry(account, "middle", minutes_ago=60)
    entry(account, "new", minutes_ago=1)
    now = timezone.now()

    response = client.get(
        AUDIT,
        {
            "created_after": (now - timedelta(minutes=90)).isoformat(),
            "created_before": (now - timedelta(minutes=30)).isoformat(),
        },
    )

    assert actions(response) == ["middle"]


@pytest.mark.parametrize(
    "params",
    [
        {"created_after": "yesterday"},
        {"created_before": "2026-13-45"},
        {"account": "x"},
        {"account": "99999999999999999999"},
        {"account": "1e30"},
        # valid ISO 8601 whose UTC time falls outside years 1 to 9999
        {"created_after": "9999-12-31T23:59:59-23:59"},
        {"created_before": "0001-01-01T00:00:00+23:59"},
    ],
)
def test_bad_filter_values_are_400(client_for, client_admin, params):
    response = client_for(client_admin).get(AUDIT, params)

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"


# --- append-only -----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_no_api_path_writes_or_deletes_audit_rows(client_for, client_admin, account, method):
    client = client_for(client_admin)
    row = entry(account, "keep.me")
    before = AuditLog.objects.count()

    response = getattr(client, method)(AUDIT, {"action": "forged"}, format="json")

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert AuditLog.objects.count() == before
    assert AuditLog.objects.get(pk=row.pk).action == "keep.me"
