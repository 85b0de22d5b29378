"""WebSocket feeds: authenticate, join the tenant's group for one feed, forward its events.

A socket authenticates with the session cookie (the web UI) or an access token in the `token`
query parameter (`/ws/inbox/?token=<JWT>`). Unauthenticated sockets are closed with code 4401.
Platform staff pick the tenant with `?account=<id>`.

An open socket lasts only as long as the access it was opened with. It also joins its person's and
its tenant's groups, where `accounts.services.sessions` sends a close (4401 when the person's
sign-ins were ended or they were deactivated, 4403 when the tenant was disabled). In case that
message is lost, the consumer re-reads the person before forwarding an event, at most once every
`REALTIME_ACCESS_RECHECK_SECONDS`, and closes instead of sending when the access is gone.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import Role, User
from accounts.services.auth import family_is_revoked
from accounts.services.sessions import token_is_current
from core.realtime import account_group, listener_joined, listener_left, person_group, tenant_group

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
    user = User.objects.select_related("account").filter(pk=token.get("user_id"), is_active=True).first()
    if user is None or not token_is_current(token.payload, user):
        return None
    return user


@database_sync_to_async
def _usable(user: Any) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.account is None or user.account.is_active


@database_sync_to_async
def _refusal(user_id: int, generation: int, role: str) -> int | None:
    """The close code for a socket whose person no longer has the access it opened with, else None."""
    user = User.objects.select_related("account").filter(pk=user_id).first()
    if user is None or not user.is_active or user.access_generation != generation:
        return CLOSE_UNAUTHENTICATED
    if user.account is not None and not user.account.is_active:
        return CLOSE_FORBIDDEN
    if Role.rank(user.role) < Role.rank(role):
        return CLOSE_FORBIDDEN
    return None


class TenantFeedConsumer(AsyncJsonWebsocketConsumer):
    feed: ClassVar[str]
    role: ClassVar[str] = Role.VIEWER  # the lowest role that may read the feed
    group: str | None = None
    access_groups: tuple[str, ...] = ()
    user_id: int | None = None
    generation = 0
    checked_at = 0.0

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
        if Role.rank(user.role) < Role.rank(self.role):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.user_id, self.generation, self.checked_at = user.pk, user.access_generation, time.monotonic()
        self.access_groups = (person_group(user.pk),) + (
            (account_group(user.account_id),) if user.account_id is not None else ()
        )
        for group in self.access_groups:
            await self.channel_layer.group_add(group, self.channel_name)
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
        for group in self.access_groups:
            await self.channel_layer.group_discard(group, self.channel_name)
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)
            await listener_left(self.group, self.feed)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"event": "pong", "data": {}})

    async def feed_event(self, message: dict[str, Any]) -> None:
        if not await self._still_allowed():
            return
        await self.send_json({"event": message["event"], "data": message["data"]})

    async def access_revoked(self, message: dict[str, Any]) -> None:
        """The person's sign-ins were ended or their tenant disabled (`core.realtime.close_sockets`)."""
        await self._end(int(message.get("code") or CLOSE_UNAUTHENTICATED))

    async def _still_allowed(self) -> bool:
        """Re-read the person's access when the last check is older than the recheck interval."""
        if self.user_id is None:
            return False
        now = time.monotonic()
        if now - self.checked_at < settings.REALTIME_ACCESS_RECHECK_SECONDS:
            return True
        refusal = await _refusal(self.user_id, self.generation, self.role)
        if refusal is not None:
            await self._end(refusal)
            return False
        self.checked_at = now
        return True

    async def _end(self, code: int) -> None:
        # Leave the groups first: nothing more is delivered to this socket while it closes.
        await self.disconnect(code)
        self.access_groups, self.group, self.user_id = (), None, None
        await self.close(code=code)
