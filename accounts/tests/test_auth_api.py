"""JWT sign-in API: obtain, refresh (rotation and reuse detection), logout, the pinned algorithm and
the failed-login limit."""

from __future__ import annotations

import logging
from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from django.urls import path
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIClient

from accounts.apis.base import TenantApi
from accounts.models import AuditLog, IssuedRefreshToken, Role, User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from skybot_inbox.urls import urlpatterns as project_urlpatterns

TOKEN_URL = "/api/v1/auth/token"
REFRESH_URL = "/api/v1/auth/token/refresh"
LOGOUT_URL = "/api/v1/auth/logout"
WHOAMI_URL = "/test/whoami"
INVALID_CREDENTIALS_BODY = {"code": "invalid_credentials", "message": "Invalid email or password.", "details": {}}


class WhoAmIApi(TenantApi):
    """A minimal authenticated endpoint, so these tests do not depend on other APIs."""

    def get(self, request: Request) -> Response:
        return Response({"label": self.principal.label, "role": self.principal.role})


urlpatterns = [path("test/whoami", WhoAmIApi.as_view()), *project_urlpatterns]

pytestmark = pytest.mark.urls(__name__)


def obtain(client: APIClient, email: str, password: str, ip: str = "203.0.113.7"):
    return client.post(TOKEN_URL, {"email": email, "password": password}, format="json", REMOTE_ADDR=ip)


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


# --- obtain ---------------------------------------------------------------------------------------


def test_obtain_returns_a_working_token_pair_and_audits_the_sign_in(api_client, member):
    # when
    response = obtain(api_client, "User@Acme.test", DEFAULT_PASSWORD)

    # then
    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}
    me = bearer(response.json()["access"]).get(WHOAMI_URL)
    assert me.status_code == 200
    assert me.json() == {"label": "user@acme.test", "role": Role.USER}
    row = AuditLog.objects.get(action="auth.login")
    assert (row.actor_user, row.account, row.metadata) == (member, member.account, {"method": "jwt"})
    assert row.ip_address == "203.0.113.7"
    assert IssuedRefreshToken.objects.filter(user=member).count() == 1
    member.refresh_from_db()
    assert member.last_login is not None


def test_wrong_password_and_unknown_email_answer_the_same_401(api_client, member):
    # when
    wrong_password = obtain(api_client, member.email, "not-the-password")
    unknown_email = obtain(api_client, "nobody@acme.test", DEFAULT_PASSWORD)

    # then
    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.json() == unknown_email.json() == INVALID_CREDENTIALS_BODY
    assert not IssuedRefreshToken.objects.exists()
    failed = AuditLog.objects.filter(action="auth.login_failed").order_by("created_at")
    assert [row.metadata["email"] for row in failed] == [member.email, "nobody@acme.test"]
    assert failed[0].target_id == str(member.pk)
    assert failed[0].account == member.account
    assert not AuditLog.objects.filter(action="auth.login").exists()


def test_inactive_person_cannot_obtain_tokens(api_client, account):
    # given
    user = UserFactory(account=account, email="gone@acme.test", is_active=False)

    # when
    response = obtain(api_client, user.email, DEFAULT_PASSWORD)

    # then
    assert response.status_code == 401
    assert response.json() == INVALID_CREDENTIALS_BODY
    assert not IssuedRefreshToken.objects.exists()


def test_person_of_a_disabled_tenant_cannot_obtain_tokens(api_client, member, account):
    # given
    account.is_active = False
    account.save(update_fields=["is_active"])

    # when
    response = obtain(api_client, member.email, DEFAULT_PASSWORD)

    # then
    assert response.status_code == 401
    assert response.json() == INVALID_CREDENTIALS_BODY
    assert not IssuedRefreshToken.objects.exists()


