"""List pagination: cursor-based, newest first, `{"results", "next", "previous"}`."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, pagination
from rest_framework.request import Request


class CursorPagination(pagination.CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-created_at", "-id")

    def decode_cursor(self, request: Request) -> Any:
        # DRF answers a cursor it cannot read with a 404; it is bad input, so a 400 about `cursor`.
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound:
            raise exceptions.ValidationError({"cursor": ["Invalid cursor."]}) from None

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        """The page as every list answers it: all three keys always present; the example is a
        last (and only) page, since a real `next` URL depends on the list's path."""
        page = super().get_paginated_response_schema(schema)
        page["required"] = ["results", "next", "previous"]
        for link in ("next", "previous"):
            page["properties"][link]["example"] = None
        return page
