"""Live feeds (`/ws/inbox/`, `/ws/agents/`) accept an access token only while its sign-in is valid."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator

from accounts.services.auth import auth_logout, auth_tokens_issue
from skybot_inbox.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = [(b"origin", b"http://testserver")]


def first_frame(path: str) -> dict[str, Any]:
    async def scenario() -> dict[str, Any]:
        communicator = WebsocketCommunicator(application, path, headers=ORIGIN)
        connected, _ = await communicator.connect()
        assert connected
        frame = await communicator.receive_output(timeout=5)
        if frame["type"] == "websocket.send":
            # An open socket must be closed, or its channel-layer receive loop outlives the test.
            await communicator.disconnect()
        return frame

    return async_to_sync(scenario)()


@pytest.mark.parametrize("feed", ["inbox", "agents"])
def test_access_token_of_a_logged_out_sign_in_cannot_open_a_feed(member, feed):
    # given a sign-in whose access token opens the feed
    pair = auth_tokens_issue(user=member)
    assert first_frame(f"/ws/{feed}/?token={pair.access}")["type"] == "websocket.send"

    # when the person logs out (the whole sign-in is revoked)
    auth_logout(raw_refresh=pair.refresh)

    # then the same access token is refused, like it is on the HTTP API
    assert first_frame(f"/ws/{feed}/?token={pair.access}") == {"type": "websocket.close", "code": 4401}


def test_access_token_of_another_sign_in_still_opens_the_feed(member):
    # given two sign-ins of the same person, one of them logged out
    ended = auth_tokens_issue(user=member)
    kept = auth_tokens_issue(user=member)
    auth_logout(raw_refresh=ended.refresh)

    # when the other sign-in's token opens the feed
    frame = first_frame(f"/ws/inbox/?token={kept.access}")

    # then it is accepted
    assert frame["type"] == "websocket.send"
