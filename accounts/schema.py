"""OpenAPI descriptions of the two ways to authenticate: API keys and JWT access tokens.

drf-spectacular finds these extensions by subclass registration, so this module must be imported
before the schema is generated; the API modules import it.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """An API key goes in `X-API-Key` or as a bearer token; either one is enough."""

    target_class = "accounts.authentication.ApiKeyAuthentication"
    name = ["apiKeyHeader", "apiKeyBearer"]

    def get_security_requirement(self, auto_schema: Any) -> list[dict[str, list[Any]]]:
        return [{"apiKeyHeader": []}, {"apiKeyBearer": []}]

    def get_security_definition(self, auto_schema: Any) -> list[dict[str, Any]]:
        return [
            {
                "type": "apiKey",
                "in": "header",
                "name": "X-API-Key",
                "description": "A tenant API key, `sk_live_<prefix>_<secret>`.",
            },
            {
                **build_bearer_security_scheme_object(
                    header_name="HTTP_AUTHORIZATION", token_prefix="Bearer", bearer_format="sk_live_<prefix>_<secret>"
                ),
                "description": "The same API key sent as `Authorization: Bearer sk_live_...`.",
            },
        ]


class JwtScheme(OpenApiAuthenticationExtension):
    """A person's access token from `POST /api/v1/auth/token`."""

    target_class = "accounts.authentication.JwtAuthentication"
    name = "jwtAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return build_bearer_security_scheme_object(
            header_name="HTTP_AUTHORIZATION", token_prefix="Bearer", bearer_format="JWT"
        )
