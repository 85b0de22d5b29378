"""Web sign-in: the allauth password form (CSRF, shared failure limit), magic links, Google, and the
pages a person can reach on the way."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.internal.flows.email_authentication import wipe_password
from allauth.socialaccount.models import SocialAccount, SocialLogin
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.adapters import SocialAccountAdapter
from accounts.models import AuditLog, MagicLinkToken
from accounts.services.auth import magic_link_create
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from core.tests.html import assert_no_inline_code
from skybot_inbox.settings.auth import google_provider_settings

LOGIN_URL = "/accounts/login/"
MAGIC_URL = "/accounts/magic-link/"
GOOGLE_LOGIN_URL = "/accounts/google/login/"
GOOGLE_CLIENT_ID = "1234-test.apps.googleusercontent.com"
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
LINK_IN_MAIL = re.compile(r"(https?://\S+/accounts/magic-link/[^/\s]+/)")


def csrf_from(response) -> str:
    match = CSRF_INPUT.search(response.content.decode())
    assert match, "the page should carry a CSRF token"
    return match.group(1)


@pytest.fixture
def browser() -> Client:
    return Client(enforce_csrf_checks=True)


def password_sign_in(browser: Client, email: str, password: str, ip: str = "203.0.113.20"):
    page = browser.get(LOGIN_URL)
    return browser.post(
        LOGIN_URL, {"login": email, "password": password, "csrfmiddlewaretoken": csrf_from(page)}, REMOTE_ADDR=ip
    )


@pytest.fixture
def google_enabled(settings):
    settings.SOCIALACCOUNT_PROVIDERS = google_provider_settings(GOOGLE_CLIENT_ID, "test-google-secret")
    settings.GOOGLE_SIGN_IN_ENABLED = True


# --- password form --------------------------------------------------------------------------------


def test_login_page_uses_our_layout_without_inline_code(browser, db):
    # when
    response = browser.get(LOGIN_URL)

    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="container auth card"' in html
    assert 'name="login"' in html
    assert 'name="password"' in html
    assert f'href="{MAGIC_URL}"' in html
    assert "Sign in with Google" not in html
    assert_no_inline_code(response)
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_password_sign_in_needs_the_csrf_token(browser, member):
    # when
    response = browser.post(LOGIN_URL, {"login": member.email, "password": DEFAULT_PASSWORD})

    # then
    assert response.status_code == 403
    assert "_auth_user_id" not in browser.session
    assert not AuditLog.objects.exists()


def test_password_sign_in_creates_a_session_and_is_audited(browser, member):
    # when
    response = password_sign_in(browser, member.email, DEFAULT_PASSWORD)

    # then
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert browser.session["_auth_user_id"] == str(member.pk)
    row = AuditLog.objects.get(action="auth.login")
    assert (row.actor_user, row.metadata, row.ip_address) == (member, {"method": "session"}, "203.0.113.20")
    home = browser.get("/", follow=True)
    assert home.redirect_chain == [("/inbox/", 302)]
    assert member.email in home.content.decode()


def test_wrong_password_shows_the_form_again_and_is_audited(browser, member):
    # when
    response = password_sign_in(browser, member.email, "wrong")

    # then
    assert response.status_code == 200
    assert "not correct" in response.content.decode()
    assert "_auth_user_id" not in browser.session
    assert AuditLog.objects.filter(action="auth.login_failed", target_id=str(member.pk)).count() == 1
    assert_no_inline_code(response)


@pytest.mark.parametrize("what", ["inactive_person", "disabled_tenant"])
def test_people_who_may_not_sign_in_get_the_wrong_password_answer(browser, member, account, what):
    # given
    if what == "inactive_person":
        member.is_active = False
        member.save(update_fields=["is_active"])
    else:
        account.is_active = False
        account.save(update_fields=["is_active"])

    # when
    response = password_sign_in(browser, member.email, DEFAULT_PASSWORD)

    # then
    assert response.status_code == 200
    assert "not correct" in response.content.decode()
    assert "_auth_user_id" not in browser.session
    assert not AuditLog.objects.filter(action="auth.login").exists()


def test_ten_failures_lock_the_web_form_with_429(browser, member):
    # given
    for _ in range(10):
        assert password_sign_in(browser, member.email, "wrong").status_code == 200

    # when
    response = password_sign_in(browser, member.email, DEFAULT_PASSWORD)

    # then
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 15 * 60
    assert "Too many" in response.content.decode()
    assert "_auth_user_id" not in browser.session
    assert AuditLog.objects.filter(action="auth.login_failed").count() == 10
    assert_no_inline_code(response)


def test_failures_through_the_api_count_for_the_web_form_too(browser, api_client, member):
    # given: ten API failures from one address
    for _ in range(10):
        api_client.post(
            "/api/v1/auth/token", {"email": member.email, "password": "wrong"}, format="json", REMOTE_ADDR="192.0.2.50"
        )

    # when: the web form, same email, same address
    response = password_sign_in(browser, member.email, DEFAULT_PASSWORD, ip="192.0.2.50")

    # then
    assert response.status_code == 429


def test_a_stranger_failing_on_the_web_form_does_not_lock_the_owner_out(browser, member):
    # given: a stranger fails ten times for the person's email
    for _ in range(10):
        password_sign_in(browser, member.email, "wrong", ip="192.0.2.66")
    assert password_sign_in(browser, member.email, DEFAULT_PASSWORD, ip="192.0.2.66").status_code == 429

    # when: the person signs in from their own address
    response = password_sign_in(Client(enforce_csrf_checks=True), member.email, DEFAULT_PASSWORD, ip="192.0.2.67")

    # then
    assert response.status_code == 302


def test_twenty_failures_from_one_ip_lock_the_web_form_for_that_ip(browser, member):
    # given
    for attempt in range(20):
        password_sign_in(browser, f"guess{attempt}@acme.test", "wrong", ip="192.0.2.77")

    # when
    same_ip = password_sign_in(browser, member.email, DEFAULT_PASSWORD, ip="192.0.2.77")

    # then
    assert same_ip.status_code == 429
    assert password_sign_in(Client(), member.email, DEFAULT_PASSWORD, ip="192.0.2.78").status_code == 302


def test_sign_out_page_and_post(browser, member):
    # given
    password_sign_in(browser, member.email, DEFAULT_PASSWORD)

    # when
    page = browser.get("/accounts/logout/")
    response = browser.post("/accounts/logout/", {"csrfmiddlewaretoken": csrf_from(page)})

    # then
    assert page.status_code == 200
    assert "Sign out" in page.content.decode()
    assert_no_inline_code(page)
    assert response.status_code == 302
    assert "_auth_user_id" not in browser.session


@pytest.mark.parametrize(
    ("url", "status", "text"),
    [
        ("/accounts/signup/", 200, "cannot sign up here"),
        ("/accounts/password/reset/", 200, "Password"),
        ("/accounts/inactive/", 200, "Account disabled"),
        ("/accounts/3rdparty/login/error/", 401, "Sign-in failed"),
        ("/accounts/3rdparty/login/cancelled/", 200, "Sign-in cancelled"),
    ],
)
def test_reachable_allauth_pages_render_in_our_layout(browser, db, url, status, text):
    # when
    response = browser.get(url)

    # then
    assert response.status_code == status
    assert text in response.content.decode()
    assert 'class="container auth card"' in response.content.decode()
    assert_no_inline_code(response)


def test_email_management_is_left_to_the_tenant_admin(browser, member):
    # given
    password_sign_in(browser, member.email, DEFAULT_PASSWORD)

    # when
    response = browser.get("/accounts/email/")

    # then
    assert response.status_code == 200
    assert "ask an administrator" in response.content.decode()
    assert browser.post("/accounts/email/", {"email": "x@evil.test", "action_add": ""}).status_code in (403, 405)


# --- Google ---------------------------------------------------------------------------------------


def test_google_provider_settings_need_both_variables():
    assert google_provider_settings("", "") == {}
    assert google_provider_settings(GOOGLE_CLIENT_ID, "") == {}
    assert google_provider_settings("", "secret") == {}
    configured = google_provider_settings(GOOGLE_CLIENT_ID, "secret")
    assert configured["google"]["APPS"] == [{"client_id": GOOGLE_CLIENT_ID, "secret": "secret"}]


def test_login_page_shows_the_google_button_when_configured(browser, db, google_enabled):
    # when
    response = browser.get(LOGIN_URL)

    # then
    html = response.content.decode()
    assert "Sign in with Google" in html
    assert f'action="{GOOGLE_LOGIN_URL}' in html
    assert_no_inline_code(response)


def test_google_sign_in_redirects_to_google_with_the_client_id(browser, db, google_enabled):
    # given
    page = browser.get(LOGIN_URL)

    # when
    response = browser.post(GOOGLE_LOGIN_URL, {"csrfmiddlewaretoken": csrf_from(page)})

    # then
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert (location.scheme, location.netloc) == ("https", "accounts.google.com")
    query = parse_qs(location.query)
    assert query["client_id"] == [GOOGLE_CLIENT_ID]
    assert query["redirect_uri"] == ["http://testserver/accounts/google/login/callback/"]
    assert "state" in query


def test_google_sign_in_needs_the_csrf_token(browser, db, google_enabled):
    # when
    response = browser.post(GOOGLE_LOGIN_URL)

    # then
    assert response.status_code == 403


def test_google_confirmation_page_renders_in_our_layout(browser, db, google_enabled):
    # when
    response = browser.get(GOOGLE_LOGIN_URL)

    # then
    assert response.status_code == 200
    assert "Sign in with Google" in response.content.decode()
    assert_no_inline_code(response)


# --- magic links ----------------------------------------------------------------------------------


@pytest.fixture
def request_link(browser: Client, django_capture_on_commit_callbacks):
    """Ask for a link through the form; the email goes out once the request's transaction commits."""

    def ask(email: str, ip: str = "203.0.113.30"):
        page = browser.get(MAGIC_URL)
        with django_capture_on_commit_callbacks(execute=True):
            return browser.post(MAGIC_URL, {"email": email, "csrfmiddlewaretoken": csrf_from(page)}, REMOTE_ADDR=ip)

    return ask


