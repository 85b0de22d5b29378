"""`/api/v1/webhooks`: CLIENT_ADMIN manages the tenant's endpoints — the secret shown once and
stored encrypted, validation, roles, tenant isolation, audit rows, rotation, the delivery log,
test events, redelivery and query counts."""

from __future__ import annotations

import base64
import json
import logging

import pytest
from django.db import connection
from django.utils import timezone
from werkzeug import Response

from accounts.models import AuditLog
from core.outbound import DESTINATION_NOT_ALLOWED
from core.tests.resolver import fake_dns
from integrations.models import DeliveryStatus, DisabledReason, EventDelivery, EventDeliveryAttempt, WebhookEndpoint
from integrations.services.webhooks import MAX_ENDPOINTS_PER_ACCOUNT
from integrations.tests.conftest import verify_standard_webhook
from integrations.tests.factories import EventDeliveryFactory, WebhookEndpointFactory

pytestmark = pytest.mark.django_db

BODY = {"url": "https://hooks.acme.test/skybot", "events": ["lead.created", "message.received"], "description": "CRM"}


@pytest.fixture
def admin_api(client_for, client_admin):
    return client_for(client_admin)


def _stored_secret(endpoint_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM integrations_webhookendpoint WHERE id = %s", [endpoint_id])
        return str(cursor.fetchone()[0])


# --- create ----------------------------------------------------------------------------------------


def test_admin_subscribes_an_endpoint_and_sees_its_secret_once(admin_api, account):
    # when
    response = admin_api.post("/api/v1/webhooks", BODY, format="json")

    # then the secret is a Standard Webhooks secret of 32 random bytes
    assert response.status_code == 201, response.json()
    body = response.json()
    secret = body["secret"]
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert body["url"] == BODY["url"]
    assert body["events"] == ["lead.created", "message.received"]
    assert (body["source"], body["is_active"], body["disabled_reason"]) == ("api", True, None)
    # stored encrypted, and no later response shows it
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.account == account
    assert _stored_secret(endpoint.pk).startswith("enc:v2:")
    assert secret not in admin_api.get(f"/api/v1/webhooks/{endpoint.pk}").content.decode()
    assert secret not in admin_api.get("/api/v1/webhooks").content.decode()
    # audited without it
    audit = AuditLog.objects.get(action="webhook.created")
    assert audit.metadata["url"] == BODY["url"]
    assert secret not in json.dumps(audit.metadata)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**BODY, "events": []}, "events"),
        ({**BODY, "events": ["lead.exploded"]}, "events"),
        ({**BODY, "events": "lead.created"}, "events"),
        ({**BODY, "events": ["ping"]}, "events"),
        ({**BODY, "url": "ftp://hooks.acme.test/x"}, "url"),
        ({**BODY, "url": "http://169.254.169.254/latest/meta-data/"}, "url"),
        ({**BODY, "url": "http://10.0.0.4/hook"}, "url"),
        ({**BODY, "url": "https://user:pw@hooks.acme.test/x"}, "url"),
        ({**BODY, "url": "https://hooks.acme.test/" + "x" * 1000}, "url"),
        ({**BODY, "is_active": "yes"}, "is_active"),
        ({**BODY, "secret": "whsec_mine"}, "secret"),
        ({"events": ["lead.created"]}, "url"),
    ],
)
def test_bad_input_is_400_and_creates_nothing(admin_api, body, field):
    response = admin_api.post("/api/v1/webhooks", body, format="json")

    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "validation_error"
    assert field in response.json()["details"]
    assert not WebhookEndpoint.objects.exists()
    assert not AuditLog.objects.filter(action__startswith="webhook.").exists()


def test_production_requires_https(admin_api, settings):
    settings.OUTBOUND_REQUIRE_HTTPS = True

    response = admin_api.post("/api/v1/webhooks", {**BODY, "url": "http://hooks.acme.test/x"}, format="json")

    assert response.status_code == 400
    assert response.json()["details"]["url"] == ["Only https URLs are accepted."]


