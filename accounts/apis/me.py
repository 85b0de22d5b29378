"""`GET /api/v1/me`: who the credential belongs to. Integrations call it to test a key."""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import schema as _auth_schemes  # noqa: F401  (registers the OpenAPI auth schemes)
from accounts.apis import examples
from accounts.apis.base import TenantApi
from accounts.models import ApiKeyScope, Role
from accounts.principals import Principal
from core.openapi import error_response

LEGACY_KEY_NAME = "Platform key"


class MeAccountSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()

    class Meta:
        ref_name = "MeAccount"


class MeUserSerializer(serializers.Serializer[Any]):
    """A person signed in with a JWT or a session."""

    type = serializers.CharField(help_text="Always `user`.")
    account = MeAccountSerializer(allow_null=True, help_text="Null for platform staff.")
    id = serializers.IntegerField()
    email = serializers.EmailField()
    full_name = serializers.CharField()
    role = serializers.ChoiceField(choices=Role.choices)

    class Meta:
        ref_name = "MeUser"


class MeApiKeySerializer(serializers.Serializer[Any]):
    """An API key; the legacy platform key has no id, no prefix and no account."""

    type = serializers.CharField(help_text="Always `api_key`.")
    account = MeAccountSerializer(allow_null=True, help_text="Null for the legacy platform key.")
    id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    prefix = serializers.CharField(allow_null=True)
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=ApiKeyScope.choices))
    role = serializers.ChoiceField(choices=Role.choices, help_text="The role the key acts with: its highest scope.")

    class Meta:
        ref_name = "MeApiKey"


def _account(principal: Principal) -> dict[str, Any] | None:
    account = principal.account
    if account is None:
        return None
    return {"id": account.pk, "name": account.name, "slug": account.slug}


def me_describe(principal: Principal) -> dict[str, Any]:
    """The caller as `/me` answers it."""
    if principal.user is not None:
        user = principal.user
        return MeUserSerializer(
            {
                "type": "user",
                "account": _account(principal),
                "id": user.pk,
                "email": user.email,
                "full_name": user.full_name,
                "role": principal.role,
            }
        ).data
    api_key = principal.api_key
    return MeApiKeySerializer(
        {
            "type": "api_key",
            "account": _account(principal),
            "id": api_key.pk if api_key else None,
            "name": api_key.name if api_key else LEGACY_KEY_NAME,
            "prefix": api_key.prefix if api_key else None,
            "scopes": list(principal.scopes),
            "role": principal.role,
        }
    ).data


class MeApi(TenantApi):
    required_roles = {"GET": Role.VIEWER}

    @extend_schema(
        operation_id="me_retrieve",
        summary="Who am I",
        description="Answers the caller for any valid credential; use it to test an API key.",
        examples=examples.ME,
        responses={
            200: PolymorphicProxySerializer(
                component_name="Me",
                serializers={"user": MeUserSerializer, "api_key": MeApiKeySerializer},
                resource_type_field_name="type",
            ),
            401: error_response(401),
            429: error_response(429),
        },
    )
    def get(self, request: Request) -> Response:
        return Response(me_describe(self.principal))


urlpatterns = [path("me", MeApi.as_view(), name="me")]