def test_magic_link_request_page(browser, db):
    # when
    response = browser.get(MAGIC_URL)

    # then
    assert response.status_code == 200
    assert 'name="email"' in response.content.decode()
    assert_no_inline_code(response)


def test_magic_link_answer_is_the_same_for_unknown_and_known_emails(browser, request_link, member):
    # when
    unknown = request_link("nobody@acme.test")
    known = request_link(member.email)

    # then
    assert unknown.status_code == known.status_code == 200
    assert unknown.content.decode().replace("nobody@acme.test", "EMAIL") == known.content.decode().replace(
        member.email, "EMAIL"
    )
    assert "Check your email" in known.content.decode()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [member.email]
    assert MagicLinkToken.objects.filter(user=member).count() == 1


def test_magic_link_needs_the_csrf_token(browser, member):
    # when
    response = browser.post(MAGIC_URL, {"email": member.email})

    # then
    assert response.status_code == 403
    assert not mail.outbox


def test_magic_link_for_an_inactive_person_sends_nothing(browser, request_link, account):
    # given
    user = UserFactory(account=account, email="gone@acme.test", is_active=False)

    # when
    response = request_link(user.email)

    # then
    assert response.status_code == 200
    assert "Check your email" in response.content.decode()
    assert not mail.outbox


def test_magic_link_signs_in_once(browser, request_link, member, settings):
    # given
    request_link(member.email)
    link = LINK_IN_MAIL.search(mail.outbox[0].body).group(1)
    assert link.startswith(settings.SITE_URL + "/accounts/magic-link/")
    path = urlsplit(link).path

    # when: the link is opened (twice, as a mail scanner and then the person would)
    scanner = Client().get(path)
    page = browser.get(path)

    # then: nothing was spent yet
    assert scanner.status_code == page.status_code == 200
    assert "Sign in" in page.content.decode()
    assert_no_inline_code(page)
    assert MagicLinkToken.objects.get(user=member).used_at is None
    assert "_auth_user_id" not in browser.session

    # when: the person presses the button
    response = browser.post(path, {"csrfmiddlewaretoken": csrf_from(page)})

    # then
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert browser.session["_auth_user_id"] == str(member.pk)
    assert MagicLinkToken.objects.get(user=member).used_at is not None
    row = AuditLog.objects.get(action="auth.login")
    assert (row.actor_user, row.metadata) == (member, {"method": "magic_link"})

    # and the link does not work a second time
    again = Client(enforce_csrf_checks=True)
    second_page = again.get(path)
    assert second_page.status_code == 400
    second = again.post(path, {"csrfmiddlewaretoken": csrf_from(again.get(MAGIC_URL))})
    assert second.status_code == 400
    assert f'href="{MAGIC_URL}"' in second.content.decode()
    assert "_auth_user_id" not in again.session
    assert_no_inline_code(second)


