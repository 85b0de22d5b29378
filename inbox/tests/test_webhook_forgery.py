"""An unauthenticated notification costs the server no more than a genuine one: the work done
before the signature is checked is bounded (a few numbers, one query), whatever the body names."""

from __future__ import annotations

import gc
import json
from typing import Any

import pytest
from django.test import Client

from inbox.models import Channel, InboundWebhookEvent, Message
from inbox.services.webhooks import MAX_NUMBERS_PER_DELIVERY
from inbox.tests.conftest import sign
from inbox.tests.factories import ChannelFactory
from inbox.tests.test_fastpath import call

pytestmark = pytest.mark.django_db


def _delivery(numbers: list[str], *, sample: Any = None) -> bytes:
    """A notification whose entries name `numbers`; with `sample`, each entry is that sample text."""
    entries = []
    for index, number in enumerate(numbers):
        if sample is None:
            change = {"field": "messages", "value": {"metadata": {"phone_number_id": number}}}
        else:
            change = sample("text")["entry"][0]["changes"][0]
            change["value"]["metadata"]["phone_number_id"] = number
            change["value"]["messages"][0]["id"] = f"wamid.forgery.{index}"
        entries.append({"id": "102290129340398", "changes": [change]})
    payload = {"object": "whatsapp_business_account", "entry": entries}
    return json.dumps(payload, separators=(",", ":")).encode()


def _post_forged(body: bytes) -> Any:
    """POST `body` signed with a secret the sender guessed."""
    headers = {"HTTP_X_HUB_SIGNATURE_256": sign(body, "guessed-secret")}
    return Client().post("/webhooks/whatsapp", data=body, content_type="application/json", **headers)


def _forged_body(*real: str) -> bytes:
    """25,000 numbers, made up but for `real` ones first, in just under 2 MB (the body-size cap),
    one bare entry each."""
    numbers = [*real, *(f"9{n:014d}" for n in range(25_000 - len(real)))]
    entries = [{"changes": [{"value": {"metadata": {"phone_number_id": number}}}]} for number in numbers]
    return json.dumps({"entry": entries}, separators=(",", ":")).encode()


@pytest.fixture
def own_secret_number(other_account) -> Channel:
    """A tenant's number with its own app secret: the platform's secret alone no longer decides."""
    return ChannelFactory(account=other_account, app_secret="tenant-own-app-secret")


def test_a_forged_body_naming_25000_numbers_is_refused_without_a_lookup(
    channel, own_secret_number, django_assert_max_num_queries
):
    # given a forged 2 MB notification naming 25,000 made-up numbers and two real ones
    body = _forged_body(channel.phone_number_id, own_secret_number.phone_number_id)
    assert len(body) < 2 * 1024 * 1024

    # when it is posted with a signature the sender made up (once through Django, once the fast path)
    with django_assert_max_num_queries(1):  # whether any number has its own app secret
        response = _post_forged(body)
    with django_assert_max_num_queries(0):
        status, _, content = call(body, signature=sign(body, "guessed-secret"))

    # then it is refused before any number is looked up, and nothing is stored
    assert response.status_code == 400
    assert response.json()["code"] == "too_many_numbers"
    assert (status[:3], json.loads(content)["code"]) == ("400", "too_many_numbers")
    assert not InboundWebhookEvent.objects.exists()


def test_without_own_app_secrets_a_forged_body_is_refused_before_it_is_decoded(channel, django_assert_max_num_queries):
    # given numbers that all use the platform's app secret, and a forged 2 MB body that would not
    # even decode
    body = _forged_body()[:-2]

    # when it is posted with a signature the sender made up
    with django_assert_max_num_queries(1):  # whether any number has its own app secret
        response = _post_forged(body)

    # then it is refused on its signature alone: not decoded (no malformed-JSON answer), nothing stored
    assert response.status_code == 401
    assert response.json()["code"] == "signature_invalid"
    assert not InboundWebhookEvent.objects.exists()


def test_a_forged_body_within_the_limit_costs_one_lookup(channel, own_secret_number, django_assert_max_num_queries):
    # given a forged notification naming as many made-up numbers as a delivery may
    body = _delivery([f"9{n:014d}" for n in range(MAX_NUMBERS_PER_DELIVERY)])
    _post_forged(body)  # (the answer to "any own app secret?" is remembered for a while)

    # when it is posted with a wrong signature, then its numbers are looked up in one query
    with django_assert_max_num_queries(1):
        response = _post_forged(body)

    # and it is refused with nothing stored
    assert response.status_code == 401
    assert not InboundWebhookEvent.objects.exists()


def test_a_signature_that_is_no_sha256_digest_is_refused_before_the_body_is_read(
    channel, django_assert_max_num_queries
):
    body = _forged_body()

    with django_assert_max_num_queries(0):
        status, _, content = call(body, signature="sha256=" + "z" * 64)

    assert status.startswith("401")
    assert json.loads(content)["code"] == "signature_invalid"
    assert not InboundWebhookEvent.objects.exists()


def test_a_genuine_delivery_naming_as_many_numbers_as_allowed_is_ingested(
    account, sample, post_webhook, django_assert_max_num_queries
):
    # given as many channels as a delivery may name, all on the platform's app
    channels = ChannelFactory.create_batch(MAX_NUMBERS_PER_DELIVERY, account=account)
    body = _delivery([channel.phone_number_id for channel in channels], sample=sample)

    # when Meta delivers one message for each, signed
    response = post_webhook(body)

    # then every message is stored, each on its own number
    assert response.status_code == 200
    assert Message.objects.count() == MAX_NUMBERS_PER_DELIVERY
    assert {m.channel_id for m in Message.objects.all()} == {c.pk for c in channels}


def test_a_signed_delivery_naming_more_numbers_than_allowed_is_refused(account, sample, post_webhook):
    # given one more channel than a delivery may name
    channels = ChannelFactory.create_batch(MAX_NUMBERS_PER_DELIVERY + 1, account=account)
    body = _delivery([channel.phone_number_id for channel in channels], sample=sample)

    # when a delivery names them all, even correctly signed
    response = post_webhook(body)

    # then it is refused as a whole (Meta names one business account's numbers per delivery)
    assert response.status_code == 400
    assert response.json()["code"] == "too_many_numbers"
    assert not Message.objects.exists()


def test_decoding_a_body_leaves_the_garbage_collector_running(channel, sample, post_webhook):
    # given a process whose cyclic garbage collector runs
    assert gc.isenabled()

    # when a genuine notification and malformed JSON are decoded
    post_webhook(sample("text"))
    post_webhook(b"{not json")

    # then it still runs
    assert gc.isenabled()
