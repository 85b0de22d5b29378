"""The `/ws/inbox/` live feed: authentication, tenant isolation, events after commit, and events
crossing processes through Redis."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings

from accounts.services.auth import auth_tokens_issue
from skybot_inbox.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = [(b"origin", b"http://testserver")]


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    """Run one async scenario on one event loop (sockets live as long as the loop)."""
    async_to_sync(scenario)()


async def connect(path: str) -> tuple[WebsocketCommunicator, dict[str, Any]]:
    communicator = WebsocketCommunicator(application, path, headers=ORIGIN)
    connected, _ = await communicator.connect()
    assert connected
    return communicator, await communicator.receive_output(timeout=5)


def token_for(user: Any) -> str:
    return auth_tokens_issue(user=user).access


def test_unauthenticated_socket_is_closed_4401():
    async def scenario() -> None:
        _, first = await connect("/ws/inbox/")
        assert first == {"type": "websocket.close", "code": 4401}

    run(scenario)


def test_bad_token_is_closed_4401():
    async def scenario() -> None:
        _, first = await connect("/ws/inbox/?token=not-a-jwt")
        assert first == {"type": "websocket.close", "code": 4401}

    run(scenario)


def test_tenant_receives_its_own_messages_only(member, other_admin, channel, sample, post_webhook):
    mine_token, theirs_token = token_for(member), token_for(other_admin)

    async def scenario() -> None:
        mine, ready = await connect(f"/ws/inbox/?token={mine_token}")
        assert '"ready"' in ready["text"]
        theirs, _ = await connect(f"/ws/inbox/?token={theirs_token}")

        await sync_to_async(post_webhook)(sample("text"))

        events = [await mine.receive_json_from(timeout=5) for _ in range(2)]
        assert [e["event"] for e in events] == ["conversation.created", "message.created"]
        assert events[0]["data"]["contact"]["wa_id"] == "16505551234"
        assert events[1]["data"]["text"] == "Does it come in another color?"
        assert await theirs.receive_nothing(timeout=0.5)
        await mine.disconnect()
        await theirs.disconnect()

    run(scenario)


def test_status_change_reaches_the_feed(member, channel, sample, post_webhook):
    from inbox.models import MessageDirection, MessageStatus
    from inbox.tests.factories import ConversationFactory, MessageFactory

    wamid = sample("status_sent")["entry"][0]["changes"][0]["value"]["statuses"][0]["id"]
    conversation = ConversationFactory(account=channel.account, channel=channel)
    MessageFactory(
        conversation=conversation, direction=MessageDirection.OUTBOUND, status=MessageStatus.SENT, external_id=wamid
    )
    token = token_for(member)

    async def scenario() -> None:
        feed, _ = await connect(f"/ws/inbox/?token={token}")
        await sync_to_async(post_webhook)(sample("status_read"))
        event = await feed.receive_json_from(timeout=5)
        assert event["event"] == "message.status"
        assert (event["data"]["external_id"], event["data"]["status"]) == (wamid, "read")
        await feed.disconnect()

    run(scenario)


def test_nothing_is_sent_when_the_change_rolls_back(member, channel):
    from django.db import transaction

    from core.realtime import publish

    token = token_for(member)

    def publish_then_fail() -> None:
        with transaction.atomic():
            publish(account_id=channel.account_id, feed="inbox", event="message.created", data={"id": 1})
            raise RuntimeError("rolled back")

    def change_that_fails() -> None:
        with pytest.raises(RuntimeError):
            publish_then_fail()

    async def scenario() -> None:
        feed, _ = await connect(f"/ws/inbox/?token={token}")
        await sync_to_async(change_that_fails)()
        assert await feed.receive_nothing(timeout=0.5)
        await feed.disconnect()

    run(scenario)


@pytest.mark.redis
def test_event_from_another_process_reaches_this_socket_through_redis(member):
    token = token_for(member)
    script = textwrap.dedent(
        f"""
        import django, os
        os.environ["DJANGO_SETTINGS_MODULE"] = "skybot_inbox.settings.test"
        django.setup()
        from core.realtime import _send_many, FeedEvent
        _send_many([FeedEvent({member.account_id}, "inbox", "conversation.updated", {{"id": 99}}).message()])
        """
    )

    async def scenario() -> None:
        # given a socket held by this process
        feed, _ = await connect(f"/ws/inbox/?token={token}")

        # when a separate process (another server or a worker) publishes to the tenant's feed
        await sync_to_async(subprocess.run)(
            [sys.executable, "-c", script],
            check=True,
            env=dict(os.environ),
            cwd=str(django_settings.BASE_DIR),
            timeout=60,
        )

        # then the event arrives here
        assert await feed.receive_json_from(timeout=10) == {"event": "conversation.updated", "data": {"id": 99}}
        await feed.disconnect()

    run(scenario)
