"""Helpers for tests that play the SkyBot runner: build events and sign them like the runner does."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from typing import Any

from django.test import Client

from agents.models import Agent

SECRET = "test-skybot-webhook-secret"
_ids = itertools.count(1)


def sign(body: bytes, *, timestamp: int | str, secret: str = SECRET) -> str:
    signed = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def event(event_type: str, data: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
    return {
        "id": event_id or f"evt_test_{next(_ids)}",
        "type": event_type,
        "created_at": "2025-01-01T12:00:00Z",
        "data": data,
    }


def execution_event(
    agent: Agent, event_type: str = "execution.succeeded", *, event_id: str | None = None, **data: Any
) -> dict[str, Any]:
    return event(
        event_type,
        {"execution_id": "exe_1", "agent_id": agent.pk, "workflow_id": agent.skybot_workflow_id, **data},
        event_id=event_id,
    )


def post(
    payload: dict[str, Any] | bytes,
    *,
    secret: str = SECRET,
    timestamp: int | None = None,
    signature: str | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    """POST to /webhooks/skybot, signed for `timestamp` (now by default) unless headers are given."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    sent_at = int(time.time()) if timestamp is None else timestamp
    if headers is None:
        headers = {
            "HTTP_X_SKYBOT_TIMESTAMP": str(sent_at),
            "HTTP_X_SKYBOT_SIGNATURE": signature or sign(body, timestamp=sent_at, secret=secret),
        }
    return Client().post("/webhooks/skybot", data=body, content_type="application/json", **headers)
