"""The WhatsApp webhook: verification, signatures, durability, idempotency, message types, statuses."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from inbox.models import (
    Contact,
    Conversation,
    ConversationStatus,
    InboundWebhookEvent,
    Message,
    MessageDirection,
    MessageStatus,
    WebhookEventStatus,
)
from inbox.tests.conftest import VERIFY_TOKEN, sign
from inbox.tests.factories import ChannelFactory, ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db


def _status_wamid(sample, name):
    return sample(name)["entry"][0]["changes"][0]["value"]["statuses"][0]["id"]


# --- GET: subscription check ----------------------------------------------------------------------


def test_subscription_check_echoes_the_challenge_as_text():
    response = Client().get(
        "/webhooks/whatsapp", {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response.content == b"1158201444"


def test_subscription_check_accepts_a_channels_own_verify_token(account):
    ChannelFactory(account=account, verify_token="channel-own-token")
    response = Client().get(
        "/webhooks/whatsapp", {"hub.mode": "subscribe", "hub.verify_token": "channel-own-token", "hub.challenge": "42"}
    )
    assert response.status_code == 200
    assert response.content == b"42"


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
        {},
    ],
)
def test_subscription_check_refuses_anything_else(params):
    assert Client().get("/webhooks/whatsapp", params).status_code == 403


# --- POST: authenticity and durability --------------------------------------------------------------


def test_missing_signature_is_401_and_nothing_is_stored(channel, sample, post_webhook):
    response = post_webhook(sample("text"), signature="")
    assert response.status_code == 401
    assert response.json()["code"] == "signature_missing"
    assert not InboundWebhookEvent.objects.exists()
    assert not Message.objects.exists()


def test_wrong_signature_is_401_and_nothing_is_stored(channel, sample, post_webhook):
    response = post_webhook(sample("text"), secret="not-the-app-secret")
    assert response.status_code == 401
    assert not InboundWebhookEvent.objects.exists()
    assert not Message.objects.exists()


def test_signature_over_other_bytes_is_refused(channel, sample, post_webhook):
    body = json.dumps(sample("text")).encode()
    response = post_webhook(body.replace(b"color", b"colour"), signature=sign(body))
    assert response.status_code == 401
    assert not InboundWebhookEvent.objects.exists()


def test_signature_with_non_ascii_characters_is_401_and_nothing_is_stored(channel, sample, post_webhook):
    # when the signature header holds a character outside ASCII (headers arrive as latin-1)
    response = post_webhook(sample("text"), signature="sha256=\u00e9" + "0" * 63)

    # then it is refused like any wrong signature, not a 500 from the constant-time comparison
    assert response.status_code == 401
    assert not InboundWebhookEvent.objects.exists()
    assert not Message.objects.exists()


def test_malformed_json_is_400(channel, post_webhook):
    response = post_webhook(b"{not json")
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_json"
    assert not InboundWebhookEvent.objects.exists()


def test_json_nested_too_deep_to_decode_is_400_and_nothing_is_stored(channel, post_webhook):
    # when a body nests arrays deeper than the JSON decoder can recurse, before any signature check
    response = post_webhook(b"[" * 100_000)

    # then it is malformed JSON, not a 500 from the decoder's RecursionError
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_json"
    assert not InboundWebhookEvent.objects.exists()


def test_channel_with_its_own_app_secret_verifies_with_it(account, sample, post_webhook):
    ChannelFactory(account=account, phone_number_id="106540352242922", app_secret="channel-secret")
    assert post_webhook(sample("text")).status_code == 401  # the default secret no longer fits
    assert post_webhook(sample("text"), secret="channel-secret").status_code == 200
    assert Message.objects.count() == 1


def test_delivery_is_stored_and_processed(channel, sample, post_webhook):
    response = post_webhook(sample("text"))

    assert response.status_code == 200
    event = InboundWebhookEvent.objects.get()
    assert event.status == WebhookEventStatus.PROCESSED
    assert json.loads(event.body) == sample("text")


# --- messages ------------------------------------------------------------------------------------


def test_text_message_creates_contact_conversation_and_message(channel, sample, post_webhook):
    post_webhook(sample("text"))

    contact = Contact.objects.get()
    assert (contact.account, contact.wa_id, contact.name) == (channel.account, "16505551234", "Sheena Nelson")
    conversation = Conversation.objects.get()
    assert (conversation.channel, conversation.contact, conversation.status) == (channel, contact, "open")
    assert conversation.unread_count == 1
    assert conversation.last_inbound_at is not None
    message = Message.objects.get()
    assert message.direction == MessageDirection.INBOUND
    assert (message.type, message.text) == ("text", "Does it come in another color?")
    assert message.external_id == "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUZBMTFCQjc5MEQxNjQ5NDE3AA=="
    assert message.external_timestamp.timestamp() == 1749416383


def test_redelivery_creates_nothing_new(channel, sample, post_webhook):
    for _ in range(3):
        assert post_webhook(sample("text")).status_code == 200

    assert Message.objects.count() == 1
    assert Contact.objects.count() == 1
    assert Conversation.objects.get().unread_count == 1
    assert InboundWebhookEvent.objects.count() == 3


def test_new_message_reopens_a_resolved_conversation(channel, sample, post_webhook):
    post_webhook(sample("text"))
    Conversation.objects.update(status=ConversationStatus.RESOLVED)

    post_webhook(sample("interactive_button_reply"))

    assert Conversation.objects.get().status == ConversationStatus.OPEN


def test_interactive_button_reply_keeps_the_chosen_title(channel, sample, post_webhook):
    post_webhook(sample("interactive_button_reply"))
    message = Message.objects.get()
    assert message.type == "interactive"
    assert message.text
    assert message.payload["interactive"]["type"] == "button_reply"


def test_reaction_is_stored_and_does_not_count_as_unread(channel, sample, post_webhook):
    post_webhook(sample("reaction"))
    message = Message.objects.get()
    assert (message.type, message.text) == ("reaction", "👍")
    assert message.payload["reaction"]["message_id"].startswith("wamid.")
    assert Conversation.objects.get().unread_count == 0


def test_removed_reaction_is_stored_with_an_empty_emoji(channel, sample, post_webhook):
    payload = sample("reaction")
    raw = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    raw["id"] = "wamid.removed"
    raw["reaction"]["emoji"] = ""
    post_webhook(payload)
    assert Message.objects.get().text == ""


def _with_message(sample, raw_message):
    payload = sample("text")
    value = payload["entry"][0]["changes"][0]["value"]
    value["messages"] = [
        {"from": "16505551234", "id": f"wamid.{raw_message['type']}", "timestamp": "1749416400", **raw_message}
    ]
    return payload


@pytest.mark.parametrize(
    ("raw", "expected_type", "expected_text"),
    [
        (
            {
                "type": "location",
                "location": {"latitude": 38.9, "longitude": -77.0, "name": "Office", "address": "1 Main St"},
            },
            "location",
            "Office, 1 Main St",
        ),
        (
            {
                "type": "contacts",
                "contacts": [{"name": {"formatted_name": "Barbara Johnson"}, "phones": [{"phone": "+1 555"}]}],
            },
            "contacts",
            "Barbara Johnson",
        ),
        ({"type": "button", "button": {"payload": "STOP", "text": "Stop promotions"}}, "button", "Stop promotions"),
        (
            {
                "type": "interactive",
                "interactive": {
                    "type": "list_reply",
                    "list_reply": {"id": "r1", "title": "Blue", "description": "Navy"},
                },
            },
            "interactive",
            "Blue",
        ),
        ({"type": "audio", "audio": {"id": "555", "mime_type": "audio/ogg; codecs=opus", "voice": True}}, "audio", ""),
        (
            {
                "type": "document",
                "document": {"id": "556", "mime_type": "application/pdf", "filename": "quote.pdf", "caption": "Quote"},
            },
            "document",
            "Quote",
        ),
        ({"type": "video", "video": {"id": "557", "mime_type": "video/mp4"}}, "video", ""),
        ({"type": "sticker", "sticker": {"id": "558", "mime_type": "image/webp", "animated": False}}, "sticker", ""),
        ({"type": "order", "order": {"catalog_id": "1", "product_items": []}}, "unsupported", ""),
        ({"type": "unsupported", "errors": [{"code": 131051, "title": "Message type unknown"}]}, "unsupported", ""),
    ],
)
def test_each_message_type_is_kept(channel, sample, post_webhook, settings, raw, expected_type, expected_text):
    settings.GRAPH_API_BASE_URL = "http://127.0.0.1:9"  # media download fails fast; the message stays
    post_webhook(_with_message(sample, raw))

    message = Message.objects.get()
    assert (message.type, message.text) == (expected_type, expected_text)
    assert message.payload["type"] == raw["type"]  # the raw message is kept, whatever its type


# --- statuses ------------------------------------------------------------------------------------


@pytest.fixture
def outbound(channel, sample):
    """The outbound message Meta's sample statuses refer to."""
    conversation = ConversationFactory(account=channel.account, channel=channel)
    return MessageFactory(
        conversation=conversation,
        direction=MessageDirection.OUTBOUND,
        status=MessageStatus.SENT,
        external_id=_status_wamid(sample, "status_sent"),
    )