def test_a_tenant_has_at_most_fifty_endpoints(admin_api, account):
    WebhookEndpointFactory.create_batch(MAX_ENDPOINTS_PER_ACCOUNT, account=account)

    response = admin_api.post("/api/v1/webhooks", BODY, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "too_many_endpoints"
    assert WebhookEndpoint.objects.count() == MAX_ENDPOINTS_PER_ACCOUNT


def test_platform_staff_name_the_tenant(client_for, super_admin, account):
    client = client_for(super_admin)

    assert client.post("/api/v1/webhooks", BODY, format="json").status_code == 400
    response = client.post("/api/v1/webhooks", {**BODY, "account": account.pk}, format="json")

    assert response.status_code == 201
    assert WebhookEndpoint.objects.get().account == account


# --- roles and tenants -----------------------------------------------------------------------------


@pytest.mark.parametrize("user_fixture", ["member", "viewer"])
def test_below_client_admin_may_not_read_or_change_anything(request, client_for, account, user_fixture):
    # given an endpoint with a delivery
    delivery = EventDeliveryFactory(endpoint__account=account)
    endpoint = delivery.endpoint
    client = client_for(request.getfixturevalue(user_fixture))

    # when / then
    calls = [
        client.get("/api/v1/webhooks"),
        client.post("/api/v1/webhooks", BODY, format="json"),
        client.get(f"/api/v1/webhooks/{endpoint.pk}"),
        client.patch(f"/api/v1/webhooks/{endpoint.pk}", {"is_active": False}, format="json"),
        client.delete(f"/api/v1/webhooks/{endpoint.pk}"),
        client.post(f"/api/v1/webhooks/{endpoint.pk}/rotate-secret", {}, format="json"),
        client.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries"),
        client.post(f"/api/v1/webhooks/{endpoint.pk}/test"),
        client.post(f"/api/v1/webhooks/deliveries/{delivery.pk}/redeliver"),
    ]
    assert [response.status_code for response in calls] == [403] * len(calls)
    endpoint.refresh_from_db()
    assert endpoint.is_active is True
    assert WebhookEndpoint.objects.count() == 1
    assert not AuditLog.objects.filter(action__startswith="webhook.").exists()


@pytest.mark.parametrize(("scopes", "expected"), [(["read"], 403), (["read", "write"], 403), (["admin"], 201)])
def test_api_keys_need_the_admin_scope(key_client_for, account, scopes, expected):
    response = key_client_for(account, scopes).post("/api/v1/webhooks", BODY, format="json")

    assert response.status_code == expected
    assert WebhookEndpoint.objects.filter(account=account).exists() is (expected == 201)


def test_anonymous_is_401(api_client):
    assert api_client.get("/api/v1/webhooks").status_code == 401
    assert api_client.post("/api/v1/webhooks", BODY, format="json").status_code == 401


def test_event_types_are_listed_for_anyone_in_the_tenant(client_for, viewer):
    response = client_for(viewer).get("/api/v1/webhooks/event-types")

    assert response.status_code == 200
    types = {item["type"]: item["description"] for item in response.json()}
    assert {"lead.created", "message.received", "agent.execution.finished", "conversation.created"} <= set(types)
    assert "ping" not in types


def test_another_tenants_endpoints_and_deliveries_are_404_and_untouched(admin_api, other_account):
    # given another tenant's endpoint with a delivery
    delivery = EventDeliveryFactory(endpoint__account=other_account)
    endpoint = delivery.endpoint

    # when / then: exactly like an id that does not exist
    missing = admin_api.get("/api/v1/webhooks/999999").json()
    calls = [
        admin_api.get(f"/api/v1/webhooks/{endpoint.pk}"),
        admin_api.patch(f"/api/v1/webhooks/{endpoint.pk}", {"is_active": False}, format="json"),
        admin_api.delete(f"/api/v1/webhooks/{endpoint.pk}"),
        admin_api.post(f"/api/v1/webhooks/{endpoint.pk}/rotate-secret", {}, format="json"),
        admin_api.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries"),
        admin_api.post(f"/api/v1/webhooks/{endpoint.pk}/test"),
        admin_api.post(f"/api/v1/webhooks/deliveries/{delivery.pk}/redeliver"),
    ]
    assert [response.status_code for response in calls] == [404] * len(calls)
    assert all(response.json() == missing for response in calls)
    assert endpoint.url not in admin_api.get("/api/v1/webhooks").content.decode()
    secret = endpoint.secret
    endpoint.refresh_from_db()
    assert (endpoint.is_active, endpoint.secret) == (True, secret)
    assert EventDeliveryAttempt.objects.count() == 0


# --- list, show, change, delete --------------------------------------------------------------------


def test_list_filters_and_keeps_its_query_count(admin_api, account, django_assert_num_queries):
    WebhookEndpointFactory.create_batch(3, account=account)
    WebhookEndpointFactory(account=account, source="zapier")
    with django_assert_num_queries(2) as few:
        response = admin_api.get("/api/v1/webhooks")
    assert len(response.json()["results"]) == 4

    WebhookEndpointFactory.create_batch(20, account=account)
    with django_assert_num_queries(len(few.captured_queries)):
        response = admin_api.get("/api/v1/webhooks?page_size=100")
    assert len(response.json()["results"]) == 24

    zapier = admin_api.get("/api/v1/webhooks?source=zapier").json()["results"]
    assert [item["source"] for item in zapier] == ["zapier"]
    assert admin_api.get("/api/v1/webhooks?source=carrier-pigeon").status_code == 400


def test_turning_off_and_on_again(admin_api, account):
    # given an endpoint that was turned off for failing
    endpoint = WebhookEndpointFactory(
        account=account,
        is_active=False,
        disabled_reason=DisabledReason.FAILING,
        disabled_at=timezone.now(),
        consecutive_failures=12,
        failing_since=timezone.now(),
    )

    # when the admin turns it back on
    response = admin_api.patch(f"/api/v1/webhooks/{endpoint.pk}", {"is_active": True}, format="json")

    # then it starts afresh
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["is_active"], body["disabled_reason"], body["consecutive_failures"]) == (True, None, 0)

    # when they turn it off by hand
    body = admin_api.patch(f"/api/v1/webhooks/{endpoint.pk}", {"is_active": False}, format="json").json()

    # then
    assert (body["is_active"], body["disabled_reason"]) == (False, "manual")
    assert AuditLog.objects.filter(action="webhook.updated").count() == 2


