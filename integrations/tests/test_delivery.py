"""Outgoing webhooks end to end against a local receiver: subscribe → event → signed delivery
(checked by an independent verifier), the retry schedule, Retry-After, no retry on 4xx, 410,
turning off a failing endpoint (and telling the admins), secret rotation, the SSRF guard."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone
from werkzeug import Response

from accounts.models import AuditLog, Role
from accounts.principals import Principal
from accounts.tests.factories import UserFactory
from core.outbound import DESTINATION_NOT_ALLOWED
from core.tests.resolver import fake_dns
from inbox.services.crm import lead_create, lead_update
from inbox.services.messages import message_send
from integrations.events import LEAD_FIELDS
from integrations.models import (
    DeliveryStatus,
    DisabledReason,
    EndpointSource,
    EventDelivery,
    EventDeliveryAttempt,
    WebhookEndpoint,
    WebhookEvent,
)
from integrations.services.delivery import DISABLE_AFTER_FAILURES, MAX_ATTEMPTS, RETRY_DELAYS
from integrations.services.webhooks import webhook_endpoint_create, webhook_secret_rotate
from integrations.tasks import redrive_due_deliveries
from integrations.tests.conftest import verify_standard_webhook

pytestmark = pytest.mark.django_db


@pytest.fixture
def actor(client_admin):
    return Principal.for_user(client_admin)


@pytest.fixture
def subscribe(account, actor, receiver):
    """Subscribe the local receiver's /hook to `events`; answers (endpoint, secret)."""

    def make(events=("lead.created",), *, source=EndpointSource.API, path="/hook"):
        issued = webhook_endpoint_create(
            account=account, actor=actor, url=receiver.url_for(path), events=list(events), source=source
        )
        return issued.endpoint, issued.secret

    return make


@pytest.fixture
def new_lead(account, actor, committed):
    def make(name="Ada Lovelace"):
        return committed(lambda: lead_create(account=account, actor=actor, name=name, email="ada@example.com"))

    return make


@pytest.fixture
def retry_now(committed):
    """Make every pending delivery due, and let the beat task send them."""

    def run():
        EventDelivery.objects.filter(status=DeliveryStatus.PENDING).update(
            next_attempt_at=timezone.now() - timedelta(seconds=1)
        )
        committed(redrive_due_deliveries)

    return run


def _wait(delivery) -> timedelta:
    """How long after its last attempt the pending delivery's next one is due."""
    delivery.refresh_from_db()
    last = delivery.attempts.order_by("-number").first()
    assert delivery.next_attempt_at is not None
    assert last is not None
    return delivery.next_attempt_at - last.created_at


def _attempts(delivery):
    return list(delivery.attempts.order_by("number").values_list("number", "status_code", "error"))


# --- subscribe → event → signed delivery ----------------------------------------------------------


def test_a_subscribed_event_arrives_signed_the_standard_webhooks_way(subscribe, new_lead, receiver):
    # given an endpoint subscribed to lead.created
    endpoint, secret = subscribe(["lead.created"])
    receiver.expect_request("/hook", method="POST").respond_with_data("ok")

    # when a lead is created
    lead = new_lead()

    # then the receiver got one POST that an independent verifier accepts
    assert len(receiver.log) == 1
    request = receiver.log[0][0]
    body = request.get_data()
    assert verify_standard_webhook(secret, request.headers, body)
    assert request.headers["webhook-id"].startswith("msg_")
    assert abs(int(request.headers["webhook-timestamp"]) - timezone.now().timestamp()) < 60
    assert request.headers["Content-Type"] == "application/json"
    payload = json.loads(body)
    assert payload["type"] == "lead.created"
    assert payload["timestamp"].endswith("Z")
    assert payload["data"]["id"] == lead.pk
    assert payload["data"]["name"] == "Ada Lovelace"
    assert sorted(payload["data"]) == sorted(LEAD_FIELDS)
    # and the delivery is recorded with its one attempt
    delivery = EventDelivery.objects.get()
    assert (delivery.endpoint, delivery.status, delivery.attempt_count) == (endpoint, DeliveryStatus.SUCCEEDED, 1)
    assert _attempts(delivery) == [(1, 200, "")]
    attempt = delivery.attempts.get()
    assert attempt.response_excerpt == "ok"
    assert attempt.duration_ms >= 0