def _failed_for(sample, wamid):
    payload = sample("status_failed")
    payload["entry"][0]["changes"][0]["value"]["statuses"][0]["id"] = wamid
    return payload


def test_statuses_in_order_advance_the_message(outbound, sample, post_webhook):
    for name, expected in [("status_sent", "sent"), ("status_delivered", "delivered"), ("status_read", "read")]:
        post_webhook(sample(name))
        outbound.refresh_from_db()
        assert outbound.status == expected
    assert outbound.delivered_at is not None
    assert outbound.read_at is not None


def test_a_late_delivered_never_moves_read_back(outbound, sample, post_webhook):
    post_webhook(sample("status_read"))
    post_webhook(sample("status_delivered"))
    post_webhook(sample("status_sent"))

    outbound.refresh_from_db()
    assert outbound.status == MessageStatus.READ
    assert outbound.delivered_at is not None  # the late step is still recorded


def test_failed_keeps_metas_error(outbound, sample, post_webhook):
    post_webhook(_failed_for(sample, outbound.external_id))

    outbound.refresh_from_db()
    assert outbound.status == MessageStatus.FAILED
    assert outbound.error["code"] == 131047
    assert outbound.error["title"] == "Re-engagement message"
    assert "24 hours" in outbound.error["details"]


def test_failed_after_read_does_not_undo_read(outbound, sample, post_webhook):
    post_webhook(sample("status_read"))
    post_webhook(_failed_for(sample, outbound.external_id))
    outbound.refresh_from_db()
    assert outbound.status == MessageStatus.READ