def test_platform_staff_without_a_tenant_can_obtain_and_refresh(api_client, super_admin):
    # when
    pair = obtain(api_client, super_admin.email, DEFAULT_PASSWORD).json()
    refreshed = api_client.post(REFRESH_URL, {"refresh": pair["refresh"]}, format="json")

    # then
    assert refreshed.status_code == 200
    assert bearer(refreshed.json()["access"]).get(WHOAMI_URL).json()["role"] == Role.SUPER_ADMIN


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "user@acme.test"}, "password"),
        ({"email": "not-an-email", "password": "x"}, "email"),
        ({"email": "user@acme.test", "password": "x", "otp": "123"}, "otp"),
        ({"email": ["user@acme.test"], "password": "x"}, "email"),
    ],
)
def test_obtain_rejects_bad_input_with_400(api_client, member, body, field):
    # when
    response = api_client.post(TOKEN_URL, body, format="json")

    # then
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert field in response.json()["details"]
    assert not AuditLog.objects.exists()
    assert not IssuedRefreshToken.objects.exists()


@pytest.mark.parametrize("url", [TOKEN_URL, REFRESH_URL, LOGOUT_URL])
def test_malformed_json_is_a_400(api_client, url):
    # when
    response = api_client.post(url, data='{"email": ', content_type="application/json")

    # then
    assert response.status_code == 400
    assert set(response.json()) == {"code", "message", "details"}
    assert response.json()["code"] == "parse_error"


# --- refresh and logout ---------------------------------------------------------------------------


def test_refresh_rotates_the_refresh_token(api_client, member):
    # given
    first = obtain(api_client, member.email, DEFAULT_PASSWORD).json()

    # when
    response = api_client.post(REFRESH_URL, {"refresh": first["refresh"]}, format="json")

    # then
    assert response.status_code == 200
    second = response.json()
    assert set(second) == {"access", "refresh"}
    assert second["refresh"] != first["refresh"]
    assert bearer(second["access"]).get(WHOAMI_URL).status_code == 200
    rows = list(IssuedRefreshToken.objects.order_by("created_at", "id"))
    assert len(rows) == 2
    assert rows[0].family == rows[1].family
    assert rows[0].rotated_at is not None
    assert rows[1].rotated_at is None
    # the new token rotates in turn
    third = api_client.post(REFRESH_URL, {"refresh": second["refresh"]}, format="json")
    assert third.status_code == 200


def test_reusing_a_rotated_refresh_token_revokes_the_whole_family(api_client, member):
    # given: a sign-in refreshed once, and a second, unrelated sign-in
    first = obtain(api_client, member.email, DEFAULT_PASSWORD).json()
    second = api_client.post(REFRESH_URL, {"refresh": first["refresh"]}, format="json").json()
    other_sign_in = obtain(api_client, member.email, DEFAULT_PASSWORD).json()

    # when: the already-rotated token is presented again
    reused = api_client.post(REFRESH_URL, {"refresh": first["refresh"]}, format="json")

    # then: refused, and the newer token of that family is dead too
    assert reused.status_code == 401
    assert reused.json()["code"] == "token_not_valid"
    newer = api_client.post(REFRESH_URL, {"refresh": second["refresh"]}, format="json")
    assert newer.status_code == 401
    assert newer.json() == reused.json()
    family = IssuedRefreshToken.objects.get(
        jti=jwt.decode(first["refresh"], options={"verify_signature": False})["jti"]
    ).family
    assert not IssuedRefreshToken.objects.filter(family=family, revoked_at__isnull=True).exists()
    assert AuditLog.objects.filter(action="auth.refresh_reused", actor_user=member).count() == 1
    # the other sign-in is untouched
    assert api_client.post(REFRESH_URL, {"refresh": other_sign_in["refresh"]}, format="json").status_code == 200


def test_refresh_refuses_an_access_token_garbage_and_an_expired_token(api_client, member):
    # given
    pair = obtain(api_client, member.email, DEFAULT_PASSWORD).json()
    expired = jwt.encode(
        {
            **jwt.decode(pair["refresh"], options={"verify_signature": False}),
            "exp": int((timezone.now() - timedelta(minutes=1)).timestamp()),
        },
        settings.SIMPLE_JWT["SIGNING_KEY"],
        algorithm="HS256",
    )

    # when / then
    for token in (pair["access"], "not-a-jwt", expired):
        response = api_client.post(REFRESH_URL, {"refresh": token}, format="json")
        assert response.status_code == 401
        assert response.json()["code"] == "token_not_valid"


