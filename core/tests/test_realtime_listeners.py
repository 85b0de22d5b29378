"""Live feeds keep reaching people who open a page again after closing every page of their tenant."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator

from accounts.services.auth import auth_tokens_issue
from core.realtime import _send_many, tenant_group
from skybot_inbox.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = [(b"origin", b"http://testserver")]


def test_a_feed_opened_after_the_last_one_closed_still_gets_events(member):
    token = auth_tokens_issue(user=member).access
    group = tenant_group(member.account_id, "agents")
    message = {"type": "feed.event", "event": "agent.status", "data": {"id": 1, "status": "active"}}

    async def scenario() -> None:
        # given the tenant's only page closed (its listener count went back to 0)
        first = WebsocketCommunicator(application, f"/ws/agents/?token={token}", headers=ORIGIN)
        await first.connect()
        await first.receive_json_from(timeout=5)
        await first.disconnect()

        # when a page opens the feed again
        second = WebsocketCommunicator(application, f"/ws/agents/?token={token}", headers=ORIGIN)
        connected, _ = await second.connect()
        assert connected
        ready = await second.receive_json_from(timeout=5)

        # then it is ready and receives what is published to the tenant
        assert ready["event"] == "ready"
        await sync_to_async(_send_many)([(group, message)])
        assert (await second.receive_json_from(timeout=5))["event"] == "agent.status"
        await second.disconnect()

    async_to_sync(scenario)()
