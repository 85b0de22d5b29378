"""`POST /api/v1/billing/sso`: a signed, five-minute token for the billing portal."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from accounts.models import AuditLog, Role

SSO = "/api/v1/billing/sso"
PORTAL = "https://billing.example.test/sso"
SECRET = "billing-shared-secret-of-enough-length"
ISSUER = "https://inbox.example.test"
AUDIENCE = "skybot-billing"


@pytest.fixture(autouse=True)
def _issuer(settings):
    settings.BILLING_SSO_ISSUER = ISSUER
    settings.BILLING_SSO_AUDIENCE = AUDIENCE


@pytest.fixture
def billing_configured(settings):
    settings.BILLING_PORTAL_URL = PORTAL
    settings.BILLING_SSO_SECRET = SECRET


def decode(token: str, *, key: str = SECRET, audience: str = AUDIENCE, issuer: str = ISSUER, **kwargs) -> dict:
    """What the portal does: check the signature, expiry, audience and issuer."""
    return jwt.decode(token, key, algorithms=["HS256"], audience=audience, issuer=issuer, **kwargs)


def token_of(response) -> str:
    url = response.json()["url"]
    assert url.startswith(f"{PORTAL}?token=")
    return parse_qs(urlsplit(url).query)["token"][0]


def test_client_admin_gets_a_signed_portal_url(billing_configured, client_for, client_admin, account):
    # when the tenant's admin asks for the billing portal
    before = int(time.time())
    response = client_for(client_admin).post(SSO, {}, format="json")

    # then the URL carries a token signed with the shared secret
    assert response.status_code == 200
    token = token_of(response)
    claims = decode(token)
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    assert claims["account"] == account.pk
    assert claims["account_slug"] == "acme"
    assert claims["user"] == client_admin.pk
    assert claims["email"] == client_admin.email
    assert claims["role"] == Role.CLIENT_ADMIN
    assert claims["jti"]
    # and it expires five minutes after it was issued
    assert claims["exp"] - claims["iat"] == 300
    assert before <= claims["iat"] <= int(time.time())
    with pytest.raises(jwt.ExpiredSignatureError):
        # as seen 301 seconds later (negative leeway moves the clock forward)
        decode(token, leeway=-301, options={"verify_iat": False})
    with pytest.raises(jwt.InvalidSignatureError):
        decode(token, key="another-secret-of-enough-length-xx")
    # and the issue is audited, by jti, never with the token
    row = AuditLog.objects.get(action="billing.sso_issued")
    assert row.account == account
    assert row.actor_user == client_admin
    assert row.metadata["jti"] == claims["jti"]
    assert token not in str(row.metadata)


def test_the_token_names_its_issuer_and_audience_and_a_portal_checking_them_refuses_others(
    billing_configured, client_for, client_admin
):
    # when the tenant's admin asks for the billing portal
    token = token_of(client_for(client_admin).post(SSO, {}, format="json"))

    # then the token names this installation and the billing portal
    claims = decode(token)
    assert (claims["iss"], claims["aud"]) == (ISSUER, AUDIENCE)
    # and a service expecting tokens for another audience, or from another issuer, refuses it
    with pytest.raises(jwt.InvalidAudienceError):
        decode(token, audience="skybot-support-desk")
    with pytest.raises(jwt.InvalidIssuerError):
        decode(token, issuer="https://another-installation.example.test")


def test_issuer_and_audience_default_to_the_site_and_the_billing_portal(
    billing_configured, settings, client_for, client_admin
):
    # given the defaults the settings give when neither variable is set
    from skybot_inbox.settings import env as config

    settings.BILLING_SSO_ISSUER = config.BILLING_SSO_ISSUER or config.SITE_URL
    settings.BILLING_SSO_AUDIENCE = config.BILLING_SSO_AUDIENCE

    claims = decode(
        token_of(client_for(client_admin).post(SSO, {}, format="json")),
        audience="skybot-billing",
        issuer=config.SITE_URL,
    )

    assert (claims["iss"], claims["aud"]) == (config.SITE_URL, "skybot-billing")


def test_each_token_has_its_own_jti(billing_configured, client_for, client_admin):
    client = client_for(client_admin)

    first = decode(token_of(client.post(SSO, {}, format="json")))
    second = decode(token_of(client.post(SSO, {}, format="json")))

    assert first["jti"] != second["jti"]


def test_portal_url_with_a_query_keeps_it(settings, client_for, client_admin):
    settings.BILLING_PORTAL_URL = f"{PORTAL}?tenant=skybot"
    settings.BILLING_SSO_SECRET = SECRET

    url = client_for(client_admin).post(SSO, {}, format="json").json()["url"]

    query = parse_qs(urlsplit(url).query)
    assert query["tenant"] == ["skybot"]
    assert decode(query["token"][0])["user"] == client_admin.pk


@pytest.mark.parametrize("who", ["viewer", "member"])
def test_below_client_admin_is_refused(billing_configured, request, client_for, who):
    response = client_for(request.getfixturevalue(who)).post(SSO, {}, format="json")

    assert response.status_code == 403
    assert not AuditLog.objects.filter(action="billing.sso_issued").exists()


def test_api_keys_are_refused_even_with_the_admin_scope(billing_configured, key_client_for, account):
    response = key_client_for(account, ["admin"]).post(SSO, {}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "person_required"


def test_anonymous_gets_401(billing_configured, api_client):
    assert api_client.post(SSO, {}, format="json").status_code == 401


def test_super_admin_must_name_an_account(billing_configured, client_for, super_admin, other_account):
    client = client_for(super_admin)

    missing = client.post(SSO, {}, format="json")
    assert missing.status_code == 400
    assert "account" in missing.json()["details"]
    assert client.post(SSO, {"account": 999999}, format="json").status_code == 400
    assert not AuditLog.objects.filter(action="billing.sso_issued").exists()

    response = client.post(SSO, {"account": other_account.pk}, format="json")
    assert response.status_code == 200
    claims = decode(token_of(response))
    assert (claims["account"], claims["role"], claims["user"]) == (other_account.pk, Role.SUPER_ADMIN, super_admin.pk)
    assert AuditLog.objects.get(action="billing.sso_issued").account == other_account


@pytest.mark.parametrize("payload", [{"account": "OTHER"}, {"plan": "pro"}, {"account": "abc"}])
def test_bad_input_is_400(billing_configured, client_for, client_admin, other_account, payload):
    if payload.get("account") == "OTHER":
        payload = {"account": other_account.pk}  # a tenant admin may not pick the account

    response = client_for(client_admin).post(SSO, payload, format="json")

    assert response.status_code == 400
    assert not AuditLog.objects.filter(action="billing.sso_issued").exists()


@pytest.mark.parametrize("unset", ["BILLING_PORTAL_URL", "BILLING_SSO_SECRET"])
def test_unconfigured_billing_is_503(billing_configured, settings, client_for, client_admin, unset):
    setattr(settings, unset, "")

    response = client_for(client_admin).post(SSO, {}, format="json")

    assert response.status_code == 503
    assert response.json()["code"] == "billing_not_configured"
    assert not AuditLog.objects.filter(action="billing.sso_issued").exists()
