"""An open live feed lasts only as long as the access it was opened with: a person who is
deactivated, changes role or whose tenant is disabled has their sockets closed (4401/4403), and no
event reaches a socket whose person may no longer read it, even if the close message is lost."""

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
from django.db import connection
from django.test import Client

from accounts.models import Account, Role, User
from accounts.principals import Principal
from accounts.services.auth import auth_tokens_issue
from accounts.services.tenants import account_deactivate
from accounts.services.users import user_update
from core.realtime import publish
from skybot_inbox.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://testserver")
LEAD = {"id": 7, "name": "Ana Souza"}


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    async_to_sync(scenario)()


async def open_feed(path: str, *, cookie: str | None = None) -> WebsocketCommunicator:
    headers = [ORIGIN] + ([(b"cookie", f"sessionid={cookie}".encode())] if cookie else [])
    feed = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await feed.connect()
    assert connected
    assert (await feed.receive_json_from(timeout=5))["event"] == "ready"
    return feed


async def next_frame(feed: WebsocketCommunicator) -> dict[str, Any]:
    frame = await feed.receive_output(timeout=5)
    if frame["type"] == "websocket.send":
        await feed.disconnect()  # a socket left open would outlive the test
    return frame


def publish_lead(account_id: int) -> None:
    publish(account_id=account_id, feed="inbox", event="lead.created", data=LEAD)


def test_a_deactivated_viewers_feed_is_closed_and_gets_no_more_leads(viewer, client_admin):
    token = auth_tokens_issue(user=viewer).access

    async def scenario() -> None:
        # given a viewer watching the inbox feed
        feed = await open_feed(f"/ws/inbox/?token={token}")

        # when an admin deactivates them and a lead arrives right after
        await sync_to_async(user_update)(user=viewer, is_active=False, actor=Principal.for_user(client_admin))
        await sync_to_async(publish_lead)(viewer.account_id)

        # then the feed is closed as signed out, and the lead never reaches it
        assert await next_frame(feed) == {"type": "websocket.close", "code": 4401}
        assert await feed.receive_nothing(timeout=0.5)

    run(scenario)


def test_a_feed_opened_with_the_web_session_is_closed_too(viewer, client_admin):
    browser = Client()
    browser.force_login(viewer)
    cookie = browser.cookies["sessionid"].value

    async def scenario() -> None:
        # given the web UI's feed, authenticated by the session cookie
        feed = await open_feed("/ws/agents/", cookie=cookie)

        # when the person is deactivated
        await sync_to_async(user_update)(user=viewer, is_active=False, actor=Principal.for_user(client_admin))

        # then it is closed
        assert await next_frame(feed) == {"type": "websocket.close", "code": 4401}

    run(scenario)


def test_every_feed_of_a_disabled_tenant_is_closed_4403(account, member, viewer, super_admin, other_admin):
    member_token = auth_tokens_issue(user=member).access
    viewer_token = auth_tokens_issue(user=viewer).access
    other_token = auth_tokens_issue(user=other_admin).access

    async def scenario() -> None:
        # given two people of the tenant on two feeds, and someone of another tenant
        inbox = await open_feed(f"/ws/inbox/?token={member_token}")
        agents = await open_feed(f"/ws/agents/?token={viewer_token}")
        elsewhere = await open_feed(f"/ws/inbox/?token={other_token}")

        # when staff disable the tenant
        await sync_to_async(account_deactivate)(account=account, actor=Principal.for_user(super_admin))

        # then both of its feeds are closed as "no access", and the other tenant's stays open
        assert await next_frame(inbox) == {"type": "websocket.close", "code": 4403}
        assert await next_frame(agents) == {"type": "websocket.close", "code": 4403}
        assert await elsewhere.receive_nothing(timeout=0.5)
        await elsewhere.disconnect()

    run(scenario)


def test_a_role_change_closes_the_feed(member, client_admin):
    token = auth_tokens_issue(user=member).access

    async def scenario() -> None:
        feed = await open_feed(f"/ws/inbox/?token={token}")

        # when an admin makes the person a viewer
        await sync_to_async(user_update)(user=member, role=Role.VIEWER, actor=Principal.for_user(client_admin))

        # then their sign-in ended and its feed is closed
        assert await next_frame(feed) == {"type": "websocket.close", "code": 4401}

    run(scenario)


@pytest.mark.parametrize(
    ("lose_access", "code"),
    [
        (lambda user: User.objects.filter(pk=user.pk).update(is_active=False), 4401),
        (lambda user: Account.objects.filter(pk=user.account_id).update(is_active=False), 4403),
    ],
    ids=["person deactivated", "tenant disabled"],
)
def test_without_the_close_message_no_event_reaches_a_person_without_access(settings, viewer, lose_access, code):
    # given sockets re-check access before every event (no caching, to test it at once)
    settings.REALTIME_ACCESS_RECHECK_SECONDS = 0
    token = auth_tokens_issue(user=viewer).access

    async def scenario() -> None:
        feed = await open_feed(f"/ws/inbox/?token={token}")
        # and the person lost access by a path that sent no close message
        await sync_to_async(lose_access)(viewer)

        # when a lead is published to the tenant
        await sync_to_async(publish_lead)(viewer.account_id)

        # then the socket is closed instead of receiving it
        assert await next_frame(feed) == {"type": "websocket.close", "code": code}

    run(scenario)


def test_events_still_flow_to_people_who_keep_their_access(settings, viewer):
    settings.REALTIME_ACCESS_RECHECK_SECONDS = 0
    token = auth_tokens_issue(user=viewer).access

    async def scenario() -> None:
        feed = await open_feed(f"/ws/inbox/?token={token}")
        await sync_to_async(publish_lead)(viewer.account_id)
        assert await feed.receive_json_from(timeout=5) == {"event": "lead.created", "data": LEAD}
        await feed.disconnect()

    run(scenario)


@pytest.mark.redis
def test_a_deactivation_in_another_process_closes_the_socket_held_here(viewer, client_admin):
    token = auth_tokens_issue(user=viewer).access
    database = connection.settings_dict["NAME"]
    script = textwrap.dedent(
        f"""
        import django, os
        os.environ["DJANGO_SETTINGS_MODULE"] = "skybot_inbox.settings.test"
        django.setup()
        from django.db import connection
        connection.settings_dict["NAME"] = {database!r}  # this test's database
        from accounts.models import User
        from accounts.services.sessions import user_access_revoke
        user_access_revoke(user=User.objects.get(pk={viewer.pk}), reason="deactivated")
        """
    )

    async def scenario() -> None:
        # given a socket held by this server
        feed = await open_feed(f"/ws/inbox/?token={token}")

        # when another process (another server, a worker, a management command) ends the sign-ins
        await sync_to_async(subprocess.run)(
            [sys.executable, "-c", script],
            check=True,
            env=dict(os.environ),
            cwd=str(django_settings.BASE_DIR),
            timeout=60,
        )

        # then the socket here is closed through Redis
        frame = await feed.receive_output(timeout=10)
        assert frame == {"type": "websocket.close", "code": 4401}

    run(scenario)