def test_refresh_is_refused_once_the_tenant_is_disabled(api_client, member, account):
    # given
    pair = obtain(api_client, member.email, DEFAULT_PASSWORD).json()
    account.is_active = False
    account.save(update_fields=["is_active"])

    # when
    response = api_client.post(REFRESH_URL, {"refresh": pair["refresh"]}, format="json")

    # then
    assert response.status_code == 401


def test_logout_revokes_the_refresh_token(api_client, member):
    # given
    first = obtain(api_client, member.email, DEFAULT_PASSWORD).json()
    second = api_client.post(REFRESH_URL, {"refresh": first["refresh"]}, format="json").json()

    # when
    response = api_client.post(LOGOUT_URL, {"refresh": second["refresh"]}, format="json")

    # then
    assert response.status_code == 204
    refreshed = api_client.post(REFRESH_URL, {"refresh": second["refresh"]}, format="json")
    assert refreshed.status_code == 401
    assert not IssuedRefreshToken.objects.filter(user=member, revoked_at__isnull=True).exists()
    assert AuditLog.objects.filter(action="auth.logout", actor_user=member).count() == 1


def test_logout_with_an_invalid_token_is_a_401_and_changes_nothing(api_client, member):
    # given
    pair = obtain(api_client, member.email, DEFAULT_PASSWORD).json()

    # when
    response = api_client.post(LOGOUT_URL, {"refresh": pair["access"]}, format="json")

    # then
    assert response.status_code == 401
    assert not IssuedRefreshToken.objects.filter(revoked_at__isnull=False).exists()
    assert not AuditLog.objects.filter(action="auth.logout").exists()


# --- pinned algorithm -----------------------------------------------------------------------------


def _claims_of(access: str) -> dict:
    return jwt.decode(access, options={"verify_signature": False})


def test_access_tokens_signed_another_way_are_refused(api_client, member):
    # given: a genuine token and the same claims signed with HS512 and with alg "none"
    access = obtain(api_client, member.email, DEFAULT_PASSWORD).json()["access"]
    claims = _claims_of(access)
    key = settings.SIMPLE_JWT["SIGNING_KEY"]
    same_key_hs512 = jwt.encode(claims, key, algorithm="HS512")
    unsigned = jwt.encode(claims, None, algorithm="none")
    same_alg_wrong_key = jwt.encode(claims, "x" * 64, algorithm="HS256")
    resigned_hs256 = jwt.encode(claims, key, algorithm="HS256")

    # then: only HS256 with our key is accepted
    assert bearer(resigned_hs256).get(WHOAMI_URL).status_code == 200
    for forged in (same_key_hs512, unsigned, same_alg_wrong_key):
        response = bearer(forged).get(WHOAMI_URL)
        assert response.status_code == 401
        assert set(response.json()) == {"code", "message", "details"}


def test_refresh_tokens_signed_another_way_are_refused(api_client, member):
    # given
    refresh = obtain(api_client, member.email, DEFAULT_PASSWORD).json()["refresh"]
    claims = _claims_of(refresh)

    # when / then
    for forged in (
        jwt.encode(claims, settings.SIMPLE_JWT["SIGNING_KEY"], algorithm="HS512"),
        jwt.encode(claims, None, algorithm="none"),
    ):
        assert api_client.post(REFRESH_URL, {"refresh": forged}, format="json").status_code == 401
    rows = IssuedRefreshToken.objects.all()
    assert [row.rotated_at for row in rows] == [None]


def test_access_token_of_a_disabled_tenant_is_refused(api_client, member, account):
    # given
    access = obtain(api_client, member.email, DEFAULT_PASSWORD).json()["access"]
    account.is_active = False
    account.save(update_fields=["is_active"])

    # when
    response = bearer(access).get(WHOAMI_URL)

    # then
    assert response.status_code == 401


# --- failed-login limit ---------------------------------------------------------------------------