def test_expired_magic_link_is_refused(browser, member):
    # given
    issued = magic_link_create(email=member.email)
    MagicLinkToken.objects.filter(user=member).update(expires_at=timezone.now() - timedelta(seconds=1))
    path = f"/accounts/magic-link/{issued.token}/"

    # when
    page = browser.get(path)
    response = browser.post(path, {"csrfmiddlewaretoken": csrf_from(browser.get(MAGIC_URL))})

    # then
    assert page.status_code == response.status_code == 400
    assert "no longer valid" in response.content.decode()
    assert "_auth_user_id" not in browser.session
    assert MagicLinkToken.objects.get(user=member).used_at is None


def test_magic_link_expires_after_fifteen_minutes(member):
    # when
    before = timezone.now()
    magic_link_create(email=member.email)

    # then
    expires_at = MagicLinkToken.objects.get(user=member).expires_at
    assert timedelta(minutes=14, seconds=59) <= expires_at - before <= timedelta(minutes=15, seconds=5)


def test_magic_link_of_a_person_whose_tenant_was_disabled_is_refused(browser, member, account):
    # given
    issued = magic_link_create(email=member.email)
    account.is_active = False
    account.save(update_fields=["is_active"])
    path = f"/accounts/magic-link/{issued.token}/"

    # when
    response = browser.post(path, {"csrfmiddlewaretoken": csrf_from(browser.get(MAGIC_URL))})

    # then
    assert response.status_code == 400
    assert "_auth_user_id" not in browser.session


