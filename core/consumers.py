"""WebSocket feeds: authenticate, join the tenant's group for one feed, forward its events.

A socket authenticates with the session cookie (the web UI) or an access token in the `token`
query parameter (`/ws/inbox/?token=<JWT>`). Unauthenticated sockets are closed with code 4401.
Platform staff pick the tenant with `?account=<id>`.
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User
from accounts.services.auth import family_is_revoked
from core.realtime import listener_joined, listener_left, tenant_group

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


@database_sync_to_async
def _user_for_token(raw: str) -> User | None:
    try:
        token = AccessToken(raw)  # type: ignore[arg-type]
    except TokenError:
        return None
    # The same rule as the HTTP API (accounts.authentication.JwtAuthentication): a logged-out or
    # revoked sign-in's access tokens are refused until they expire.
    family = token.get("fam")
    if family and family_is_revoked(str(family)):
        return None
    return User.objects.select_related("account").filter(pk=token.get("user_id"), is_active=True).first()


@database_sync_to_async
def _usable(user: Any) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.account is None or user.account.is_active


class TenantFeedConsumer(AsyncJsonWebsocketConsumer):
    feed: ClassVar[str]
    group: str | None = None

    async def connect(self) -> None:
        query = parse_qs(self.scope.get("query_string", b"").decode())
        user: Any = None
        if token := (query.get("token") or [""])[0]:
            user = await _user_for_token(token)
        else:
            user = self.scope.get("user")
        await self.accept()
        if user is None or not await _usable(user):
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        account_id = user.account_id
        if account_id is None:  # platform staff watch one tenant at a time
            requested = (query.get("account") or [""])[0]
            if not requested.isdigit():
                await self.close(code=CLOSE_FORBIDDEN)
                return
            account_id = int(requested)
        self.group = tenant_group(account_id, self.feed)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await listener_joined(self.group, self.feed)
        await self.send_json({"event": "ready", "data": {"feed": self.feed, "account": account_id}})

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)
            await listener_left(self.group, self.feed)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"event": "pong", "data": {}})

    async def feed_event(self, message: dict[str, Any]) -> None:
        await self.send_json({"event": message["event"], "data": message["data"]})
