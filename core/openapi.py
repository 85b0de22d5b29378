"""OpenAPI pieces every API shares: the one error body, its documented responses and examples, and
the schema post-processing that gives every importer (Swagger UI, Make, Zapier, n8n) the same
error example and the `Retry-After` header of every 429."""

from __future__ import annotations

import copy
from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import get_doc
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
from rest_framework import serializers

ERROR_DESCRIPTIONS = {
    400: "Invalid input; `details` maps each field to its messages.",
    401: "Missing, invalid, expired or revoked credentials.",
    403: "The caller's role (or API-key scope) is not enough.",
    404: "No such object in the caller's tenant.",
    405: "Method not allowed.",
    409: "The change conflicts with the current state (for example a closed 24-hour window).",
    413: "The request body is too large.",
    429: "Too many requests; retry after the `Retry-After` header's seconds.",
    502: "A service we called refused the request; its message is passed on.",
    503: "A required service is not configured or not reachable.",
}

# What the API answers for each status when nothing more specific is documented: the exact bodies
# `core.exceptions.api_exception_handler` produces (a test compares them with real answers).
ERROR_EXAMPLES: dict[int, dict[str, Any]] = {
    400: {"code": "validation_error", "message": "Invalid input.", "details": {"name": ["This field is required."]}},
    401: {"code": "not_authenticated", "message": "Authentication credentials were not provided.", "details": {}},
    403: {"code": "permission_denied", "message": "You do not have permission to perform this action.", "details": {}},
    404: {"code": "not_found", "message": "Not found.", "details": {}},
    405: {"code": "method_not_allowed", "message": 'Method "PUT" not allowed.', "details": {}},
    409: {"code": "conflict", "message": "The request conflicts with the current state.", "details": {}},
    413: {"code": "request_too_large", "message": "The request body is too large.", "details": {}},
    429: {
        "code": "rate_limited",
        "message": "Request was throttled. Expected available in 12 seconds.",
        "details": {"retry_after": 12},
    },
    502: {"code": "skybot_rejected", "message": "The SkyBot runner refused the request.", "details": {}},
    503: {
        "code": "service_unavailable",
        "message": "A required service is not configured or not reachable.",
        "details": {},
    },
}
ERROR_TITLES = {
    400: "Invalid input",
    401: "Not authenticated",
    403: "Permission denied",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request too large",
    429: "Rate limited",
    502: "Refused upstream",
    503: "Service unavailable",
}

RETRY_AFTER_HEADER = {
    "schema": {"type": "integer", "minimum": 1},
    "description": "Seconds to wait before the next request.",
}

# Examples show a self-hosted platform at this address.
EXAMPLE_SITE = "https://inbox.example.com"
# A real cursor (position 2026-05-14 09:12:03.512345 UTC), as `next` links carry it.
EXAMPLE_CURSOR = "cD0yMDI2LTA1LTE0KzA5JTNBMTIlM0EwMy41MTIzNDUlMkIwMCUzQTAw"

# Every cursor-paginated list takes these two query parameters.
PAGE_PARAMETERS = [
    OpenApiParameter("cursor", str, description="The `next` or `previous` cursor of another page (opaque)."),
    OpenApiParameter("page_size", int, description="Items per page (default 50, at most 200)."),
]


class AutoSchema(SpectacularAutoSchema):
    """DEFAULT_SCHEMA_CLASS: drf-spectacular's, but an operation is described only by its own
    `description=` (or its method's docstring), never by its view class's docstring: that one is
    written for developers (`TenantApi`'s "Base for every authenticated API view.") and would show
    as the operation's description in every importer."""

    def get_description(self) -> str:  # type: ignore[override]
        return get_doc(getattr(self.view, getattr(self.view, "action", self.method.lower()), None))


class ApiErrorSerializer(serializers.Serializer[Any]):
    """Every error answers this shape."""

    code = serializers.CharField(help_text="Machine-readable error code.")
    message = serializers.CharField()
    details = serializers.DictField(child=serializers.JSONField(), help_text="Field errors or other details.")

    class Meta:
        ref_name = "ApiError"


def error_response(
    status: int,
    description: str | None = None,
    *,
    code: str | None = None,
    message: str | None = None,
    details: dict[str, Any] | None = None,
) -> OpenApiResponse:
    """One documented error status with its example body; `code`/`message`/`details` replace the
    generic example's where an operation answers something more specific."""
    value = copy.deepcopy(ERROR_EXAMPLES[status])
    if code is not None:
        value["code"] = code
    if message is not None:
        value["message"] = message
    if details is not None:
        value["details"] = details
    title = ERROR_TITLES[status] if code is None else code.replace("_", " ").capitalize()
    return OpenApiResponse(
        ApiErrorSerializer,
        description=description or ERROR_DESCRIPTIONS[status],
        examples=[OpenApiExample(title, value=value, summary=title, response_only=True)],
    )


def error_responses(*statuses: int, field_errors: dict[str, list[str]] | None = None) -> dict[int, OpenApiResponse]:
    """`responses=` entries for the given error statuses (401, 403 and 429 are always possible).

    `field_errors` is the 400 example's `details`: the fields this operation really checks."""
    codes = sorted({401, 403, 429, *statuses})
    return {code: error_response(code, details=field_errors if code == 400 else None) for code in codes}


def example_request(value: Any, name: str = "Request") -> OpenApiExample:
    """A request body example."""
    return OpenApiExample(name, value=value, summary=name, request_only=True)


def example_response(
    value: Any, name: str = "Response", *, status: int = 200, media_type: str = "application/json"
) -> OpenApiExample:
    """A success answer's example (`status` 200 unless the operation answers 201 or 202)."""
    return OpenApiExample(
        name, value=value, summary=name, response_only=True, status_codes=[status], media_type=media_type
    )


def example_page(*items: dict[str, Any], path: str) -> dict[str, Any]:
    """A first page of the list at `path` (`/api/v1/...`) holding `items`, with more to come."""
    return {"next": f"{EXAMPLE_SITE}{path}?cursor={EXAMPLE_CURSOR}", "previous": None, "results": list(items)}


def postprocess_schema(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """SPECTACULAR_SETTINGS post-processing hook: an example on the `ApiError` component, and the
    `Retry-After` header on every 429 answer."""
    schemas = result.get("components", {}).get("schemas", {})
    if "ApiError" in schemas:
        schemas["ApiError"]["example"] = copy.deepcopy(ERROR_EXAMPLES[404])
    for item in result.get("paths", {}).values():
        for operation in item.values():
            throttled = operation.get("responses", {}).get("429") if isinstance(operation, dict) else None
            if throttled is not None:
                throttled.setdefault("headers", {}).setdefault("Retry-After", copy.deepcopy(RETRY_AFTER_HEADER))
    return result


def page_of(item: type[serializers.Serializer[Any]], name: str) -> type[serializers.Serializer[Any]]:
    """The cursor-paginated list shape `{"results": [...], "next": url, "previous": url}`."""
    return type(
        name,
        (serializers.Serializer,),
        {
            "results": item(many=True),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "Meta": type("Meta", (), {"ref_name": name}),
        },
    )
