"""Counting what API keys are used for, once each answer is known."""

from __future__ import annotations

from collections.abc import Callable

import structlog
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from redis import RedisError

from accounts.models import ApiKey
from accounts.services.api_key_usage import api_key_usage_record

logger = structlog.get_logger(__name__)


class ApiKeyUsageMiddleware:
    """After the view: when an API key authenticated the request, count it on the key's day.

    DRF's authentication leaves the key in `request.auth`; for every other caller (a person's
    session or token, the legacy platform key, no credential at all) nothing is counted. Placed
    after the middleware that can turn an error into a response, it sees the final status code; it
    counts before the server sends the answer. With Redis the count is one Redis round trip (the
    database gets it at the next flush), without Redis one upsert.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        api_key = getattr(request, "auth", None)
        if isinstance(api_key, ApiKey):
            try:
                api_key_usage_record(api_key=api_key, status_code=response.status_code)
            except (DatabaseError, RedisError):
                # The answer is ready: a lost count must not turn it into an error.
                logger.warning("api_key_usage_not_recorded", api_key_id=api_key.pk, exc_info=True)
        return response
