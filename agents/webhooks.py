"""`/webhooks/skybot`: execution, workflow and handoff events the SkyBot runner reports.

Each POST is signed: `X-SkyBot-Signature: sha256=<hex HMAC-SHA256(SKYBOT_WEBHOOK_SECRET,
"<X-SkyBot-Timestamp>.<raw body>")>`. A bad or missing signature, or a timestamp further than
SKYBOT_WEBHOOK_TOLERANCE_SECONDS from now, is refused with 401 before anything is stored. Events
are applied once per event `id` (`RunnerEvent`); a redelivery answers 200 and changes nothing.
The contract is documented in docs/skybot-webhooks.md.
"""

from __future__ import annotations

import json
import time

import structlog
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import status

from agents.services.runner_events import EnvelopeSerializer, runner_event_apply
from core.exceptions import ApplicationError, error_response
from core.signing import signature_matches, timestamped_signature

logger = structlog.get_logger(__name__)


def signature_for(*, secret: str, timestamp: str, body: bytes) -> str:
    """The `X-SkyBot-Signature` value the runner sends for this timestamp and raw body."""
    return timestamped_signature(secret=secret, timestamp=timestamp, body=body)


def _authenticate(*, body: bytes, timestamp: str, signature: str) -> JsonResponse | None:
    """None when the request is the runner's and fresh; else the 401 to answer."""
    if not timestamp or not signature:
        return error_response(
            401, "signature_missing", "X-SkyBot-Timestamp and X-SkyBot-Signature headers are required."
        )
    secret = settings.SKYBOT_WEBHOOK_SECRET
    if not secret:
        logger.warning("skybot_webhook_secret_missing")
        return error_response(401, "signature_invalid", "The signature cannot be verified.")
    if not signature_matches(signature_for(secret=secret, timestamp=timestamp, body=body), signature):
        return error_response(401, "signature_invalid", "The signature does not match the timestamp and body.")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return error_response(401, "timestamp_invalid", "X-SkyBot-Timestamp must be Unix seconds.")
    sent_at = int(timestamp)
    if abs(time.time() - sent_at) > settings.SKYBOT_WEBHOOK_TOLERANCE_SECONDS:
        return error_response(
            401, "timestamp_expired", "The timestamp is outside the accepted window (replay refused)."
        )
    return None


@csrf_exempt
def skybot_webhook(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return error_response(405, "method_not_allowed", "Use POST.")
    body = request.body
    refused = _authenticate(
        body=body,
        timestamp=request.headers.get("X-SkyBot-Timestamp", ""),
        signature=request.headers.get("X-SkyBot-Signature", ""),
    )
    if refused is not None:
        return refused
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested too deep to decode (`[[[[...`)
        return error_response(400, "malformed_json", "The body is not valid JSON.")
    if not isinstance(payload, dict):
        return error_response(400, "invalid_event", "The event must be a JSON object.")
    envelope = EnvelopeSerializer(data=payload)
    if not envelope.is_valid():
        return error_response(400, "invalid_event", "The event is not a runner event.", envelope.errors)
    data = payload.get("data", {})
    if not isinstance(data, dict):
        return error_response(
            400, "invalid_event", "The event is not a runner event.", {"data": ["Expected an object."]}
        )
    event = envelope.validated_data
    try:
        outcome = runner_event_apply(event_id=event["id"], event_type=event["type"], data=data)
    except ApplicationError as exc:
        logger.info("skybot_event_refused", event_id=event["id"], event_type=event["type"], code=exc.code)
        return error_response(exc.status_code, exc.code, exc.message, exc.details)
    answer = status.HTTP_202_ACCEPTED if outcome == "ignored" else status.HTTP_200_OK
    return JsonResponse({"status": outcome, "id": event["id"]}, status=answer)
