from __future__ import annotations

from django.urls import path

from agents.consumers import AgentsConsumer

websocket_urlpatterns = [path("ws/agents/", AgentsConsumer.as_asgi())]