def test_ten_failures_lock_that_email_from_that_address_with_429_and_retry_after(api_client, member):
    # given: a stranger fails ten times for someone's email from one address
    for _ in range(10):
        assert obtain(api_client, member.email, "wrong", ip="198.51.100.9").status_code == 401

    # when: the stranger tries again, even with the right password
    response = obtain(api_client, member.email, DEFAULT_PASSWORD, ip="198.51.100.9")

    # then
    assert response.status_code == 429
    assert response.json() == {
        "code": "rate_limited",
        "message": "Too many failed sign-in attempts. Try again later.",
        "details": {},
    }
    assert 0 < int(response["Retry-After"]) <= 15 * 60
    assert AuditLog.objects.filter(action="auth.login_failed", target_id=str(member.pk)).count() == 10
    assert not AuditLog.objects.filter(action="auth.login").exists()


def test_a_stranger_failing_for_an_email_does_not_lock_its_owner_out(api_client, member):
    # given: thirty failures for the person's email from the stranger's address
    for _ in range(30):
        obtain(api_client, member.email, "wrong", ip="198.51.100.9")

    # when: the person signs in from their own address
    response = obtain(api_client, member.email, DEFAULT_PASSWORD, ip="203.0.113.44")

    # then
    assert response.status_code == 200
    assert AuditLog.objects.filter(action="auth.login", target_id=str(member.pk)).count() == 1
    assert obtain(api_client, member.email, DEFAULT_PASSWORD, ip="198.51.100.9").status_code == 429


def test_guessing_one_email_from_many_addresses_is_bounded_by_the_email_ceiling(api_client, member):
    # given: fifty failures for one email, spread over twenty-five addresses (two each)
    for attempt in range(50):
        assert obtain(api_client, member.email, "wrong", ip=f"198.51.100.{attempt % 25 + 1}").status_code == 401

    # when: the right password from a fresh address
    response = obtain(api_client, member.email, DEFAULT_PASSWORD, ip="198.51.100.200")

    # then: the email is locked on every address until the window ends; other people are not
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 15 * 60
    other = UserFactory(account=member.account, email="other@acme.test")
    assert obtain(api_client, other.email, DEFAULT_PASSWORD, ip="198.51.100.201").status_code == 200


def test_spraying_many_emails_from_one_address_is_stopped(api_client, member):
    # given: twenty failures from one address, each for a different email
    for attempt in range(20):
        assert obtain(api_client, f"guess{attempt}@acme.test", "wrong", ip="192.0.2.9").status_code == 401

    # when
    same_ip = obtain(api_client, member.email, DEFAULT_PASSWORD, ip="192.0.2.9")
    other_ip = obtain(api_client, member.email, DEFAULT_PASSWORD, ip="192.0.2.10")

    # then
    assert same_ip.status_code == 429
    assert int(same_ip["Retry-After"]) > 0
    assert other_ip.status_code == 200
    failed = AuditLog.objects.filter(action="auth.login_failed")
    assert failed.count() == 20
    assert {row.ip_address for row in failed} == {"192.0.2.9"}


def test_nineteen_failures_from_one_address_over_many_emails_do_not_lock_it(api_client, member):
    # given
    for attempt in range(19):
        obtain(api_client, f"guess{attempt}@acme.test", "wrong", ip="192.0.2.9")

    # when / then
    assert obtain(api_client, member.email, DEFAULT_PASSWORD, ip="192.0.2.9").status_code == 200


def test_nine_failures_do_not_lock(api_client, member):
    # given
    for _ in range(9):
        obtain(api_client, member.email, "wrong")

    # when
    response = obtain(api_client, member.email, DEFAULT_PASSWORD)

    # then
    assert response.status_code == 200


def test_behind_a_proxy_sign_in_limits_and_audit_use_the_clients_address(api_client, member, settings):
    # given one trusted proxy in front of the app; a stranger behind it fails ten times
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}

    def via_proxy(client_address: str, password: str):
        return api_client.post(
            TOKEN_URL,
            {"email": member.email, "password": password},
            format="json",
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR=client_address,
        )

    for _ in range(10):
        assert via_proxy("198.51.100.9", "wrong").status_code == 401

    # when / then: the stranger is refused, the person behind the same proxy signs in
    assert via_proxy("198.51.100.9", DEFAULT_PASSWORD).status_code == 429
    assert via_proxy("203.0.113.44", DEFAULT_PASSWORD).status_code == 200
    assert {row.ip_address for row in AuditLog.objects.filter(action="auth.login_failed")} == {"198.51.100.9"}
    assert AuditLog.objects.get(action="auth.login").ip_address == "203.0.113.44"


