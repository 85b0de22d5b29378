"""`/api/v1/router`: a tenant's own n8n router — roles, tenant isolation, a write-only secret
stored encrypted, validation, audit rows, and forwarding to the new URL."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from django.db import connection

from accounts.models import AuditLog
from inbox.models import RouterConfig, RouterDelivery

pytestmark = pytest.mark.django_db

SECRET = "n8n-shared-secret-value"
BODY = {"url": "https://n8n.acme.test/webhook/skybot", "secret": SECRET, "is_active": True}


def _stored_secret(config_pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM inbox_routerconfig WHERE id = %s", [config_pk])
        return str(cursor.fetchone()[0])


# --- reading ---------------------------------------------------------------------------------------


def test_without_own_router_the_master_is_described(client_for, client_admin, settings):
    # given a master router on the server and no tenant router
    settings.N8N_MASTER_ROUTER_URL = "https://n8n.skybot.test/webhook/master"
    settings.N8N_MASTER_ROUTER_NAME = "main-router"

    # when the admin reads the router settings
    response = client_for(client_admin).get("/api/v1/router")

    # then the master router is named, its URL is not revealed
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "account": client_admin.account_id,
        "in_use": "master",
        "config": None,
        "master": {"name": "main-router", "url_configured": True},
    }
    assert "n8n.skybot.test" not in response.content.decode()


def test_without_any_router_nothing_is_in_use(client_for, client_admin):
    # given no master router (the inbox fixtures clear it) and no tenant router
    # when / then
    body = client_for(client_admin).get("/api/v1/router").json()
    assert (body["in_use"], body["config"], body["master"]["url_configured"]) == ("none", None, False)


def test_own_router_is_shown_without_its_secret(client_for, client_admin, account):
    # given a tenant router with a secret
    RouterConfig.objects.create(account=account, url="https://n8n.acme.test/hook", secret=SECRET)

    # when
    response = client_for(client_admin).get("/api/v1/router")

    # then
    body = response.json()
    assert body["in_use"] == "account"
    assert body["config"]["url"] == "https://n8n.acme.test/hook"
    assert body["config"]["has_secret"] is True
    assert body["config"]["is_active"] is True
    assert SECRET not in response.content.decode()


def test_an_inactive_own_router_falls_back_to_the_master(client_for, client_admin, account, settings):
    settings.N8N_MASTER_ROUTER_URL = "https://n8n.skybot.test/webhook/master"
    RouterConfig.objects.create(account=account, url="https://n8n.acme.test/hook", is_active=False)

    body = client_for(client_admin).get("/api/v1/router").json()

    assert body["in_use"] == "master"
    assert body["config"]["is_active"] is False


def test_reading_shows_only_the_callers_tenant(client_for, client_admin, other_account):
    # given another tenant has its own router
    RouterConfig.objects.create(account=other_account, url="https://n8n.globex.test/hook", secret="theirs")

    # when this tenant's admin reads, or tries to name the other tenant
    client = client_for(client_admin)
    response = client.get("/api/v1/router")
    naming = client.get(f"/api/v1/router?account={other_account.pk}")

    # then nothing of the other tenant shows
    assert response.json()["config"] is None
    assert "globex" not in response.content.decode()
    assert naming.status_code == 400
    assert "account" in naming.json()["details"]


# --- roles -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("user_fixture", ["member", "viewer"])
def test_below_client_admin_may_neither_read_nor_change(request, client_for, account, user_fixture):
    # given a tenant router
    RouterConfig.objects.create(account=account, url="https://n8n.acme.test/hook", secret=SECRET)
    client = client_for(request.getfixturevalue(user_fixture))

    # when / then
    assert client.get("/api/v1/router").status_code == 403
    assert client.put("/api/v1/router", {**BODY, "url": "https://evil.test/x"}, format="json").status_code == 403
    assert client.delete("/api/v1/router").status_code == 403
    config = RouterConfig.objects.get()
    assert (config.url, config.secret) == ("https://n8n.acme.test/hook", SECRET)
    assert not AuditLog.objects.filter(action__startswith="router.").exists()


@pytest.mark.parametrize(("scopes", "expected"), [(["read", "write"], 403), (["admin"], 200)])
def test_api_keys_need_the_admin_scope(key_client_for, account, scopes, expected):
    response = key_client_for(account, scopes).put("/api/v1/router", BODY, format="json")
    assert response.status_code == expected
    assert RouterConfig.objects.filter(account=account).exists() is (expected == 200)


def test_anonymous_is_401(api_client):
    assert api_client.get("/api/v1/router").status_code == 401
    assert api_client.put("/api/v1/router", BODY, format="json").status_code == 401
    assert not RouterConfig.objects.exists()


def test_platform_staff_name_the_tenant(client_for, super_admin, account, other_account):
    client = client_for(super_admin)

    # without ?account= there is no tenant to act on
    assert client.get("/api/v1/router").status_code == 400
    assert client.put("/api/v1/router?account=999999", BODY, format="json").status_code == 400

    response = client.put(f"/api/v1/router?account={account.pk}", BODY, format="json")

    assert response.status_code == 200, response.json()
    assert RouterConfig.objects.get().account == account
    assert not RouterConfig.objects.filter(account=other_account).exists()
    assert client.get(f"/api/v1/router?account={account.pk}").json()["in_use"] == "account"


@pytest.mark.parametrize("value", ["\u00b2", "99999999999999999999"])
def test_platform_staff_naming_an_account_that_is_no_id_is_400(client_for, super_admin, account, value):
    # when platform staff name the tenant with a non-ASCII digit such as "²", or a number beyond any id
    client = client_for(super_admin)
    read = client.get("/api/v1/router", {"account": value})
    write = client.put(f"/api/v1/router?account={value}", BODY, format="json")

    # then both are a 400 about the account, and nothing was stored
    assert (read.status_code, write.status_code) == (400, 400)
    assert "account" in read.json()["details"]
    assert not RouterConfig.objects.exists()


# --- changing --------------------------------------------------------------------------------------


def test_admin_sets_a_router_and_the_secret_is_stored_encrypted(client_for, client_admin, account):
    # when
    response = client_for(client_admin).put("/api/v1/router", BODY, format="json")

    # then the answer has no secret, the row has it encrypted, the audit row has neither
    assert response.status_code == 200, response.json()
    assert response.json()["in_use"] == "account"
    assert response.json()["config"]["url"] == BODY["url"]
    assert response.json()["config"]["has_secret"] is True
    assert SECRET not in response.content.decode()
    config = RouterConfig.objects.get(account=account)
    assert config.secret == SECRET
    stored = _stored_secret(config.pk)
    assert stored.startswith("enc:v2:")
    assert SECRET not in stored
    audit = AuditLog.objects.get(action="router.updated")
    assert (audit.account, audit.actor_user, audit.target_id) == (account, client_admin, str(config.pk))
    assert audit.metadata["url"] == BODY["url"]
    assert audit.metadata["created"] is True
    assert SECRET not in json.dumps(audit.metadata)


def test_replacing_without_a_secret_keeps_it_and_an_empty_one_removes_it(client_for, client_admin, account):
    client = client_for(client_admin)
    client.put("/api/v1/router", BODY, format="json")

    # when the URL changes and no secret is sent
    response = client.put("/api/v1/router", {"url": "https://n8n.acme.test/v2"}, format="json")

    # then the secret stays, and is_active defaults to true
    assert response.status_code == 200
    config = RouterConfig.objects.get(account=account)
    assert (config.url, config.secret, config.is_active) == ("https://n8n.acme.test/v2", SECRET, True)
    assert RouterConfig.objects.count() == 1

    # when an empty secret is sent
    client.put("/api/v1/router", {"url": "https://n8n.acme.test/v2", "secret": "", "is_active": False}, format="json")

    # then deliveries are no longer signed and the master takes over
    config.refresh_from_db()
    assert (config.secret, config.is_active) == ("", False)
    assert AuditLog.objects.filter(action="router.updated").count() == 3


def test_changing_leaves_another_tenants_router_alone(client_for, client_admin, other_account):
    theirs = RouterConfig.objects.create(account=other_account, url="https://n8n.globex.test/hook", secret="theirs")
    client = client_for(client_admin)

    client.put("/api/v1/router", BODY, format="json")
    client.delete("/api/v1/router")

    theirs.refresh_from_db()
    assert (theirs.url, theirs.secret, theirs.is_active) == ("https://n8n.globex.test/hook", "theirs", True)
    assert not AuditLog.objects.filter(account=other_account).exists()


@pytest.mark.parametrize(
    "body",
    [
        {**BODY, "url": "ftp://n8n.acme.test/hook"},
        {**BODY, "url": "javascript:alert(1)"},
        {**BODY, "url": "n8n.acme.test/hook"},
        {**BODY, "url": "https://"},
        {**BODY, "url": "https://user:pass@n8n.acme.test/hook"},
        {**BODY, "url": "https://n8n.acme.test:99999/hook"},
        {**BODY, "url": "https://n8n.acme.test/a b"},
        {**BODY, "url": "https://n8n.acme.test/" + "x" * 500},
        {**BODY, "url": "http://169.254.169.254/latest/meta-data/"},
        {**BODY, "url": "http://10.0.0.8:5678/webhook/skybot"},
        {**BODY, "is_active": "yes"},
        {**BODY, "colour": "red"},
        {"secret": SECRET},
    ],
)
def test_bad_input_is_400_and_changes_nothing(client_for, client_admin, account, body):
    # given an existing router
    RouterConfig.objects.create(account=account, url="https://n8n.acme.test/hook", secret="kept")

    # when
    response = client_for(client_admin).put("/api/v1/router", body, format="json")

    # then
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "validation_error"
    config = RouterConfig.objects.get()
    assert (config.url, config.secret, config.is_active) == ("https://n8n.acme.test/hook", "kept", True)
    assert not AuditLog.objects.filter(action__startswith="router.").exists()


def test_delete_goes_back_to_the_master_router(client_for, client_admin, account, settings):
    settings.N8N_MASTER_ROUTER_URL = "https://n8n.skybot.test/webhook/master"
    config = RouterConfig.objects.create(account=account, url="https://n8n.acme.test/hook", secret=SECRET)
    client = client_for(client_admin)

    response = client.delete("/api/v1/router")

    assert response.status_code == 204
    assert not RouterConfig.objects.exists()
    assert client.get("/api/v1/router").json()["in_use"] == "master"
    audit = AuditLog.objects.get(action="router.deleted")
    assert (audit.account, audit.target_id) == (account, str(config.pk))
    assert SECRET not in json.dumps(audit.metadata)

    # deleting again changes nothing and audits nothing
    assert client.delete("/api/v1/router").status_code == 204
    assert AuditLog.objects.filter(action="router.deleted").count() == 1


# --- effect --------------------------------------------------------------------------------------


def test_after_put_inbound_messages_go_to_the_new_router_signed(
    client_for, client_admin, httpserver, channel, sample, post_webhook, settings
):
    # given a master router, and the tenant points its own router at another URL
    settings.N8N_MASTER_ROUTER_URL = httpserver.url_for("/master")
    httpserver.expect_request("/tenant-router", method="POST").respond_with_data("ok")
    response = client_for(client_admin).put(
        "/api/v1/router", {"url": httpserver.url_for("/tenant-router"), "secret": SECRET}, format="json"
    )
    assert response.status_code == 200, response.json()

    # when a customer writes
    post_webhook(sample("text"))

    # then the message reaches the tenant's router, signed with its secret, and not the master
    assert [entry[0].path for entry in httpserver.log] == ["/tenant-router"]
    request = httpserver.log[0][0]
    signed = request.headers["X-SkyBot-Timestamp"].encode() + b"." + request.get_data()
    expected = "sha256=" + hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
    assert request.headers["X-SkyBot-Signature"] == expected
    assert json.loads(request.get_data())["router"] == f"account-{channel.account_id}"
    delivery = RouterDelivery.objects.get()
    assert (delivery.url, delivery.succeeded) == (httpserver.url_for("/tenant-router"), True)