def test_a_wrong_secret_or_a_changed_body_does_not_verify(subscribe, new_lead, receiver):
    # given (the verifier itself must be able to say no)
    _, secret = subscribe(["lead.created"])
    receiver.expect_request("/hook").respond_with_data("ok")
    new_lead()
    request = receiver.log[0][0]
    other_secret = "whsec_" + "A" * 43 + "="

    # then
    assert not verify_standard_webhook(other_secret, request.headers, request.get_data())
    assert not verify_standard_webhook(secret, request.headers, request.get_data() + b" ")


def test_only_subscribed_types_of_the_endpoints_tenant_are_sent(
    subscribe, new_lead, receiver, other_account, committed
):
    # given one endpoint for lead.updated only
    subscribe(["lead.updated"])
    receiver.expect_request("/hook").respond_with_data("ok")

    # when a lead is created (not subscribed), another tenant's lead is updated, then ours is
    lead = new_lead()
    theirs = committed(lambda: lead_create(account=other_account, actor=Principal.platform_key(), name="Other"))
    committed(lambda: lead_update(lead=theirs, actor=Principal.platform_key(), score=10))
    committed(lambda: lead_update(lead=lead, actor=Principal.platform_key(), score=50))

    # then exactly one event went out: our lead's update
    assert [json.loads(entry[0].get_data())["type"] for entry in receiver.log] == ["lead.updated"]
    assert json.loads(receiver.log[0][0].get_data())["data"]["score"] == 50
    assert WebhookEvent.objects.count() == 1


def test_a_turned_off_endpoint_receives_nothing(subscribe, new_lead, receiver):
    endpoint, _ = subscribe(["lead.created"])
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False, disabled_reason=DisabledReason.MANUAL)

    new_lead()

    assert receiver.log == []
    assert not EventDelivery.objects.exists()


def test_a_rolled_back_change_sends_nothing(subscribe, receiver, account, actor, django_capture_on_commit_callbacks):
    subscribe(["lead.created"])

    def fail_after_writing() -> None:
        with transaction.atomic():
            lead_create(account=account, actor=actor, name="Never")
            raise RuntimeError("the request failed after the lead was written")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        fail_after_writing()

    assert receiver.log == []
    assert not WebhookEvent.objects.exists()


def test_inbound_messages_are_message_received_with_their_contact(
    subscribe, receiver, channel, sample, post_webhook, actor, committed
):
    # given an endpoint for customer messages only
    subscribe(["message.received"])
    receiver.expect_request("/hook").respond_with_data("ok")

    # when a customer writes, and a teammate answers
    post_webhook(sample("text"))
    conversation = channel.conversations.get()
    template = {"name": "color_options", "language": "en_US", "parameters": []}
    committed(lambda: message_send(conversation=conversation, actor=actor, template=template))

    # then only the customer's message went out, naming who wrote and on which number
    assert len(receiver.log) == 1
    payload = json.loads(receiver.log[0][0].get_data())
    assert payload["type"] == "message.received"
    data = payload["data"]
    assert (data["direction"], data["text"]) == ("in", "Does it come in another color?")
    assert data["contact"]["wa_id"] == "16505551234"
    assert (data["channel"], data["conversation"]) == (channel.pk, conversation.pk)
    assert "file" not in data["media"]


def test_one_event_reaches_every_subscribed_endpoint_with_one_id(account, actor, receiver, new_lead):
    for path in ("/a", "/b"):
        webhook_endpoint_create(account=account, actor=actor, url=receiver.url_for(path), events=["lead.created"])
        receiver.expect_request(path).respond_with_data("ok")

    new_lead()

    assert sorted(entry[0].path for entry in receiver.log) == ["/a", "/b"]
    assert len({entry[0].headers["webhook-id"] for entry in receiver.log}) == 1


