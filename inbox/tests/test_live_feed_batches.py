"""The inbox feed takes a published batch of events as one channel-layer message and still hands
the browser one frame per event, complete and in order; while any socket of the tenant cannot take
batches (another version of the consumer during a deploy), events go one by one to every socket."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from channels.testing import WebsocketCommunicator
from django.urls import path

from accounts.consumers import TenantFeedConsumer
from accounts.services.auth import auth_tokens_issue
from core.realtime import FeedEvent, publish_many
from skybot_inbox.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = [(b"origin", b"http://testserver")]


class EventByEventInboxConsumer(TenantFeedConsumer):
    """The inbox feed's consumer without batches: one channel-layer message per event."""

    feed = "inbox"


event_by_event_application = AllowedHostsOriginValidator(
    AuthMiddlewareStack(URLRouter([path("ws/inbox/", EventByEventInboxConsumer.as_asgi())]))
)


def token_for(user: Any) -> str:
    return auth_tokens_issue(user=user).access


async def open_feed(token: str, app: Any = application) -> WebsocketCommunicator:
    feed = WebsocketCommunicator(app, f"/ws/inbox/?token={token}", headers=ORIGIN)
    connected, _ = await feed.connect()
    assert connected
    assert (await feed.receive_json_from(timeout=5))["event"] == "ready"
    # The consumer answers a ping only once it has finished connecting (joined every group).
    await feed.send_json_to({"type": "ping"})
    assert (await feed.receive_json_from(timeout=5))["event"] == "pong"
    return feed


def events_for(account_id: int, count: int) -> list[FeedEvent]:
    names = ["conversation.updated", "message.created", "message.status"]
    return [FeedEvent(account_id, "inbox", names[n % 3], {"n": n}) for n in range(count)]


def publish(events: list[FeedEvent]) -> None:
    # publish_many sends after commit; outside a transaction that is at once
    publish_many(events)


async def receive_all(feed: WebsocketCommunicator, count: int) -> list[dict[str, Any]]:
    return [await feed.receive_json_from(timeout=10) for _ in range(count)]


def test_a_batch_larger_than_a_channel_queue_reaches_every_socket_whole_and_in_order(member, viewer):
    # given two people of the tenant watching the inbox
    events = events_for(member.account_id, 300)
    tokens = [token_for(person) for person in (member, viewer)]

    async def scenario() -> None:
        feeds = [await open_feed(token) for token in tokens]

        # when one drain batch publishes 300 events at once (a channel queue holds 100 messages)
        await sync_to_async(publish)(events)

        # then each page gets every event as its own frame, in the order published, and nothing more
        for feed in feeds:
            frames = await receive_all(feed, len(events))
            assert [(frame["event"], frame["data"]) for frame in frames] == [(e.event, e.data) for e in events]
            assert await feed.receive_nothing(timeout=0.3)
            await feed.disconnect()

    async_to_sync(scenario)()


def test_while_one_socket_cannot_take_batches_every_socket_gets_each_event_once(member, viewer):
    events = events_for(member.account_id, 30)
    member_token, viewer_token = token_for(member), token_for(viewer)

    async def scenario() -> None:
        # given a page that came and went (its counts must not linger), then one page served by a
        # consumer without batches and one by the current consumer
        gone = await open_feed(member_token)
        await gone.disconnect()
        older = await open_feed(viewer_token, event_by_event_application)
        current = await open_feed(member_token)

        # when a batch is published
        await sync_to_async(publish)(events)

        # then both get each event exactly once, in order
        for feed in (older, current):
            frames = await receive_all(feed, len(events))
            assert [frame["data"]["n"] for frame in frames] == list(range(30))
            assert await feed.receive_nothing(timeout=0.3)

        # and once the older page has gone, the current one still gets the next batch whole
        await older.disconnect()
        await sync_to_async(publish)(events[:5])
        assert [frame["data"]["n"] for frame in await receive_all(current, 5)] == list(range(5))
        assert await current.receive_nothing(timeout=0.3)
        await current.disconnect()

    async_to_sync(scenario)()
