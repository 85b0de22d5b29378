"""Django admin: staff reach every changelist; key hashes never reach a page; the audit log is
read-only; tenant admins (not staff) are kept out; signing in shares the failure limits and audit of
the API and the web form."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Account, ApiKey, AuditLog, Role, User
from accounts.principals import Principal
from accounts.services.api_keys import api_key_create
from accounts.services.audit import audit_log_record
from accounts.tests.factories import DEFAULT_PASSWORD


@pytest.fixture
def staff_client(super_admin) -> Client:
    client = Client()
    client.force_login(super_admin)
    return client


@pytest.fixture
def api_key(account) -> ApiKey:
    return api_key_create(
        account=account, name="Zapier", scopes=["read"], expires_at=None, actor=Principal.platform_key()
    ).api_key


@pytest.mark.parametrize("model", ["account", "user", "apikey", "auditlog"])
def test_staff_super_admin_opens_every_changelist(staff_client, client_admin, api_key, model):
    # given rows of every kind
    audit_log_record(action="thing.done", actor=client_admin, account=client_admin.account)

    # when staff open the changelist, then it renders
    response = staff_client.get(f"/admin/accounts/{model}/")
    assert response.status_code == 200


def test_changelists_search_and_filter(staff_client, client_admin, member):
    response = staff_client.get("/admin/accounts/user/", {"q": "user@acme", "role__exact": Role.USER})

    assert response.status_code == 200
    assert member.email in response.content.decode()
    assert client_admin.email not in response.content.decode()


def test_api_key_pages_never_show_the_hash_and_keys_cannot_be_added(staff_client, api_key):
    # when staff open the key
    page = staff_client.get(f"/admin/accounts/apikey/{api_key.pk}/change/")

    # then the page shows the key but not its hash, and the hash fields are not in the form
    assert page.status_code == 200
    html = page.content.decode()
    assert api_key.prefix in html
    assert api_key.secret_hash not in html
    assert "secret_hash" not in html
    assert "secret_hash" not in page.context["adminform"].form.fields
    # and keys are created only through the API (the secret is shown once there)
    assert staff_client.get("/admin/accounts/apikey/add/").status_code == 403


def test_audit_log_is_read_only_in_the_admin(staff_client, client_admin):
    row = audit_log_record(action="thing.done", actor=client_admin, account=client_admin.account)

    # the row can be viewed ...
    page = staff_client.get(f"/admin/accounts/auditlog/{row.pk}/change/")
    assert page.status_code == 200
    assert "thing.done" in page.content.decode()
    # ... but not changed, deleted or added
    assert staff_client.post(f"/admin/accounts/auditlog/{row.pk}/change/", {"action": "forged"}).status_code == 403
    assert staff_client.post(f"/admin/accounts/auditlog/{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert staff_client.get("/admin/accounts/auditlog/add/").status_code == 403
    assert AuditLog.objects.get(pk=row.pk).action == "thing.done"


def test_staff_add_a_user_with_email_and_password(staff_client, account):
    response = staff_client.post(
        "/admin/accounts/user/add/",
        {
            "email": "Hire@Acme.test",
            "full_name": "Hire",
            "account": account.pk,
            "role": Role.USER,
            "password1": "plum-violet-orchard-42",
            "password2": "plum-violet-orchard-42",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(email="hire@acme.test")
    assert user.check_password("plum-violet-orchard-42")
    assert user.account == account
    row = AuditLog.objects.get(action="user.created")
    assert row.metadata["via"] == "admin"
    assert "plum" not in str(row.metadata)


def test_staff_cannot_add_a_tenant_user_without_account(staff_client):
    response = staff_client.post(
        "/admin/accounts/user/add/",
        {"email": "loose@acme.test", "role": Role.USER, "password1": "plum-violet-42", "password2": "plum-violet-42"},
    )

    assert response.status_code == 200  # the form again, with an error
    assert not User.objects.filter(email="loose@acme.test").exists()


def test_accounts_are_deactivated_not_deleted_in_the_admin(staff_client, account):
    assert staff_client.get(f"/admin/accounts/account/{account.pk}/delete/").status_code == 403

    response = staff_client.post("/admin/accounts/account/", {"action": "deactivate", "_selected_action": [account.pk]})

    assert response.status_code == 302
    account.refresh_from_db()
    assert account.is_active is False
    assert AuditLog.objects.filter(action="account.deactivated", target_id=str(account.pk)).exists()
    assert Account.objects.filter(pk=account.pk).exists()


@pytest.mark.parametrize("who", ["client_admin", "member"])
def test_tenant_people_cannot_reach_the_admin(request, who):
    # given a tenant person (not staff) signed in to the web UI
    client = Client()
    client.force_login(request.getfixturevalue(who))

    # when they open the admin, then they are sent to the admin sign-in page
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
    assert client.get("/admin/accounts/user/").status_code == 302


# --- signing in to the admin ----------------------------------------------------------------------

ADMIN_LOGIN_URL = "/admin/login/"
TOKEN_URL = "/api/v1/auth/token"


def admin_sign_in(client: Client, email: str, password: str, ip: str = "203.0.113.60"):
    return client.post(ADMIN_LOGIN_URL, {"username": email, "password": password, "next": "/admin/"}, REMOTE_ADDR=ip)


def api_sign_in(email: str, password: str, ip: str = "203.0.113.60"):
    return APIClient().post(TOKEN_URL, {"email": email, "password": password}, format="json", REMOTE_ADDR=ip)


def test_staff_sign_in_to_the_admin_is_audited(super_admin):
    # given
    client = Client()

    # when
    response = admin_sign_in(client, super_admin.email, DEFAULT_PASSWORD)

    # then
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    signed_in = AuditLog.objects.get(action="auth.login")
    assert signed_in.target_id == str(super_admin.pk)
    assert signed_in.metadata == {"method": "admin"}
    assert signed_in.ip_address == "203.0.113.60"


def test_thirty_wrong_admin_passwords_are_limited_and_audited(super_admin):
    # given
    client = Client()

    # when: thirty wrong passwords from one address
    statuses = [admin_sign_in(client, super_admin.email, f"guess-{n}").status_code for n in range(30)]

    # then: the first ten are the form again, then every attempt is refused with 429 and a wait
    assert statuses[:10] == [200] * 10
    assert statuses[10:] == [429] * 20
    limited = admin_sign_in(client, super_admin.email, "guess-31")
    assert 0 < int(limited["Retry-After"]) <= 15 * 60
    assert "Too many failed sign-in attempts" in limited.content.decode()
    assert ADMIN_LOGIN_URL in limited.content.decode()  # the way back is the admin's sign-in
    failed = AuditLog.objects.filter(action="auth.login_failed", target_id=str(super_admin.pk))
    assert failed.count() == 10
    assert {row.ip_address for row in failed} == {"203.0.113.60"}
    assert "_auth_user_id" not in client.session


def test_the_right_password_of_a_locked_email_is_refused_on_the_admin(super_admin):
    # given: the email is locked from this address by failures on the API
    for n in range(10):
        assert api_sign_in(super_admin.email, f"guess-{n}").status_code == 401
    client = Client()

    # when
    response = admin_sign_in(client, super_admin.email, DEFAULT_PASSWORD)

    # then
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302
    assert not AuditLog.objects.filter(action="auth.login").exists()


def test_admin_failures_lock_the_api_and_the_web_form_too(super_admin):
    # given: ten wrong passwords on the admin
    for n in range(10):
        assert admin_sign_in(Client(), super_admin.email, f"guess-{n}").status_code == 200

    # when: the right password through the API and the web form, from the same address
    api = api_sign_in(super_admin.email, DEFAULT_PASSWORD)
    web = Client().post(
        "/accounts/login/", {"login": super_admin.email, "password": DEFAULT_PASSWORD}, REMOTE_ADDR="203.0.113.60"
    )

    # then
    assert api.status_code == 429
    assert api.json()["code"] == "rate_limited"
    assert web.status_code == 429


def test_a_tenant_admin_with_the_right_password_is_refused_like_a_wrong_one(client_admin):
    # when
    response = admin_sign_in(Client(), client_admin.email, DEFAULT_PASSWORD)

    # then
    assert response.status_code == 200
    assert "correct email and password for a staff account" in response.content.decode()
    assert not AuditLog.objects.filter(action="auth.login").exists()


def test_deactivated_staff_cannot_sign_in_to_the_admin(super_admin):
    # given
    super_admin.is_active = False
    super_admin.save(update_fields=["is_active"])

    # when
    response = admin_sign_in(Client(), super_admin.email, DEFAULT_PASSWORD)

    # then: the wrong-password answer, counted and audited
    assert response.status_code == 200
    assert AuditLog.objects.filter(action="auth.login_failed").count() == 1
