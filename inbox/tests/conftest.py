"""Inbox fixtures: a tenant's WhatsApp channel, Meta's sample payloads, signed posting, and a
stand-in for Meta's Graph API that confirms the numbers a test says a token can read."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from accounts.models import Account
from inbox.models import Channel
from inbox.services.webhooks import forget_app_secrets
from inbox.tests.factories import ChannelFactory

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLE_PHONE_NUMBER_ID = "106540352242922"
APP_SECRET = "test-app-secret"
VERIFY_TOKEN = "test-verify-token"


@pytest.fixture(autouse=True)
def _whatsapp_settings(settings: Any) -> None:
    settings.WHATSAPP_APP_SECRET = APP_SECRET
    settings.WHATSAPP_VERIFY_TOKEN = VERIFY_TOKEN
    settings.N8N_MASTER_ROUTER_URL = ""
    forget_app_secrets()


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


@dataclass
class MetaGraphApi:
    """Meta's Graph API as far as connecting a number needs it: `GET /v21.0/{phone_number_id}`
    answers a number registered with `owns` for its token, and otherwise Meta's errors — code 190
    (HTTP 401) for a token Meta does not know, code 100 / subcode 33 (HTTP 400) for a number the
    token cannot read or that does not exist."""

    server: HTTPServer
    numbers: dict[str, tuple[str, str]] = field(default_factory=dict)

    def owns(self, phone_number_id: str, *, token: str, display_phone_number: str = "+1 555-010-0100") -> None:
        self.numbers[phone_number_id] = (token, display_phone_number)

    def lookups(self) -> list[str]:
        """The phone number ids the platform asked Meta about."""
        return [request.path.rsplit("/", 1)[-1] for request, _ in self.server.log if request.method == "GET"]

    def answer(self, request: Request) -> Response:
        phone_number_id = request.path.rsplit("/", 1)[-1]
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in {known for known, _ in self.numbers.values()}:
            return _graph_error(401, "Invalid OAuth access token - Cannot parse access token", "OAuthException", 190)
        owner = self.numbers.get(phone_number_id)
        if owner is None or owner[0] != token:
            message = (
                f"Unsupported get request. Object with ID '{phone_number_id}' does not exist, cannot be loaded "
                "due to missing permissions, or does not support this operation. Please read the Graph API "
                "documentation at https://developers.facebook.com/docs/graph-api"
            )
            return _graph_error(400, message, "GraphMethodException", 100, subcode=33)
        body = {"display_phone_number": owner[1], "verified_name": "Test Shop", "id": phone_number_id}
        return Response(json.dumps(body), status=200, content_type="application/json")


def _graph_error(status: int, message: str, kind: str, code: int, *, subcode: int | None = None) -> Response:
    error: dict[str, Any] = {"message": message, "type": kind, "code": code, "fbtrace_id": "AbCdEfGhIjK"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return Response(json.dumps({"error": error}), status=status, content_type="application/json")


@pytest.fixture
def graph_api(httpserver: HTTPServer, settings: Any) -> MetaGraphApi:
    """The Graph API stand-in, with GRAPH_API_BASE_URL pointing at it."""
    settings.GRAPH_API_BASE_URL = httpserver.url_for("/v21.0")
    meta = MetaGraphApi(httpserver)
    httpserver.expect_request(re.compile(r"^/v21\.0/[^/]+$"), method="GET").respond_with_handler(meta.answer)
    return meta