def test_changing_url_and_events_is_validated_and_audited(admin_api, account, settings):
    endpoint = WebhookEndpointFactory(account=account)
    settings.OUTBOUND_ALLOW_LOOPBACK = False

    for url in ("http://192.168.0.10/x", "http://localhost:9/x", "gopher://hooks.acme.test/"):
        bad = admin_api.patch(f"/api/v1/webhooks/{endpoint.pk}", {"url": url}, format="json")
        assert bad.status_code == 400
        assert "url" in bad.json()["details"]
    good = admin_api.patch(
        f"/api/v1/webhooks/{endpoint.pk}",
        {"url": "https://new.acme.test/in", "events": ["agent.execution.finished"]},
        format="json",
    )

    assert good.status_code == 200, good.json()
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.events) == ("https://new.acme.test/in", ["agent.execution.finished"])
    audit = AuditLog.objects.get(action="webhook.updated")
    assert audit.metadata == {"fields": ["events", "url"], "url": "https://new.acme.test/in"}


def test_delete_removes_the_endpoint_and_its_log(admin_api, account):
    delivery = EventDeliveryFactory(endpoint__account=account)

    response = admin_api.delete(f"/api/v1/webhooks/{delivery.endpoint_id}")

    assert response.status_code == 204
    assert not WebhookEndpoint.objects.exists()
    assert not EventDelivery.objects.exists()
    assert AuditLog.objects.filter(action="webhook.deleted").exists()


# --- secret rotation -------------------------------------------------------------------------------


def test_rotation_answers_a_new_secret_and_keeps_the_old_one_for_the_overlap(admin_api, account):
    endpoint = WebhookEndpointFactory(account=account)
    old = endpoint.secret

    response = admin_api.post(f"/api/v1/webhooks/{endpoint.pk}/rotate-secret", {"overlap_seconds": 3600}, format="json")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["secret"].startswith("whsec_")
    assert body["secret"] != old
    assert old not in response.content.decode()
    endpoint.refresh_from_db()
    assert (endpoint.secret, endpoint.previous_secret) == (body["secret"], old)
    remaining = (endpoint.previous_secret_expires_at - timezone.now()).total_seconds()
    assert 3590 <= remaining <= 3600
    audit = AuditLog.objects.get(action="webhook.secret_rotated")
    assert audit.metadata == {"overlap_seconds": 3600}


