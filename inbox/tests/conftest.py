"""Inbox fixtures: a tenant's WhatsApp channel, Meta's sample payloads, and signed posting."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from accounts.models import Account
from inbox.models import Channel
from inbox.tests.factories import ChannelFactory
from inbox.webhooks import _secret_cache

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLE_PHONE_NUMBER_ID = "106540352242922"
APP_SECRET = "test-app-secret"
VERIFY_TOKEN = "test-verify-token"


@pytest.fixture(autouse=True)
def _whatsapp_settings(settings: Any) -> None:
    settings.WHATSAPP_APP_SECRET = APP_SECRET
    settings.WHATSAPP_VERIFY_TOKEN = VERIFY_TOKEN
    settings.N8N_MASTER_ROUTER_URL = ""
    _secret_cache.clear()


@pytest.fixture
def channel(account: Account) -> Channel:
    return ChannelFactory(account=account, phone_number_id=SAMPLE_PHONE_NUMBER_ID, display_phone_number="15550783881")


@pytest.fixture
def sample() -> Callable[[str], dict[str, Any]]:
    """A fresh copy of one of Meta's sample notifications (inbox/tests/fixtures/<name>.json)."""

    def load(name: str) -> dict[str, Any]:
        return copy.deepcopy(json.loads((FIXTURES / f"{name}.json").read_text()))

    return load


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.fixture
def post_webhook(django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    """POST a notification to /webhooks/whatsapp signed like Meta signs it, and run what the
    request queued after commit (processing is eager in tests)."""

    def post(payload: dict[str, Any] | bytes, *, secret: str = APP_SECRET, signature: str | None = None) -> Any:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = {"HTTP_X_HUB_SIGNATURE_256": signature if signature is not None else sign(body, secret)}
        with django_capture_on_commit_callbacks(execute=True):
            return Client().post("/webhooks/whatsapp", data=body, content_type="application/json", **headers)

    return post