def test_limits_follow_the_settings(api_client, member, settings):
    # given
    settings.LOGIN_FAILURE_LIMIT = "2/1m"
    settings.LOGIN_FAILURE_EMAIL_LIMIT = "3/1m"
    settings.LOGIN_FAILURE_ADDRESS_LIMIT = "4/1m"
    obtain(api_client, member.email, "wrong", ip="192.0.2.1")
    obtain(api_client, member.email, "wrong", ip="192.0.2.1")
    obtain(api_client, member.email, "wrong", ip="192.0.2.2")
    obtain(api_client, "someone@acme.test", "wrong", ip="192.0.2.2")
    obtain(api_client, "someone@acme.test", "wrong", ip="192.0.2.3")
    obtain(api_client, "else@acme.test", "wrong", ip="192.0.2.3")
    obtain(api_client, "more@acme.test", "wrong", ip="192.0.2.3")
    obtain(api_client, "most@acme.test", "wrong", ip="192.0.2.3")

    # when / then: the pair is full, then the email, then the address
    pair = obtain(api_client, member.email, DEFAULT_PASSWORD, ip="192.0.2.1")
    assert pair.status_code == 429
    assert 0 < int(pair["Retry-After"]) <= 60
    assert obtain(api_client, member.email, DEFAULT_PASSWORD, ip="192.0.2.4").status_code == 429
    assert obtain(api_client, "someone@acme.test", "wrong", ip="192.0.2.4").status_code == 401
    assert obtain(api_client, "nobody@acme.test", "wrong", ip="192.0.2.3").status_code == 429


# --- no secrets in logs ---------------------------------------------------------------------------


def test_sign_in_flows_never_log_passwords_or_tokens(api_client, member, caplog):
    # given
    caplog.set_level(logging.DEBUG)

    # when
    obtain(api_client, member.email, "wrong-Secret-Pa55")
    pair = obtain(api_client, member.email, DEFAULT_PASSWORD).json()
    rotated = api_client.post(REFRESH_URL, {"refresh": pair["refresh"]}, format="json").json()
    api_client.post(REFRESH_URL, {"refresh": pair["refresh"]}, format="json")  # reuse
    api_client.post(LOGOUT_URL, {"refresh": rotated["refresh"]}, format="json")
    bearer(pair["access"]).get(WHOAMI_URL)

    # then
    assert caplog.records, "the flows above should have logged something (the request lines)"
    logged = caplog.text + "".join(str(record.msg) for record in caplog.records)
    for secret in (
        "wrong-Secret-Pa55",
        DEFAULT_PASSWORD,
        pair["access"],
        pair["refresh"],
        rotated["access"],
        rotated["refresh"],
    ):
        assert secret not in logged


def test_user_created_with_mixed_case_email_signs_in_case_insensitively(api_client, account):
    # given
    User.objects.create_user(email="Mixed.Case@Acme.test", password=DEFAULT_PASSWORD, account=account)

    # when
    response = obtain(api_client, "MIXED.case@acme.TEST", DEFAULT_PASSWORD)

    # then
    assert response.status_code == 200


def test_logout_also_ends_the_access_tokens_of_that_sign_in(api_client, member, django_capture_on_commit_callbacks):
    # given a signed-in person whose access token works
    pair = api_client.post(
        "/api/v1/auth/token", {"email": member.email, "password": "correct-horse-battery-staple"}, format="json"
    ).json()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    assert api_client.get("/api/v1/me").status_code == 200

    # when they log out
    with django_capture_on_commit_callbacks(execute=True):
        assert api_client.post("/api/v1/auth/logout", {"refresh": pair["refresh"]}, format="json").status_code == 204

    # then the access token of that sign-in is refused too, not only the refresh token
    response = api_client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["code"] == "token_revoked"
