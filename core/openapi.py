"""OpenAPI pieces every API shares: the one error body and its documented responses."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse
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
    503: "A required service is not configured or not reachable.",
}


class ApiErrorSerializer(serializers.Serializer[Any]):
    """Every error answers this shape."""

    code = serializers.CharField(help_text="Machine-readable error code.")
    message = serializers.CharField()
    details = serializers.DictField(child=serializers.JSONField(), help_text="Field errors or other details.")

    class Meta:
        ref_name = "ApiError"


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """`responses=` entries for the given error statuses (401, 403 and 429 are always possible)."""
    codes = sorted({401, 403, 429, *statuses})
    return {code: OpenApiResponse(ApiErrorSerializer, description=ERROR_DESCRIPTIONS[code]) for code in codes}


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
