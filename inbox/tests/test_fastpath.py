"""The production WSGI application answers Meta's notifications on a fast path that skips Django's
middleware; it must behave exactly like the Django view."""

from __future__ import annotations

import io
import json
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from inbox.models import InboundWebhookEvent, Message, WebhookEventStatus
from inbox.tests.conftest import sign
from skybot_inbox.wsgi import application

pytestmark = pytest.mark.django_db


def call(
    body: bytes, *, signature: str | None = None, method: str = "POST", **extra: Any
) -> tuple[str, dict[str, str], bytes]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": "/webhooks/whatsapp",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "HTTP_HOST": "testserver",
        **extra,
    }
    if signature is not None:
        environ["HTTP_X_HUB_SIGNATURE_256"] = signature
    setup_testing_defaults(environ)
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        captured["status"], captured["headers"] = status, dict(headers)

    # Like Django's test client: requests that reach Django must not close the test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        content = b"".join(application(environ, start_response))
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return captured["status"], captured["headers"], content


def test_signed_notification_is_stored_and_processed(channel, sample, django_capture_on_commit_callbacks):
    body = json.dumps(sample("text")).encode()

    with django_capture_on_commit_callbacks(execute=True):
        status, headers, content = call(body, signature=sign(body))

    assert status == "200 OK"
    assert content == b"OK"
    assert len(headers["X-Request-ID"]) >= 8
    assert InboundWebhookEvent.objects.get().status == WebhookEventStatus.PROCESSED
    assert Message.objects.get().text == "Does it come in another color?"


def test_bad_signature_is_401_json_and_nothing_is_stored(channel, sample):
    body = json.dumps(sample("text")).encode()
    status, headers, content = call(body, signature=sign(body, "wrong-secret"))
    assert status.startswith("401")
    assert headers["Content-Type"] == "application/json"
    assert json.loads(content)["code"] == "signature_invalid"
    assert not InboundWebhookEvent.objects.exists()


def test_missing_signature_and_malformed_json(channel):
    assert call(b"{}")[0].startswith("401")
    status, _, content = call(b"{nope", signature=sign(b"{nope"))
    assert status.startswith("400")
    assert json.loads(content)["code"] == "malformed_json"
    status, _, _ = call(b"\xff\xfe{}", signature=sign(b"\xff\xfe{}"))
    assert status.startswith("400")
    assert not InboundWebhookEvent.objects.exists()


def test_oversized_body_is_413_before_anything_else(channel, settings):
    settings.MAX_REQUEST_BODY_BYTES = 100
    body = b"{" + b" " * 200 + b"}"
    status, _, content = call(body, signature=sign(body))
    assert status.startswith("413")
    assert json.loads(content)["code"] == "request_too_large"
    assert not InboundWebhookEvent.objects.exists()


def test_a_sane_request_id_is_kept(channel, sample):
    body = json.dumps(sample("text")).encode()
    _, headers, _ = call(body, signature=sign(body), HTTP_X_REQUEST_ID="meta-abc-12345")
    assert headers["X-Request-ID"] == "meta-abc-12345"


def test_other_requests_go_through_django(channel):
    status, headers, content = call(
        b"", method="GET", QUERY_STRING="hub.mode=subscribe&hub.verify_token=x&hub.challenge=1"
    )
    assert status.startswith("403")
    assert json.loads(content)["code"] == "verification_failed"
    assert headers["X-Frame-Options"] == "DENY"  # set by Django's middleware: the request went through Django
