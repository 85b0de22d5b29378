"""WebSocket routes of every app, collected in one list."""

from __future__ import annotations

from typing import Any

from agents.routing import websocket_urlpatterns as agent_routes
from inbox.routing import websocket_urlpatterns as inbox_routes

websocket_urlpatterns: list[Any] = [*inbox_routes, *agent_routes]