# --- retries ---------------------------------------------------------------------------------------


def test_failures_are_retried_on_the_schedule_until_one_succeeds(subscribe, new_lead, receiver, retry_now):
    # given a receiver that fails twice, then works
    subscribe(["lead.created"])
    receiver.expect_ordered_request("/hook").respond_with_response(Response("busy", status=503))
    receiver.expect_ordered_request("/hook").respond_with_response(Response("oops", status=500))
    receiver.expect_ordered_request("/hook").respond_with_data("ok")

    # when the lead is created: the first attempt fails and the next one waits ~5 seconds
    new_lead()
    delivery = EventDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING
    assert timedelta(seconds=3.9) <= _wait(delivery) <= timedelta(seconds=6.1)

    # when the second attempt fails too, the next one waits ~5 minutes
    retry_now()
    assert timedelta(minutes=3.9) <= _wait(delivery) <= timedelta(minutes=6.1)

    # when the third attempt succeeds
    retry_now()

    # then every attempt is recorded, all with the same webhook-id
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert delivery.next_attempt_at is None
    assert _attempts(delivery) == [(1, 503, "HTTP 503"), (2, 500, "HTTP 500"), (3, 200, "")]
    assert [a.response_excerpt for a in delivery.attempts.order_by("number")] == ["busy", "oops", "ok"]
    assert len({entry[0].headers["webhook-id"] for entry in receiver.log}) == 1
    receiver.check_assertions()


def test_a_receiver_that_never_works_gets_eight_attempts_over_about_a_day(subscribe, new_lead, receiver, retry_now):
    # given
    subscribe(["lead.created"])
    receiver.expect_request("/hook").respond_with_response(Response("down", status=502))

    # when every retry is let through as soon as it is scheduled
    new_lead()
    delivery = EventDelivery.objects.get()
    waits = []
    for _ in range(MAX_ATTEMPTS - 1):
        waits.append(_wait(delivery))
        retry_now()

    # then it gave up after the last attempt, having waited as the schedule says (±20%)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count, delivery.next_attempt_at) == (DeliveryStatus.FAILED, 8, None)
    assert delivery.attempts.count() == 8
    for wait, planned in zip(waits, RETRY_DELAYS, strict=True):
        assert planned * 0.79 <= wait <= planned * 1.21
    total = sum(RETRY_DELAYS, timedelta())
    assert timedelta(hours=24) <= total <= timedelta(hours=30)
    retry_now()
    assert delivery.attempts.count() == 8  # nothing more


@pytest.mark.parametrize("status_code", [400, 401, 403, 404, 422, 301])
def test_other_client_errors_and_redirects_are_not_retried(subscribe, new_lead, receiver, retry_now, status_code):
    subscribe(["lead.created"])
    receiver.expect_request("/hook").respond_with_response(
        Response("no", status=status_code, headers={"Location": "https://elsewhere.example/"})
    )

    new_lead()
    retry_now()

    delivery = EventDelivery.objects.get()
    assert (delivery.status, delivery.attempt_count) == (DeliveryStatus.FAILED, 1)
    assert len(receiver.log) == 1


@pytest.mark.parametrize("status_code", [408, 429])
def test_timeouts_and_rate_limits_are_retried(subscribe, new_lead, receiver, status_code):
    subscribe(["lead.created"])
    receiver.expect_request("/hook").respond_with_response(Response("later", status=status_code))

    new_lead()

    delivery = EventDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING
    assert _wait(delivery) > timedelta(seconds=3)


