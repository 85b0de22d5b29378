"""`/webhooks/whatsapp`: Meta's subscription check (GET) and notifications (POST).

The POST path is deliberately lean — a plain Django view, one signature check, one INSERT, one
enqueue — because acknowledging fast is what keeps Meta from redelivering. What is checked before
anything is stored is `inbox.services.webhooks`; processing happens in
`inbox.tasks.process_inbound_events`, in batches.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from core.exceptions import error_response
from inbox.services.webhooks import accept_notification, verify_token_matches


@csrf_exempt
def whatsapp_webhook(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        mode = request.GET.get("hub.mode", "")
        token = request.GET.get("hub.verify_token", "")
        challenge = request.GET.get("hub.challenge", "")
        if mode == "subscribe" and token and verify_token_matches(token):
            return HttpResponse(challenge, content_type="text/plain")
        return error_response(403, "verification_failed", "Verification token mismatch.")
    if request.method != "POST":
        return error_response(405, "method_not_allowed", "Use GET to verify or POST to notify.")
    outcome = accept_notification(body=request.body, signature=request.headers.get("X-Hub-Signature-256", ""))
    if outcome.status != 200:
        return error_response(outcome.status, outcome.code, outcome.message)
    return HttpResponse("OK", content_type="text/plain")
