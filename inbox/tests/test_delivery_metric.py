"""`skybot_realtime_delivery_seconds`: the time from receiving a webhook to a signed-in browser's
socket getting the message it carried, observed once per socket by the inbox consumer; the receipt
time travels beside the event and never reaches the browser."""

from __future__ import annotations

import time

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.test import Client
from prometheus_client import REGISTRY

from accounts.models import User
from accounts.services.auth import auth_tokens_issue
from inbox.models import InboundWebhookEvent
from skybot_inbox.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://testserver")


def delivered(suffix: str) -> float:
    value = REGISTRY.get_sample_value(f"skybot_realtime_delivery_seconds_{suffix}", {"feed": "inbox"})
    return value or 0.0


async def open_feed(headers: list[tuple[bytes, bytes]], path: str = "/ws/inbox/") -> WebsocketCommunicator:
    feed = WebsocketCommunicator(application, path, headers=[ORIGIN, *headers])
    connected, _ = await feed.connect()
    assert connected
    assert (await feed.receive_json_from(timeout=5))["event"] == "ready"
    return feed


def test_a_message_reaching_a_signed_in_browser_is_timed_from_its_webhook(member, channel, sample, post_webhook):
    # given a person signed in to the web UI, whose page holds the inbox feed with its session cookie
    browser = Client()
    browser.force_login(member)
    cookie = f"{django_settings.SESSION_COOKIE_NAME}={browser.cookies[django_settings.SESSION_COOKIE_NAME].value}"
    wamid = sample("text")["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    count_before, sum_before = delivered("count"), delivered("sum")

    async def scenario() -> tuple[float, float]:
        feed = await open_feed([(b"cookie", cookie.encode())])

        # when Meta posts a customer's message and it is processed
        posted = time.time()
        response = await sync_to_async(post_webhook)(sample("text"))
        assert response.status_code == 200
        events = [await feed.receive_json_from(timeout=5) for _ in range(2)]
        arrived = time.time()

        # then the page gets the conversation and the message as always: the event and its data only
        assert [e["event"] for e in events] == ["conversation.created", "message.created"]
        assert all(set(event) == {"event", "data"} for event in events)
        assert events[1]["data"]["external_id"] == wamid
        assert "received_at" not in events[1]["data"]
        await feed.disconnect()
        return posted, arrived

    posted, arrived = async_to_sync(scenario)()

    # and the histogram counted that one message (not the conversation event), timed from the
    # webhook's receipt to the socket
    assert delivered("count") == count_before + 1
    received = InboundWebhookEvent.objects.get().received_at.timestamp()
    assert posted <= received <= arrived
    assert 0 <= delivered("sum") - sum_before <= arrived - received


def test_each_socket_counts_its_own_delivery_and_a_closed_one_counts_none(
    member, viewer, channel, sample, post_webhook, settings
):
    # given two people watching the inbox, one of whom has lost access since (the consumer re-reads
    # access before every event here)
    settings.REALTIME_ACCESS_RECHECK_SECONDS = 0
    tokens = [auth_tokens_issue(user=person).access for person in (member, viewer)]
    count_before = delivered("count")

    async def scenario() -> None:
        watching = await open_feed([], f"/ws/inbox/?token={tokens[0]}")
        revoked = await open_feed([], f"/ws/inbox/?token={tokens[1]}")
        await sync_to_async(User.objects.filter(pk=viewer.pk).update)(is_active=False)

        # when a customer's message arrives
        await sync_to_async(post_webhook)(sample("text"))

        # then the watching page gets it and the other is closed without it
        events = [await watching.receive_json_from(timeout=5) for _ in range(2)]
        assert events[1]["event"] == "message.created"
        assert await revoked.receive_output(timeout=5) == {"type": "websocket.close", "code": 4401}
        await watching.disconnect()

    async_to_sync(scenario)()

    # and only the delivery that happened was counted
    assert delivered("count") == count_before + 1