@pytest.mark.parametrize("retry_after", ["120", "date"])
def test_retry_after_pushes_the_next_attempt_later(subscribe, new_lead, receiver, retry_after):
    subscribe(["lead.created"])
    if retry_after == "date":
        retry_after = (timezone.now() + timedelta(seconds=125)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    receiver.expect_request("/hook").respond_with_response(
        Response("slow down", status=429, headers={"Retry-After": retry_after})
    )

    new_lead()

    wait = _wait(EventDelivery.objects.get())
    assert timedelta(seconds=115) <= wait <= timedelta(seconds=130)


@pytest.mark.parametrize("retry_after", ["9" * 30, "3 days", "Tue, 01 Jan 9999 00:00:00 GMT"])
def test_retry_after_never_waits_more_than_a_day(subscribe, new_lead, receiver, retry_after):
    subscribe(["lead.created"])
    receiver.expect_request("/hook").respond_with_response(
        Response("slow down", status=503, headers={"Retry-After": retry_after})
    )

    new_lead()

    delivery = EventDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING
    assert timedelta(seconds=3) <= _wait(delivery) <= timedelta(hours=24, seconds=5)


def test_a_receiver_that_does_not_answer_in_time_is_retried(subscribe, new_lead, settings, receiver, monkeypatch):
    import httpx

    from integrations.services import delivery as delivery_service

    subscribe(["lead.created"])
    monkeypatch.setattr(delivery_service, "TIMEOUT", httpx.Timeout(0.2, connect=1.0))

    def slow(request):
        import time

        time.sleep(0.6)
        return Response("late")

    receiver.expect_request("/hook").respond_with_handler(slow)

    new_lead()

    delivery = EventDelivery.objects.get()
    attempt = delivery.attempts.get()
    assert (attempt.status_code, attempt.error) == (None, "Timed out")
    assert delivery.status == DeliveryStatus.PENDING


# --- 410, failing endpoints ------------------------------------------------------------------------


def test_410_turns_an_api_endpoint_off_and_tells_the_admins(subscribe, new_lead, receiver, account):
    endpoint, _ = subscribe(["lead.created"])
    UserFactory(account=account, role=Role.CLIENT_ADMIN, email="second-admin@acme.test")
    UserFactory(account=account, role=Role.USER, email="not-an-admin@acme.test")
    receiver.expect_request("/hook").respond_with_response(Response("gone", status=410))

    new_lead()

    endpoint.refresh_from_db()
    assert (endpoint.is_active, endpoint.disabled_reason) == (False, DisabledReason.GONE)
    assert EventDelivery.objects.get().status == DeliveryStatus.FAILED
    assert len(mail.outbox) == 1
    assert sorted(mail.outbox[0].to) == ["admin@acme.test", "second-admin@acme.test"]
    assert endpoint.url in mail.outbox[0].body
    audit = AuditLog.objects.get(action="webhook.disabled")
    assert (audit.actor_label, audit.metadata["reason"]) == ("", "gone")


def test_410_from_a_zapier_hook_removes_the_subscription(subscribe, new_lead, receiver):
    endpoint, _ = subscribe(["lead.created"], source=EndpointSource.ZAPIER)
    receiver.expect_request("/hook").respond_with_response(Response("", status=410))

    new_lead()
    new_lead("Grace Hopper")

    assert not WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    assert len(receiver.log) == 1
    assert AuditLog.objects.filter(action="webhook.deleted", metadata__reason="gone").count() == 1


def test_an_endpoint_failing_for_a_day_is_turned_off_and_the_admins_told(subscribe, new_lead, receiver):
    # given an endpoint that has failed every attempt for more than a day
    endpoint, _ = subscribe(["lead.created"])
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        consecutive_failures=DISABLE_AFTER_FAILURES - 1, failing_since=timezone.now() - timedelta(hours=25)
    )
    receiver.expect_request("/hook").respond_with_response(Response("down", status=500))

    # when it fails once more
    new_lead()

    # then it is off, its pending delivery stops, and the tenant's admins know
    endpoint.refresh_from_db()
    assert (endpoint.is_active, endpoint.disabled_reason) == (False, DisabledReason.FAILING)
    assert endpoint.consecutive_failures == DISABLE_AFTER_FAILURES
    assert len(mail.outbox) == 1
    assert "turned off" in mail.outbox[0].subject
    assert AuditLog.objects.filter(action="webhook.disabled", target_id=str(endpoint.pk)).exists()
    EventDelivery.objects.update(next_attempt_at=timezone.now())
    redrive_due_deliveries()
    assert EventDelivery.objects.get().status == DeliveryStatus.FAILED
    assert len(receiver.log) == 1