def test_unknown_magic_link_is_refused(browser, db):
    # when
    response = browser.get("/accounts/magic-link/not-a-real-token/")

    # then
    assert response.status_code == 400
    assert f'href="{MAGIC_URL}"' in response.content.decode()


def test_magic_link_requests_are_limited_per_email(browser, request_link, member):
    # given
    for attempt in range(5):
        assert request_link(member.email, ip=f"198.51.100.{attempt + 1}").status_code == 200

    # when
    response = request_link(member.email, ip="198.51.100.99")

    # then
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert len(mail.outbox) == 5
    assert_no_inline_code(response)


def test_magic_link_requests_are_limited_per_ip(browser, request_link, db):
    # given
    for attempt in range(30):
        assert request_link(f"someone{attempt}@acme.test", ip="192.0.2.33").status_code == 200

    # when
    response = request_link("someone-else@acme.test", ip="192.0.2.33")

    # then
    assert response.status_code == 429
    assert request_link("someone-else@acme.test", ip="192.0.2.34").status_code == 200


# --- no secrets in logs ---------------------------------------------------------------------------


def test_web_sign_in_flows_never_log_passwords_or_link_tokens(browser, request_link, member, caplog):
    # given
    caplog.set_level(logging.DEBUG)

    # when
    password_sign_in(browser, member.email, "wrong-Secret-Pa55")
    request_link(member.email)
    link = LINK_IN_MAIL.search(mail.outbox[0].body).group(1)
    token = link.rstrip("/").rsplit("/", 1)[1]
    page = browser.get(urlsplit(link).path)
    browser.post(urlsplit(link).path, {"csrfmiddlewaretoken": csrf_from(page)})

    # then
    assert browser.session["_auth_user_id"] == str(member.pk)
    assert caplog.records
    logged = caplog.text + "".join(str(record.msg) for record in caplog.records)
    for secret in ("wrong-Secret-Pa55", DEFAULT_PASSWORD, token):
        assert secret not in logged


def test_google_sign_in_keeps_the_password_of_an_invited_person(member, rf):
    # given: Google vouches for the address staff gave this person
    request = rf.get("/accounts/google/login/callback/")
    sociallogin = SocialLogin(
        user=member,
        account=SocialAccount(provider="google", uid="108"),
        email_addresses=[EmailAddress(email=member.email.upper(), verified=True)],
    )

    # when: allauth's hook runs, then its password wipe for email-matched logins
    SocialAccountAdapter().pre_social_login(request, sociallogin)
    wipe_password(request, member, member.email)

    # then
    member.refresh_from_db()
    assert member.has_usable_password()
    assert member.check_password(DEFAULT_PASSWORD)
    assert EmailAddress.objects.get(user=member).verified


def test_google_address_not_verified_by_google_is_not_trusted(member, rf):
    # given
    sociallogin = SocialLogin(
        user=member,
        account=SocialAccount(provider="google", uid="108"),
        email_addresses=[EmailAddress(email=member.email, verified=False)],
    )

    # when
    SocialAccountAdapter().pre_social_login(rf.get("/"), sociallogin)

    # then
    assert not EmailAddress.objects.filter(user=member, verified=True).exists()
