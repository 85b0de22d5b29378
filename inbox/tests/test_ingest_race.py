"""Workers draining at the same moment, with redeliveries spread over separate deliveries, create
each message once."""

from __future__ import annotations

import json
import threading

import pytest
from django.db import connection

from inbox.models import Contact, Conversation, InboundWebhookEvent, Message, WebhookEventStatus
from inbox.services.ingest import inbound_events_drain
from inbox.tests.conftest import SAMPLE_PHONE_NUMBER_ID
from inbox.tests.factories import ChannelFactory


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_workers_create_each_message_once(account, sample):
    # given the same notification delivered many times, plus another message, all stored
    ChannelFactory(account=account, phone_number_id=SAMPLE_PHONE_NUMBER_ID)
    body = json.dumps(sample("text"))
    other = json.dumps(sample("interactive_button_reply"))
    InboundWebhookEvent.objects.bulk_create([InboundWebhookEvent(body=body if i % 3 else other) for i in range(60)])
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            inbound_events_drain(batch_size=7)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    # when four workers drain at once, in small batches
    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then every delivery is processed and each message exists once
    assert errors == []
    assert not InboundWebhookEvent.objects.filter(status=WebhookEventStatus.PENDING).exists()
    assert Message.objects.count() == 2
    assert Contact.objects.count() == 1
    assert Conversation.objects.count() == 1
    assert Conversation.objects.get().unread_count == 2
