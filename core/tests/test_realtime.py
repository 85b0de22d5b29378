"""Live feeds keep working as people come and go: a page opened after every other one closed still
receives events."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator

from accounts.services.auth import auth_tokens_issue
from core.realtime import publish
from skybot_inbox.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = [(b"origin", b"http://testserver")]


async def open_feed(token: str) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, f"/ws/inbox/?token={token}", headers=ORIGIN)
    connected, _ = await communicator.connect()
    assert connected
    assert (await communicator.receive_json_from(timeout=5))["event"] == "ready"
    return communicator


def test_a_feed_opened_after_the_last_one_closed_receives_events(member):
    # given a page that opened the tenant's feed and was closed again (its count went back to 0)
    token = auth_tokens_issue(user=member).access

    async def scenario() -> None:
        first = await open_feed(token)
        await first.disconnect()

        # when another page opens the feed and an event is published
        second = await open_feed(token)
        await sync_to_async(publish)(account_id=member.account_id, feed="inbox", event="ping.test", data={"n": 1})

        # then it arrives
        assert await second.receive_json_from(timeout=5) == {"event": "ping.test", "data": {"n": 1}}
        await second.disconnect()

    async_to_sync(scenario)()
