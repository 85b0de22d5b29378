"""Ending sign-ins: a new password (changed, reset or set by an admin), deactivation, a role change or a
disabled tenant end every other sign-in of the person at once. Their refresh token no longer
rotates, the access tokens they hold stop reading data, their other web sessions are signed out and
their open live feeds are closed."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import ApiKey, AuditLog, Role, User
from accounts.principals import Principal
from accounts.services.api_keys import api_key_create
from accounts.services.auth import auth_tokens_issue
from accounts.services.sessions import CLOSE_FORBIDDEN, CLOSE_SIGNED_OUT
from accounts.services.users import user_update
from accounts.tests.factories import DEFAULT_PASSWORD
from skybot_inbox.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)

NEW_PASSWORD = "lantern-quarry-mosaic-71"
REFRESH_URL = "/api/v1/auth/token/refresh"
ORIGIN = [(b"origin", b"http://testserver")]
RESET_LINK = re.compile(r"(https?://\S+/accounts/password/reset/key/\S+/)")


def signed_in_browser(user: User) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


# --- how sign-ins end -----------------------------------------------------------------------------


def api_admin_sets_password(person: User, people: dict[str, User]) -> None:
    client = bearer(auth_tokens_issue(user=people["admin"]).access)
    assert client.patch(f"/api/v1/users/{person.pk}", {"password": NEW_PASSWORD}, format="json").status_code == 200


def web_own_password_change(person: User, people: dict[str, User]) -> None:
    browser = signed_in_browser(person)
    response = browser.post(
        "/accounts/password/change/",
        {"oldpassword": DEFAULT_PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302, response.content.decode()


def emailed_password_reset(person: User, people: dict[str, User]) -> None:
    browser = Client()
    browser.post("/accounts/password/reset/", {"email": person.email})
    match = RESET_LINK.search(str(mail.outbox[-1].body))
    assert match is not None
    link = match.group(1)
    form_url = browser.get(link)["Location"]
    response = browser.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302, response.content.decode()


def django_admin_sets_password(person: User, people: dict[str, User]) -> None:
    staff = signed_in_browser(people["staff"])
    response = staff.post(
        f"/admin/accounts/user/{person.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content.decode()


def api_deactivation(person: User, people: dict[str, User]) -> None:
    client = bearer(auth_tokens_issue(user=people["admin"]).access)
    assert client.patch(f"/api/v1/users/{person.pk}", {"is_active": False}, format="json").status_code == 200


def web_settings_deactivation(person: User, people: dict[str, User]) -> None:
    assert signed_in_browser(people["admin"]).post(f"/settings/users/{person.pk}/deactivate/").status_code == 302


def django_admin_deactivation(person: User, people: dict[str, User]) -> None:
    staff = signed_in_browser(people["staff"])
    response = staff.post(
        f"/admin/accounts/user/{person.pk}/change/",
        {"email": person.email, "full_name": person.full_name, "account": person.account_id, "role": person.role},
    )
    assert response.status_code == 302, response.content.decode()


def web_settings_role_change(person: User, people: dict[str, User]) -> None:
    browser = signed_in_browser(people["admin"])
    assert browser.post(f"/settings/users/{person.pk}/role/", {"role": Role.VIEWER}).status_code == 302


def api_role_change(person: User, people: dict[str, User]) -> None:
    client = bearer(auth_tokens_issue(user=people["admin"]).access)
    assert client.patch(f"/api/v1/users/{person.pk}", {"role": Role.VIEWER}, format="json").status_code == 200


def api_deletion(person: User, people: dict[str, User]) -> None:
    client = bearer(auth_tokens_issue(user=people["admin"]).access)
    assert client.delete(f"/api/v1/users/{person.pk}").status_code == 204


def django_admin_deletion(person: User, people: dict[str, User]) -> None:
    staff = signed_in_browser(people["staff"])
    assert staff.post(f"/admin/accounts/user/{person.pk}/delete/", {"post": "yes"}).status_code == 302


def api_tenant_deactivation(person: User, people: dict[str, User]) -> None:
    client = bearer(auth_tokens_issue(user=people["staff"]).access)
    assert client.delete(f"/api/v1/admin/accounts/{person.account_id}").status_code == 204


def api_tenant_switched_off(person: User, people: dict[str, User]) -> None:
    client = bearer(auth_tokens_issue(user=people["staff"]).access)
    response = client.patch(f"/api/v1/admin/accounts/{person.account_id}", {"is_active": False}, format="json")
    assert response.status_code == 200


def django_admin_tenant_action(person: User, people: dict[str, User]) -> None:
    staff = signed_in_browser(people["staff"])
    response = staff.post(
        "/admin/accounts/account/", {"action": "deactivate", "_selected_action": [str(person.account_id)]}
    )
    assert response.status_code == 302


def django_admin_tenant_form(person: User, people: dict[str, User]) -> None:
    account = person.account
    assert account is not None
    staff = signed_in_browser(people["staff"])
    response = staff.post(
        f"/admin/accounts/account/{account.pk}/change/", {"name": account.name, "slug": account.slug, "plan": "free"}
    )
    assert response.status_code == 302, response.content.decode()


@dataclass(frozen=True)
class Ending:
    name: str
    perform: Callable[[User, dict[str, User]], None]
    close_code: int


ENDINGS = [
    Ending("admin sets the password (API)", api_admin_sets_password, CLOSE_SIGNED_OUT),
    Ending("own password change (web)", web_own_password_change, CLOSE_SIGNED_OUT),
    Ending("emailed password reset", emailed_password_reset, CLOSE_SIGNED_OUT),
    Ending("staff set the password (Django admin)", django_admin_sets_password, CLOSE_SIGNED_OUT),
    Ending("deactivated (API)", api_deactivation, CLOSE_SIGNED_OUT),
    Ending("deactivated (web settings)", web_settings_deactivation, CLOSE_SIGNED_OUT),
    Ending("deactivated (Django admin)", django_admin_deactivation, CLOSE_SIGNED_OUT),
    Ending("deleted (API)", api_deletion, CLOSE_SIGNED_OUT),
    Ending("deleted (Django admin)", django_admin_deletion, CLOSE_SIGNED_OUT),
    Ending("role changed (web settings)", web_settings_role_change, CLOSE_SIGNED_OUT),
    Ending("role changed (API)", api_role_change, CLOSE_SIGNED_OUT),
    Ending("tenant deactivated (API)", api_tenant_deactivation, CLOSE_FORBIDDEN),
    Ending("tenant switched off (API PATCH)", api_tenant_switched_off, CLOSE_FORBIDDEN),
    Ending("tenant deactivated (Django admin action)", django_admin_tenant_action, CLOSE_FORBIDDEN),
    Ending("tenant switched off (Django admin form)", django_admin_tenant_form, CLOSE_FORBIDDEN),
]


@pytest.fixture
def people(client_admin, super_admin) -> dict[str, User]:
    return {"admin": client_admin, "staff": super_admin}


@pytest.mark.parametrize("ending", ENDINGS, ids=lambda ending: ending.name)
def test_every_other_sign_in_of_the_person_ends(ending, member, people):
    # given the person signed in three ways: an API sign-in, a browser, and an open live feed
    pair = auth_tokens_issue(user=member)
    browser = signed_in_browser(member)
    assert bearer(pair.access).get("/api/v1/me").status_code == 200

    async def scenario() -> dict[str, Any]:
        feed = WebsocketCommunicator(application, f"/ws/inbox/?token={pair.access}", headers=ORIGIN)
        connected, _ = await feed.connect()
        assert connected
        assert (await feed.receive_json_from(timeout=5))["event"] == "ready"

        # when their access changes
        await sync_to_async(ending.perform)(member, people)

        frame = await feed.receive_output(timeout=5)
        if frame["type"] == "websocket.send":
            await feed.disconnect()
        return frame

    frame = async_to_sync(scenario)()

    # then the open feed was closed
    assert frame == {"type": "websocket.close", "code": ending.close_code}
    # and the refresh token no longer rotates
    assert APIClient().post(REFRESH_URL, {"refresh": pair.refresh}, format="json").status_code == 401
    # and the access token no longer reads data
    assert bearer(pair.access).get("/api/v1/me").status_code == 401
    # and the other browser is signed out
    response = browser.get("/inbox/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert SESSION_KEY not in browser.session


def test_the_browser_that_changed_its_own_password_stays_signed_in(member):
    # given the person signed in in two browsers
    here = signed_in_browser(member)
    elsewhere = signed_in_browser(member)

    # when they change their password in one of them
    response = here.post(
        "/accounts/password/change/",
        {"oldpassword": DEFAULT_PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302

    # then that one stays signed in and the other is signed out
    assert here.get("/inbox/").status_code == 200
    assert elsewhere.get("/inbox/").status_code == 302


def test_an_admin_changing_their_own_role_stays_signed_in_here(account, client_admin):
    # given two admins; one demotes themselves in the web settings
    User.objects.create_user("second.admin@acme.test", account=account, role=Role.CLIENT_ADMIN)
    browser = signed_in_browser(client_admin)

    # when
    assert browser.post(f"/settings/users/{client_admin.pk}/role/", {"role": Role.USER}).status_code == 302

    # then this browser is still signed in, now with the new role
    assert browser.get("/inbox/").status_code == 200
    assert browser.get("/settings/users/").status_code == 403


def test_a_new_sign_in_after_the_change_works(member, people):
    # given the person's sign-ins were ended by a new password
    api_admin_sets_password(member, people)

    # when they sign in again with it
    response = APIClient().post("/api/v1/auth/token", {"email": member.email, "password": NEW_PASSWORD}, format="json")

    # then the new tokens work, and rotate
    assert response.status_code == 200
    assert bearer(response.json()["access"]).get("/api/v1/me").status_code == 200
    rotated = APIClient().post(REFRESH_URL, {"refresh": response.json()["refresh"]}, format="json")
    assert rotated.status_code == 200


def test_ending_sign_ins_is_audited(member, client_admin):
    # when an admin deactivates a person
    user_update(user=member, is_active=False, actor=Principal.for_user(client_admin))

    # then the audit log says their sign-ins were ended, and why
    row = AuditLog.objects.get(action="auth.access_revoked", target_id=str(member.pk))
    assert row.actor_user == client_admin
    assert row.metadata["reason"] == "deactivated"


def test_a_tenant_is_signed_out_in_a_fixed_number_of_queries(account, super_admin, django_assert_num_queries):
    # given a tenant with many people, each with a sign-in
    for n in range(20):
        person = User.objects.create_user(f"person{n}@acme.test", account=account, role=Role.USER)
        auth_tokens_issue(user=person)
    staff = bearer(auth_tokens_issue(user=super_admin).access)

    # when staff deactivate it, the query count does not grow with its people
    with django_assert_num_queries(12):
        assert staff.delete(f"/api/v1/admin/accounts/{account.pk}").status_code == 204


# --- API keys outlive their creator ---------------------------------------------------------------


def test_an_api_key_keeps_working_after_its_creator_is_deactivated_and_the_audit_log_says_so(account, client_admin):
    # given a key made by a person who later leaves
    creator = User.objects.create_user("leaving@acme.test", account=account, role=Role.CLIENT_ADMIN)
    issued = api_key_create(
        account=account, name="CRM sync", scopes=["read"], expires_at=None, actor=Principal.for_user(creator)
    )

    # when another admin deactivates them
    user_update(user=creator, is_active=False, actor=Principal.for_user(client_admin))

    # then the key belongs to the tenant and keeps working
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=issued.key)
    assert client.get("/api/v1/conversations").status_code == 200
    # and the audit log notes on the key when its creator left, and who deactivated them
    key = ApiKey.objects.get(pk=issued.api_key.pk)
    row = AuditLog.objects.get(action="api_key.creator_deactivated")
    assert (row.target_type, row.target_id) == ("accounts.apikey", str(key.pk))
    assert row.actor_user == client_admin
    assert row.metadata["creator"] == "leaving@acme.test"
