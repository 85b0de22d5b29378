"""Replies through the Graph API, media downloads, and forwarding to the n8n router — each against
a real local HTTP server standing in for Meta or n8n."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from werkzeug import Response

from accounts.principals import Principal
from core.exceptions import Conflict
from core.outbound import DESTINATION_NOT_ALLOWED
from core.tests.resolver import fake_dns
from inbox.models import Message, MessageStatus, RouterConfig, RouterDelivery
from inbox.services.messages import message_send
from inbox.tests.factories import ConversationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def graph(httpserver, settings):
    settings.GRAPH_API_BASE_URL = httpserver.url_for("/v21.0")
    return httpserver


@pytest.fixture
def conversation(channel):
    return ConversationFactory(account=channel.account, channel=channel, last_inbound_at=timezone.now())


def _send(conversation, member, django_capture_on_commit_callbacks, **kwargs):
    with django_capture_on_commit_callbacks(execute=True):
        message = message_send(conversation=conversation, actor=Principal.for_user(member), **kwargs)
    message.refresh_from_db()
    return message


def test_reply_reaches_graph_api_with_the_channels_token_and_stores_the_wamid(
    graph, conversation, member, django_capture_on_commit_callbacks
):
    graph.expect_request(
        f"/v21.0/{conversation.channel.phone_number_id}/messages",
        method="POST",
        headers={"Authorization": "Bearer EAAG-test-access-token"},
    ).respond_with_json({"messaging_product": "whatsapp", "messages": [{"id": "wamid.OUT1"}]})

    message = _send(conversation, member, django_capture_on_commit_callbacks, text="Yes, in blue too.")

    body = json.loads(graph.log[0][0].data)
    assert body["to"] == conversation.contact.wa_id
    assert body["text"]["body"] == "Yes, in blue too."
    assert (message.external_id, message.status) == ("wamid.OUT1", MessageStatus.SENT)
    assert message.sender_user == member


def test_template_reply_sends_name_language_and_parameters(
    graph, conversation, member, django_capture_on_commit_callbacks
):
    graph.expect_request(f"/v21.0/{conversation.channel.phone_number_id}/messages").respond_with_json(
        {"messages": [{"id": "wamid.T1"}]}
    )
    _send(
        conversation,
        member,
        django_capture_on_commit_callbacks,
        template={"name": "order_update", "language": "en_US", "parameters": ["#123", "Friday"]},
    )
    body = json.loads(graph.log[0][0].data)
    assert body["type"] == "template"
    assert body["template"]["name"] == "order_update"
    assert body["template"]["language"] == {"code": "en_US"}
    assert [p["text"] for p in body["template"]["components"][0]["parameters"]] == ["#123", "Friday"]


def test_server_error_is_retried_then_succeeds(graph, conversation, member, django_capture_on_commit_callbacks):
    path = f"/v21.0/{conversation.channel.phone_number_id}/messages"
    graph.expect_ordered_request(path).respond_with_json({"error": {"message": "busy"}}, status=500)
    graph.expect_ordered_request(path).respond_with_json({"error": {"message": "slow down", "code": 4}}, status=429)
    graph.expect_ordered_request(path).respond_with_json({"messages": [{"id": "wamid.R3"}]})

    message = _send(conversation, member, django_capture_on_commit_callbacks, text="hello")

    assert len(graph.log) == 3
    assert (message.status, message.external_id) == (MessageStatus.SENT, "wamid.R3")


def test_a_request_timeout_is_retried_like_a_server_error(
    graph, conversation, member, django_capture_on_commit_callbacks
):
    # given Meta gives up waiting for the first request (408), then accepts it
    path = f"/v21.0/{conversation.channel.phone_number_id}/messages"
    graph.expect_ordered_request(path).respond_with_json({"error": {"message": "timed out"}}, status=408)
    graph.expect_ordered_request(path).respond_with_json({"messages": [{"id": "wamid.R408"}]})

    # when a reply is sent
    message = _send(conversation, member, django_capture_on_commit_callbacks, text="hello")

    # then it went out on the second try
    assert len(graph.log) == 2
    assert (message.status, message.external_id) == (MessageStatus.SENT, "wamid.R408")


def test_client_error_is_not_retried_and_keeps_metas_error(
    graph, conversation, member, django_capture_on_commit_callbacks
):
    graph.expect_request(f"/v21.0/{conversation.channel.phone_number_id}/messages").respond_with_json(
        {
            "error": {
                "message": "(#131030) Recipient phone number not in allowed list",
                "type": "OAuthException",
                "code": 131030,
            }
        },
        status=400,
    )

    message = _send(conversation, member, django_capture_on_commit_callbacks, text="hello")

    assert len(graph.log) == 1
    assert message.status == MessageStatus.FAILED
    assert message.error["code"] == 131030
    assert "allowed list" in message.error["message"]


def test_persistent_server_errors_give_up_as_failed(graph, conversation, member, django_capture_on_commit_callbacks):
    graph.expect_request(f"/v21.0/{conversation.channel.phone_number_id}/messages").respond_with_data(
        "oops", status=503
    )

    message = _send(conversation, member, django_capture_on_commit_callbacks, text="hello")

    assert len(graph.log) == 7  # the first attempt and six retries
    assert message.status == MessageStatus.FAILED
    assert message.error["http_status"] == 503


def test_free_text_outside_the_24_hour_window_is_refused(conversation, member):
    conversation.last_inbound_at = timezone.now() - timedelta(hours=25)
    conversation.save()

    with pytest.raises(Conflict) as raised:
        message_send(conversation=conversation, actor=Principal.for_user(member), text="late")

    assert raised.value.code == "customer_window_closed"
    assert not Message.objects.exists()


def test_inbound_image_is_downloaded_into_storage(graph, channel, sample, post_webhook, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    media_url = graph.url_for("/media/blob")
    graph.expect_request(
        "/v21.0/1003383421387256", headers={"Authorization": "Bearer EAAG-test-access-token"}
    ).respond_with_json({"url": media_url, "mime_type": "image/jpeg", "id": "1003383421387256"})
    graph.expect_request("/media/blob").respond_with_data(b"\xff\xd8jpeg-bytes", content_type="image/jpeg")

    post_webhook(sample("image"))

    message = Message.objects.get()
    assert message.type == "image"
    assert message.text == "This one"
    assert message.media["download_status"] == "stored"
    assert message.media["file"].endswith(".jpg")
    with default_storage.open(message.media["file"]) as stored:
        assert stored.read() == b"\xff\xd8jpeg-bytes"


# --- n8n router ----------------------------------------------------------------------------------


def test_inbound_message_is_forwarded_to_the_master_router_signed(httpserver, channel, sample, post_webhook, settings):
    settings.N8N_MASTER_ROUTER_URL = httpserver.url_for("/webhook/router")
    settings.N8N_MASTER_ROUTER_SECRET = "router-secret"
    httpserver.expect_request("/webhook/router", method="POST").respond_with_data("ok")

    post_webhook(sample("text"))

    request = httpserver.log[0][0]
    body = request.get_data()
    expected = hmac.new(b"router-secret", request.headers["X-SkyBot-Timestamp"].encode() + b"." + body, hashlib.sha256)
    assert request.headers["X-SkyBot-Signature"] == "sha256=" + expected.hexdigest()
    data = json.loads(body)
    assert data["event"] == "message.received"
    assert data["message"]["text"] == "Does it come in another color?"
    assert data["contact"]["wa_id"] == "16505551234"
    assert data["account"]["slug"] == channel.account.slug
    delivery = RouterDelivery.objects.get()
    assert (delivery.attempt, delivery.status_code, delivery.succeeded) == (1, 200, True)


def test_router_failures_are_retried_and_every_attempt_recorded(httpserver, channel, sample, post_webhook, settings):
    settings.N8N_MASTER_ROUTER_URL = httpserver.url_for("/webhook/router")
    httpserver.expect_ordered_request("/webhook/router").respond_with_response(Response("down", status=502))
    httpserver.expect_ordered_request("/webhook/router").respond_with_data("ok")

    post_webhook(sample("text"))

    attempts = list(RouterDelivery.objects.order_by("attempt").values_list("attempt", "status_code", "succeeded"))
    assert attempts == [(1, 502, False), (2, 200, True)]


def test_a_tenants_own_router_overrides_the_master(httpserver, channel, sample, post_webhook, settings):
    settings.N8N_MASTER_ROUTER_URL = httpserver.url_for("/master")
    RouterConfig.objects.create(account=channel.account, url=httpserver.url_for("/tenant"), secret="own")
    httpserver.expect_request("/tenant").respond_with_data("ok")

    post_webhook(sample("text"))

    assert [entry[0].path for entry in httpserver.log] == ["/tenant"]


def test_a_tenants_router_on_an_internal_address_is_refused_and_not_retried(
    httpserver, channel, sample, post_webhook, settings
):
    # given production's guard, and a tenant router that names the local machine
    settings.OUTBOUND_ALLOW_LOOPBACK = False
    RouterConfig.objects.create(account=channel.account, url=httpserver.url_for("/tenant"), secret="own")
    httpserver.expect_request("/tenant").respond_with_data("ok")

    # when a customer writes
    post_webhook(sample("text"))

    # then nothing reached the address, and the one attempt says why
    assert httpserver.log == []
    delivery = RouterDelivery.objects.get()
    assert (delivery.status_code, delivery.succeeded) == (None, False)
    assert delivery.error == DESTINATION_NOT_ALLOWED


def test_a_refused_router_attempt_does_not_record_what_its_name_resolves_to(
    httpserver, channel, sample, post_webhook, settings, monkeypatch
):
    # given production's guard, and a tenant router on an internal name that resolves to loopback
    fake_dns(monkeypatch)[0]["n8n.internal"] = ["127.0.0.1"]
    settings.OUTBOUND_ALLOW_LOOPBACK = False
    RouterConfig.objects.create(account=channel.account, url=f"http://n8n.internal:{httpserver.port}/r", secret="own")

    # when a customer writes
    post_webhook(sample("text"))

    # then the recorded attempt names neither the address nor the resolution
    assert httpserver.log == []
    error = RouterDelivery.objects.get().error
    assert error == DESTINATION_NOT_ALLOWED
    assert "127.0.0.1" not in error
    assert "resolves" not in error


def test_the_master_router_is_the_operators_and_may_be_internal(httpserver, channel, sample, post_webhook, settings):
    settings.OUTBOUND_ALLOW_LOOPBACK = False
    settings.N8N_MASTER_ROUTER_URL = httpserver.url_for("/master")
    httpserver.expect_request("/master").respond_with_data("ok")

    post_webhook(sample("text"))

    assert RouterDelivery.objects.get().succeeded is True
