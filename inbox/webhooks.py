"""`/webhooks/whatsapp`: Meta's subscription check (GET) and notifications (POST).

The POST path is deliberately lean — a plain Django view, one signature check, one INSERT, one
enqueue — because acknowledging fast is what keeps Meta from redelivering. Processing happens in
`inbox.tasks.process_inbound_events`, in batches.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import structlog
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt

from core.exceptions import error_body
from inbox.models import Channel, InboundWebhookEvent
from inbox.tasks import schedule_drain
from inbox.whatsapp import signature_valid

logger = structlog.get_logger(__name__)

_SECRET_TTL_SECONDS = 30.0
_secret_cache: dict[str, tuple[float, str]] = {}


def app_secret_for(phone_number_id: str) -> str:
    """The channel's own app secret, else WHATSAPP_APP_SECRET; cached briefly per process."""
    now = time.monotonic()
    cached = _secret_cache.get(phone_number_id)
    if cached and cached[0] > now:
        return cached[1]
    channel_secret = (
        Channel.objects.filter(phone_number_id=phone_number_id).values_list("app_secret", flat=True).first()
        if phone_number_id
        else None
    )
    secret = channel_secret or settings.WHATSAPP_APP_SECRET
    _secret_cache[phone_number_id] = (now + _SECRET_TTL_SECONDS, secret)
    return secret


def forget_app_secret(phone_number_id: str) -> None:
    _secret_cache.pop(phone_number_id, None)


def verify_token_matches(token: str) -> bool:
    """The default verify token, or any channel's own."""
    if settings.WHATSAPP_VERIFY_TOKEN and constant_time_compare(token, settings.WHATSAPP_VERIFY_TOKEN):
        return True
    return any(
        constant_time_compare(token, own)
        for own in Channel.objects.exclude(verify_token="").values_list("verify_token", flat=True)
    )


def _first_phone_number_id(payload: Any) -> str:
    try:
        return str(payload["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"])
    except (KeyError, IndexError, TypeError):
        return ""


@dataclass(frozen=True)
class Outcome:
    """What to answer Meta: 200, or an error status with the error body's code and message."""

    status: int
    code: str = ""
    message: str = ""


ACCEPTED = Outcome(200)


def accept_notification(*, body: bytes, signature: str) -> Outcome:
    """Verify a notification and store it for processing: the whole POST path, shared by the
    Django view and the WSGI fast path (`inbox.fastpath`)."""
    if not signature:
        return Outcome(401, "signature_missing", "X-Hub-Signature-256 header is required.")
    try:
        text = body.decode("utf-8")
        payload = json.loads(text)
    except ValueError:  # UnicodeDecodeError is a ValueError too
        return Outcome(400, "malformed_json", "The body is not valid JSON.")
    if not signature_valid(body=body, header=signature, secret=app_secret_for(_first_phone_number_id(payload))):
        return Outcome(401, "signature_invalid", "The signature does not match the body.")
    InboundWebhookEvent.objects.create(provider="whatsapp", body=text)
    schedule_drain()
    return ACCEPTED


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(error_body(code, message), status=status)


@csrf_exempt
def whatsapp_webhook(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        mode = request.GET.get("hub.mode", "")
        token = request.GET.get("hub.verify_token", "")
        challenge = request.GET.get("hub.challenge", "")
        if mode == "subscribe" and token and verify_token_matches(token):
            return HttpResponse(challenge, content_type="text/plain")
        return _error(403, "verification_failed", "Verification token mismatch.")
    if request.method != "POST":
        return _error(405, "method_not_allowed", "Use GET to verify or POST to notify.")
    outcome = accept_notification(body=request.body, signature=request.headers.get("X-Hub-Signature-256", ""))
    if outcome.status != 200:
        return _error(outcome.status, outcome.code, outcome.message)
    return HttpResponse("OK", content_type="text/plain")
