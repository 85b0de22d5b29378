"""Integrations fixtures: a local server standing in for a tenant's webhook receiver (or a Zap's
hook), an independent Standard Webhooks verifier, and running what a change queues after commit."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from typing import Any

import pytest

from inbox.tests.conftest import _whatsapp_settings, channel, post_webhook, sample  # noqa: F401


def verify_standard_webhook(secret: str, headers: Any, body: bytes) -> bool:
    """A receiver's check, written from the Standard Webhooks spec (not from our signing code):
    HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}" keyed with the base64-decoded part of
    `whsec_...`, base64-encoded, compared with each `v1,` entry of `webhook-signature`."""
    key = base64.b64decode(secret.split("_", 1)[1])
    signed = headers["webhook-id"].encode() + b"." + headers["webhook-timestamp"].encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for entry in headers["webhook-signature"].split(" "):
        version, _, value = entry.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return True
    return False


@pytest.fixture
def receiver(httpserver: Any) -> Any:
    """A local HTTP server standing in for the tenant's webhook receiver."""
    return httpserver


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    """Run `action()` and then what it queued after commit (deliveries run eagerly in tests)."""

    def run(action: Callable[[], Any]) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return action()

    return run
