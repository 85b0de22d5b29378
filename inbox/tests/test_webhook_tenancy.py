"""The WhatsApp webhook keeps tenants apart: a delivery is only accepted when every number it names
verifies with the secret that signed it, and unsigned junk cannot grow the per-process secret cache."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from django.test import Client

from inbox.models import InboundWebhookEvent, Message, MessageDirection, MessageStatus
from inbox.services.webhooks import _secret_cache
from inbox.tests.conftest import APP_SECRET, sign
from inbox.tests.factories import ChannelFactory, ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db


def _entry_for(sample: Any, name: str, phone_number_id: str, *, wamid: str | None = None) -> dict[str, Any]:
    entry = copy.deepcopy(sample(name)["entry"][0])
    value = entry["changes"][0]["value"]
    value["metadata"]["phone_number_id"] = phone_number_id
    if wamid is not None:
        for item in value.get("messages", []) + value.get("statuses", []):
            item["id"] = wamid
    return entry


def test_a_tenant_secret_cannot_sign_messages_into_another_tenants_number(account, other_account, sample, post_webhook):
    # given tenant A's channel with its own app secret (which tenant A chose) and tenant B's channel
    own = ChannelFactory(account=account, app_secret="tenant-a-secret")
    victim = ChannelFactory(account=other_account)
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            _entry_for(sample, "text", own.phone_number_id, wamid="wamid.own"),
            _entry_for(sample, "text", victim.phone_number_id, wamid="wamid.forged"),
        ],
    }

    # when tenant A signs a delivery that names its own number first and tenant B's number after
    response = post_webhook(payload, secret="tenant-a-secret")

    # then it is refused, nothing is stored, and tenant B has no forged message
    assert response.status_code == 401
    assert response.json()["code"] == "signature_invalid"
    assert not InboundWebhookEvent.objects.exists()
    assert not Message.objects.filter(account=other_account).exists()


def test_a_tenant_secret_cannot_forge_statuses_of_another_tenants_messages(
    account, other_account, sample, post_webhook
):
    # given tenant B's sent message, and tenant A's channel with its own app secret
    own = ChannelFactory(account=account, app_secret="tenant-a-secret")
    victim = ChannelFactory(account=other_account)
    conversation = ConversationFactory(account=other_account, channel=victim)
    sent = MessageFactory(
        conversation=conversation,
        direction=MessageDirection.OUTBOUND,
        status=MessageStatus.SENT,
        external_id="wamid.victim",
    )
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            _entry_for(sample, "text", own.phone_number_id, wamid="wamid.own"),
            _entry_for(sample, "status_failed", victim.phone_number_id, wamid="wamid.victim"),
        ],
    }

    # when tenant A signs a failure status for tenant B's message
    response = post_webhook(payload, secret="tenant-a-secret")

    # then it is refused and the message keeps its status
    assert response.status_code == 401
    sent.refresh_from_db()
    assert sent.status == MessageStatus.SENT


def test_one_delivery_for_several_numbers_of_the_same_app_is_accepted(account, other_account, sample, post_webhook):
    # given two tenants' channels that both use the platform's app secret
    first = ChannelFactory(account=account)
    second = ChannelFactory(account=other_account)
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            _entry_for(sample, "text", first.phone_number_id, wamid="wamid.first"),
            _entry_for(sample, "text", second.phone_number_id, wamid="wamid.second"),
        ],
    }

    # when Meta delivers both in one notification signed with that secret
    response = post_webhook(payload, secret=APP_SECRET)

    # then both are processed, each into its own tenant
    assert response.status_code == 200
    assert Message.objects.get(external_id="wamid.first").account == account
    assert Message.objects.get(external_id="wamid.second").account == other_account


def test_unsigned_deliveries_naming_unknown_numbers_do_not_grow_the_secret_cache(sample):
    # given an empty per-process cache of app secrets
    _secret_cache.clear()

    # when many deliveries with made-up numbers and bad signatures arrive
    for number in range(50):
        payload = sample("text")
        payload["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = f"9{number:020d}"
        body = json.dumps(payload).encode()
        response = Client().post(
            "/webhooks/whatsapp", data=body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256="sha256=00"
        )
        assert response.status_code == 401

    # then none of those numbers was remembered
    assert not any(key.startswith("9") for key in _secret_cache)


def test_a_known_number_is_still_verified_with_its_own_secret(account, sample, post_webhook):
    # given a channel with its own secret
    channel = ChannelFactory(account=account, app_secret="channel-secret")
    payload = {"object": "whatsapp_business_account", "entry": [_entry_for(sample, "text", channel.phone_number_id)]}

    # when the delivery is signed with the platform's secret, then with the channel's
    refused = post_webhook(payload, secret=APP_SECRET)
    accepted = post_webhook(
        json.dumps(payload).encode(), signature=sign(json.dumps(payload).encode(), "channel-secret")
    )

    # then only the channel's own secret is accepted
    assert refused.status_code == 401
    assert accepted.status_code == 200
    assert Message.objects.filter(account=account).count() == 1


def test_a_delivery_naming_thousands_of_numbers_is_refused_cleanly(account, sample, post_webhook):
    # given a channel, and a delivery that also names 1,200 other numbers
    channel = ChannelFactory(account=account)
    entries = [_entry_for(sample, "text", channel.phone_number_id, wamid="wamid.real")]
    entries += [_entry_for(sample, "text", f"7{n:010d}", wamid=f"wamid.{n}") for n in range(1200)]
    payload = {"object": "whatsapp_business_account", "entry": entries}

    # when it arrives with a wrong signature
    response = post_webhook(payload, signature="sha256=" + "0" * 64)

    # then it is an ordinary 401 (no database error) and nothing is stored
    assert response.status_code == 401
    assert not InboundWebhookEvent.objects.exists()
