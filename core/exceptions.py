"""One error shape for the whole API: `{"code": ..., "message": ..., "details": {...}}`.

Services raise `ApplicationError` subclasses; `api_exception_handler` turns those, DRF's own
exceptions and Django's into that JSON with the right status, so no bad input reaches a 500.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response


class ApplicationError(Exception):
    """A business rule said no. Subclasses set the HTTP status and a machine-readable code."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    code = "invalid"
    default_message = "The request could not be completed."

    def __init__(self, message: str | None = None, *, code: str | None = None, details: Any = None) -> None:
        self.message = message or self.default_message
        if code:
            self.code = code
        self.details = details or {}
        super().__init__(self.message)


class NotFound(ApplicationError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "not_found"
    default_message = "Not found."


class Conflict(ApplicationError):
    status_code = status.HTTP_409_CONFLICT
    code = "conflict"
    default_message = "The request conflicts with the current state."


class Forbidden(ApplicationError):
    status_code = status.HTTP_403_FORBIDDEN
    code = "permission_denied"
    default_message = "You do not have permission to perform this action."


class Unauthorized(ApplicationError):
    status_code = status.HTTP_401_UNAUTHORIZED
    code = "not_authenticated"
    default_message = "Authentication credentials were not provided or are invalid."


class RateLimited(ApplicationError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    code = "rate_limited"
    default_message = "Too many requests. Try again later."

    def __init__(self, message: str | None = None, *, retry_after: int, **kwargs: Any) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(message, **kwargs)


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"code": code, "message": message, "details": details or {}}


def _drf_code(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    if isinstance(exc, exceptions.ValidationError):
        return "validation_error"
    if isinstance(exc, exceptions.Throttled):
        return RateLimited.code
    if isinstance(codes, str):
        return codes
    return exc.default_code


def _drf_message(exc: exceptions.APIException) -> str:
    if isinstance(exc, exceptions.ValidationError):
        return "Invalid input."
    detail = exc.detail
    if isinstance(detail, list | dict):
        return str(exc.default_detail)
    return str(detail)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF EXCEPTION_HANDLER: every error leaves as `{"code", "message", "details"}`."""
    headers: dict[str, str] = {}
    if isinstance(exc, ApplicationError):
        if isinstance(exc, RateLimited):
            headers["Retry-After"] = str(exc.retry_after)
        return Response(error_body(exc.code, exc.message, exc.details), status=exc.status_code, headers=headers)
    if isinstance(exc, RequestDataTooBig):
        return Response(
            error_body("request_too_large", "The request body is too large."),
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    # Imported here: rest_framework.views loads the authentication classes, which import this module.
    from rest_framework.views import exception_handler

    response = exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    details: Any = {}
    if isinstance(exc, exceptions.ValidationError):
        details = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
    elif isinstance(exc, exceptions.Throttled) and getattr(exc, "wait", None) is not None:
        details = {"retry_after": int(exc.wait)}  # type: ignore[attr-defined]
    response.data = error_body(_drf_code(exc), _drf_message(exc), details)
    return response


def error_response(status: int, code: str, message: str, details: Any = None) -> JsonResponse:
    """The API's error shape as a plain Django response, for views and middleware outside DRF."""
    return JsonResponse(error_body(code, message, details), status=status)