def test_many_failures_within_a_day_do_not_turn_an_endpoint_off(subscribe, new_lead, receiver):
    endpoint, _ = subscribe(["lead.created"])
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        consecutive_failures=50, failing_since=timezone.now() - timedelta(hours=2)
    )
    receiver.expect_request("/hook").respond_with_response(Response("down", status=500))

    new_lead()

    endpoint.refresh_from_db()
    assert endpoint.is_active is True
    assert mail.outbox == []


def test_a_success_clears_the_failure_count(subscribe, new_lead, receiver):
    endpoint, _ = subscribe(["lead.created"])
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=7, failing_since=timezone.now())
    receiver.expect_request("/hook").respond_with_data("ok")

    new_lead()

    endpoint.refresh_from_db()
    assert (endpoint.consecutive_failures, endpoint.failing_since) == (0, None)
    assert endpoint.last_success_at is not None


# --- secret rotation --------------------------------------------------------------------------------


def test_during_a_rotation_both_secrets_sign_then_only_the_new_one(subscribe, new_lead, receiver, actor):
    # given a rotated secret with an hour of overlap
    endpoint, old_secret = subscribe(["lead.created"])
    new_secret = webhook_secret_rotate(endpoint=endpoint, actor=actor, overlap=timedelta(hours=1)).secret
    receiver.expect_request("/hook").respond_with_data("ok")

    # when an event goes out during the overlap
    new_lead()

    # then two signatures, one per secret
    request = receiver.log[0][0]
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    assert verify_standard_webhook(old_secret, request.headers, request.get_data())
    assert verify_standard_webhook(new_secret, request.headers, request.get_data())

    # when the overlap has passed
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(previous_secret_expires_at=timezone.now())
    new_lead("Grace Hopper")

    # then only the new secret signs
    request = receiver.log[1][0]
    assert verify_standard_webhook(new_secret, request.headers, request.get_data())
    assert not verify_standard_webhook(old_secret, request.headers, request.get_data())


# --- the SSRF guard ---------------------------------------------------------------------------------


def test_an_endpoint_on_an_internal_address_is_refused_at_delivery(subscribe, new_lead, receiver, settings, retry_now):
    # given an endpoint saved while loopback was allowed, now in production's guard
    subscribe(["lead.created"])
    receiver.expect_request("/hook").respond_with_data("ok")
    settings.OUTBOUND_ALLOW_LOOPBACK = False

    # when
    new_lead()
    retry_now()

    # then nothing reached it, and the one attempt says why
    assert receiver.log == []
    delivery = EventDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    attempt = delivery.attempts.get()
    assert (attempt.status_code, attempt.error) == (None, DESTINATION_NOT_ALLOWED)


