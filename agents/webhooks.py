"""`/webhooks/skybot`: execution and workflow events the SkyBot runner reports."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from core.exceptions import error_body


@csrf_exempt
def skybot_webhook(request: HttpRequest) -> HttpResponse:
    return JsonResponse(error_body("not_implemented", "Not implemented yet."), status=501)