# --- unknown numbers -----------------------------------------------------------------------------


def test_unknown_phone_number_id_is_acknowledged_and_attached_to_no_tenant(account, sample, post_webhook):
    from inbox.metrics import unknown_number_deliveries

    counted = unknown_number_deliveries._value.get()

    # given no channel for the number the notification names
    response = post_webhook(sample("text"))

    # then Meta gets its 200, and the delivery is kept but creates nothing
    assert response.status_code == 200
    assert InboundWebhookEvent.objects.get().status == WebhookEventStatus.IGNORED
    assert not Contact.objects.exists()
    assert not Message.objects.exists()
    assert unknown_number_deliveries._value.get() == counted + 1


def test_a_status_that_overtakes_its_message_is_applied_later(channel, sample, post_webhook):
    from django.utils import timezone

    from inbox.services.ingest import inbound_events_drain

    # given a "delivered" status for a message whose send has not stored its wamid yet
    post_webhook(sample("status_delivered"))
    event = InboundWebhookEvent.objects.get()
    assert event.status == WebhookEventStatus.PENDING
    assert event.retry_at is not None

    # when the message is stored and the deferred delivery comes due
    outbound = MessageFactory(
        conversation=ConversationFactory(account=channel.account, channel=channel),
        direction=MessageDirection.OUTBOUND,
        status=MessageStatus.SENT,
        external_id=_status_wamid(sample, "status_delivered"),
    )
    InboundWebhookEvent.objects.filter(pk=event.pk).update(retry_at=timezone.now())
    inbound_events_drain()

    # then the status is applied and the delivery done
    outbound.refresh_from_db()
    assert outbound.status == MessageStatus.DELIVERED
    assert InboundWebhookEvent.objects.get().status == WebhookEventStatus.PROCESSED


def test_a_status_for_a_message_we_never_sent_is_given_up_after_a_few_tries(channel, sample, post_webhook):
    from django.utils import timezone

    from inbox.services.ingest import MISSING_MESSAGE_ATTEMPTS, inbound_events_drain

    post_webhook(sample("status_read"))
    for _ in range(MISSING_MESSAGE_ATTEMPTS):
        InboundWebhookEvent.objects.update(retry_at=timezone.now())
        inbound_events_drain()

    event = InboundWebhookEvent.objects.get()
    assert event.status == WebhookEventStatus.PROCESSED
    assert event.attempts == MISSING_MESSAGE_ATTEMPTS