def test_rotation_without_overlap_drops_the_old_secret_and_defaults_to_a_day(admin_api, account):
    endpoint = WebhookEndpointFactory(account=account)

    admin_api.post(f"/api/v1/webhooks/{endpoint.pk}/rotate-secret", {"overlap_seconds": 0}, format="json")
    endpoint.refresh_from_db()
    assert (endpoint.previous_secret, endpoint.previous_secret_expires_at) == ("", None)

    admin_api.post(f"/api/v1/webhooks/{endpoint.pk}/rotate-secret", format="json")
    endpoint.refresh_from_db()
    assert 86390 <= (endpoint.previous_secret_expires_at - timezone.now()).total_seconds() <= 86400


@pytest.mark.parametrize("overlap", [-1, 7 * 24 * 3600 + 1, "1h"])
def test_rotation_with_a_bad_overlap_is_400_and_keeps_the_secret(admin_api, account, overlap):
    endpoint = WebhookEndpointFactory(account=account)
    secret = endpoint.secret

    response = admin_api.post(
        f"/api/v1/webhooks/{endpoint.pk}/rotate-secret", {"overlap_seconds": overlap}, format="json"
    )

    assert response.status_code == 400
    endpoint.refresh_from_db()
    assert endpoint.secret == secret


# --- delivery log, test, redelivery ----------------------------------------------------------------


def _with_attempts(endpoint, count):
    for _ in range(count):
        delivery = EventDeliveryFactory.create(endpoint=endpoint, status=DeliveryStatus.FAILED, attempt_count=2)
        EventDeliveryAttempt.objects.create(delivery=delivery, number=1, status_code=503, error="HTTP 503")
        EventDeliveryAttempt.objects.create(delivery=delivery, number=2, status_code=404, error="HTTP 404")


def test_the_delivery_log_shows_events_and_attempts_in_few_queries(admin_api, account, django_assert_num_queries):
    endpoint = WebhookEndpointFactory(account=account)
    _with_attempts(endpoint, 2)
    with django_assert_num_queries(4) as few:
        response = admin_api.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries")
    assert response.status_code == 200
    first = response.json()["results"][0]
    assert first["event_id"].startswith("msg_")
    assert first["event_type"] == "lead.created"
    assert first["payload"]["type"] == "lead.created"
    assert [(a["number"], a["status_code"]) for a in first["attempts"]] == [(1, 503), (2, 404)]

    _with_attempts(endpoint, 15)
    with django_assert_num_queries(len(few.captured_queries)):
        response = admin_api.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries")
    assert len(response.json()["results"]) == 17

    assert admin_api.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries?status=succeeded").json()["results"] == []
    assert admin_api.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries?status=lost").status_code == 400


def test_a_test_event_is_sent_signed_to_this_endpoint_only(admin_api, account, receiver, committed):
    # given two endpoints
    created = admin_api.post(
        "/api/v1/webhooks", {"url": receiver.url_for("/hook"), "events": ["lead.created"]}, format="json"
    ).json()
    WebhookEndpointFactory(account=account, url=receiver.url_for("/other"))
    receiver.expect_request("/hook").respond_with_data("pong")

    # when the admin sends a test
    response = committed(lambda: admin_api.post(f"/api/v1/webhooks/{created['id']}/test"))

    # then
    assert response.status_code == 202, response.json()
    assert response.json()["event_type"] == "ping"
    assert [entry[0].path for entry in receiver.log] == ["/hook"]
    request = receiver.log[0][0]
    assert verify_standard_webhook(created["secret"], request.headers, request.get_data())
    assert json.loads(request.get_data())["type"] == "ping"
    delivery = EventDelivery.objects.get()
    assert (delivery.status, delivery.attempts.get().response_excerpt) == (DeliveryStatus.SUCCEEDED, "pong")
    assert AuditLog.objects.filter(action="webhook.tested").exists()


def test_the_test_event_and_the_delivery_log_never_say_what_a_name_resolves_to(
    admin_api, account, receiver, settings, monkeypatch, committed, caplog
):
    # given an endpoint saved on an internal name, which resolves to the server's loopback
    fake_dns(monkeypatch)[0]["vm"] = ["127.0.0.1"]
    created = admin_api.post(
        "/api/v1/webhooks", {"url": f"http://vm:{receiver.port}/hook", "events": ["lead.created"]}, format="json"
    )
    assert created.status_code == 201, created.json()
    settings.OUTBOUND_ALLOW_LOOPBACK = False
    receiver.expect_request("/hook").respond_with_data("ok")
    caplog.set_level(logging.WARNING)

    # when the admin sends a test event, then reads the delivery log
    answer = committed(lambda: admin_api.post(f"/api/v1/webhooks/{created.json()['id']}/test"))
    log = admin_api.get(f"/api/v1/webhooks/{created.json()['id']}/deliveries")

    # then nothing was sent, and neither answer names the address or the resolution
    assert receiver.log == []
    assert answer.status_code == 202
    assert log.json()["results"][0]["attempts"][0]["error"] == DESTINATION_NOT_ALLOWED
    for text in (answer.content.decode(), log.content.decode()):
        assert "127.0.0.1" not in text
        assert "resolves" not in text
    # but the server log does
    assert "vm resolves to a blocked address: 127.0.0.1" in "".join(str(record.msg) for record in caplog.records)