def test_a_blocked_delivery_tells_the_tenant_nothing_of_the_internal_network_but_logs_it(
    subscribe, new_lead, receiver, settings, monkeypatch, caplog
):
    # given an endpoint on a name that resolves, inside the server's network, to its own loopback
    fake_dns(monkeypatch)[0]["vm"] = ["127.0.0.1"]
    endpoint, _ = subscribe(["lead.created"])
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=f"http://vm:{receiver.port}/hook")
    settings.OUTBOUND_ALLOW_LOOPBACK = False
    receiver.expect_request("/hook").respond_with_data("ok")
    caplog.set_level(logging.INFO)

    # when an event is delivered
    new_lead()

    # then nothing reached it, and the stored attempt says only that the destination is not allowed
    assert receiver.log == []
    attempt = EventDeliveryAttempt.objects.get()
    assert attempt.error == DESTINATION_NOT_ALLOWED
    assert "127.0.0.1" not in attempt.error
    assert "resolves" not in attempt.error
    # while the server log has what the name resolved to, with the endpoint it concerns
    logged = "\n".join(str(record.msg) for record in caplog.records)
    assert "vm resolves to a blocked address: 127.0.0.1 is a loopback address" in logged
    assert f"'endpoint_id': {endpoint.pk}" in logged


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        ({"gone.partner.example": []}, "Host not found"),
        ({"closed.partner.example": ["127.0.0.1"]}, "Connection refused"),
    ],
)
def test_a_failed_attempt_records_a_category_not_the_error_text(
    subscribe, new_lead, receiver, monkeypatch, names, expected
):
    # given an endpoint whose name does not resolve, or whose server refuses connections
    ((host, addresses),) = names.items()
    fake_dns(monkeypatch)[0][host] = addresses
    endpoint, _ = subscribe(["lead.created"])
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=f"http://{host}:1/hook")

    # when an event is delivered
    new_lead()

    # then the attempt (to be retried) records the category only
    attempt = EventDeliveryAttempt.objects.get()
    assert (attempt.status_code, attempt.error) == (None, expected)
    assert EventDelivery.objects.get().status == DeliveryStatus.PENDING


def test_a_leased_delivery_is_not_sent_twice(subscribe, new_lead, receiver):
    # given a delivery another worker is sending right now (its lease is in the future)
    subscribe(["lead.created"])
    receiver.expect_request("/hook").respond_with_response(Response("", status=500))
    new_lead()
    delivery = EventDelivery.objects.get()
    EventDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() + timedelta(minutes=4))

    # when the beat task runs
    redrive_due_deliveries()

    # then nobody else sent it
    assert EventDeliveryAttempt.objects.count() == 1


def test_old_events_and_expired_idempotency_keys_are_purged(account, settings):
    from integrations.models import IdempotencyKey
    from integrations.tasks import purge_integration_records
    from integrations.tests.factories import EventDeliveryFactory

    old = EventDeliveryFactory(endpoint__account=account)
    WebhookEvent.objects.filter(pk=old.event_id).update(
        created_at=timezone.now() - settings.WEBHOOK_EVENT_RETENTION - timedelta(minutes=1)
    )
    recent = EventDeliveryFactory(endpoint__account=account)
    now = timezone.now()
    IdempotencyKey.objects.create(
        account=account, key="old", operation="x", request_hash="h", status_code=201, response={}, expires_at=now
    )
    IdempotencyKey.objects.create(
        account=account,
        key="new",
        operation="x",
        request_hash="h",
        status_code=201,
        response={},
        expires_at=now + timedelta(hours=1),
    )

    purge_integration_records()

    assert list(EventDelivery.objects.values_list("pk", flat=True)) == [recent.pk]
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


def test_attempts_recorded_before_carry_no_address_once_migrated(subscribe, new_lead, receiver):
    import importlib

    from django.apps import apps

    # given an attempt recorded with what its name resolved to, and one that got an answer
    receiver.expect_request("/hook").respond_with_response(Response("", status=500))
    subscribe(["lead.created"])
    new_lead()
    delivery = EventDelivery.objects.get()
    leaked = EventDeliveryAttempt.objects.create(
        delivery=delivery, number=2, error="Blocked destination: vm resolves to a blocked address: 127.0.0.1."
    )

    # when the data migration runs
    migration = importlib.import_module("integrations.migrations.0003_delivery_errors_without_addresses")
    migration.hide_addresses(apps, None)

    # then the address is gone, and other attempts are untouched
    leaked.refresh_from_db()
    assert leaked.error == DESTINATION_NOT_ALLOWED
    assert delivery.attempts.get(number=1).error == "HTTP 500"