def test_saving_a_name_that_resolves_inside_says_nothing_of_its_address(admin_api, settings, monkeypatch):
    # given production's guard, and a name the server resolves to a private address
    settings.OUTBOUND_ALLOW_LOOPBACK = False
    fake_dns(monkeypatch)[0]["crm.internal"] = ["10.0.0.5"]

    # when the admin saves it, then changes it to another such name
    created = admin_api.post("/api/v1/webhooks", {**BODY, "url": "http://crm.internal/hook"}, format="json")
    changed = admin_api.patch(
        f"/api/v1/webhooks/{created.json()['id']}", {"url": "http://crm.internal/other"}, format="json"
    )

    # then names are only checked when a request is made: neither answer names an address
    assert (created.status_code, changed.status_code) == (201, 200)
    for response in (created, changed):
        assert "10.0.0.5" not in response.content.decode()
        assert "resolves" not in response.content.decode()


@pytest.mark.parametrize("url", ["http://localhost:8000/hook", "http://api.localhost/hook"])
def test_saving_a_localhost_url_is_refused_without_naming_its_address(admin_api, settings, url):
    # given production's guard
    settings.OUTBOUND_ALLOW_LOOPBACK = False

    # when
    response = admin_api.post("/api/v1/webhooks", {**BODY, "url": url}, format="json")

    # then
    assert response.status_code == 400
    assert response.json()["details"]["url"] == [DESTINATION_NOT_ALLOWED]
    assert "127.0.0.1" not in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_a_turned_off_endpoint_cannot_be_tested_or_redelivered_to(admin_api, account):
    delivery = EventDeliveryFactory(
        endpoint__account=account, endpoint__is_active=False, endpoint__disabled_reason=DisabledReason.MANUAL
    )

    test = admin_api.post(f"/api/v1/webhooks/{delivery.endpoint_id}/test")
    again = admin_api.post(f"/api/v1/webhooks/deliveries/{delivery.pk}/redeliver")

    assert (test.status_code, again.status_code) == (409, 409)
    assert test.json()["code"] == again.json()["code"] == "endpoint_disabled"
    assert EventDelivery.objects.count() == 1


def test_redelivery_sends_the_same_event_again(admin_api, account, receiver, committed):
    # given a delivery that failed for good
    created = admin_api.post(
        "/api/v1/webhooks", {"url": receiver.url_for("/hook"), "events": ["lead.created"]}, format="json"
    ).json()
    endpoint = WebhookEndpoint.objects.get(pk=created["id"])
    delivery = EventDeliveryFactory.create(endpoint=endpoint, status=DeliveryStatus.FAILED, attempt_count=8)
    EventDeliveryAttempt.objects.create(delivery=delivery, number=8, status_code=500, error="HTTP 500")
    receiver.expect_request("/hook").respond_with_response(Response("fixed", status=200))

    # when the admin redelivers it
    response = committed(lambda: admin_api.post(f"/api/v1/webhooks/deliveries/{delivery.pk}/redeliver"))

    # then it is on its way again
    assert response.status_code == 202, response.json()
    assert (response.json()["id"], response.json()["status"]) == (delivery.pk, "pending")
    # and it went out with the event's id; the log shows the new attempt
    log = admin_api.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries").json()["results"][0]
    assert log["status"] == "succeeded"
    assert [(a["number"], a["status_code"]) for a in log["attempts"]] == [(8, 500), (9, 200)]
    request = receiver.log[0][0]
    assert request.headers["webhook-id"] == delivery.event.message_id
    assert verify_standard_webhook(created["secret"], request.headers, request.get_data())
    assert AuditLog.objects.filter(action="webhook.redelivered", target_id=str(delivery.pk)).exists()
