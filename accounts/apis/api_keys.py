"""API keys of a tenant: list, create, show, rotate, revoke (CLIENT_ADMIN and up).

The full key (`key`) appears in exactly two responses: creation and rotation. Everything else
shows the prefix only.
"""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import schema as _auth_schemes  # noqa: F401  (registers the OpenAPI auth schemes)
from accounts.apis import examples
from accounts.apis.base import TenantApi
from accounts.models import ApiKeyScope, Role
from accounts.selectors import api_key_get, api_key_list
from accounts.services.api_keys import MAX_GRACE_SECONDS, IssuedKey, api_key_create, api_key_revoke, api_key_rotate
from accounts.services.audit import RequestContext
from core.openapi import PAGE_PARAMETERS, error_response, error_responses, page_of
from core.serializers import InputSerializer as BaseInputSerializer

ADMIN_ONLY: dict[str, str] = {"GET": Role.CLIENT_ADMIN, "POST": Role.CLIENT_ADMIN, "DELETE": Role.CLIENT_ADMIN}


class ApiKeySerializer(serializers.Serializer[Any]):
    """An API key as every response but create/rotate shows it: never the secret or its hash."""

    id = serializers.IntegerField()
    account = serializers.IntegerField(source="account_id")
    name = serializers.CharField()
    prefix = serializers.CharField()
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=ApiKeyScope.choices))
    last_used_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    is_active = serializers.BooleanField()
    revoked_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    created_by = serializers.EmailField(source="created_by.email", allow_null=True, read_only=True)

    class Meta:
        ref_name = "ApiKey"


class IssuedApiKeySerializer(serializers.Serializer[Any]):
    """A key just created or rotated, with its full secret: shown this once, never again."""

    id = serializers.IntegerField(source="api_key.id")
    account = serializers.IntegerField(source="api_key.account_id")
    name = serializers.CharField(source="api_key.name")
    prefix = serializers.CharField(source="api_key.prefix")
    scopes = serializers.ListField(source="api_key.scopes", child=serializers.ChoiceField(choices=ApiKeyScope.choices))
    expires_at = serializers.DateTimeField(source="api_key.expires_at", allow_null=True)
    created_at = serializers.DateTimeField(source="api_key.created_at")
    previous_valid_until = serializers.DateTimeField(
        source="api_key.previous_valid_until",
        allow_null=True,
        help_text="Until when the secret this rotation replaced keeps working (null: not at all).",
    )
    key = serializers.CharField(help_text="The full key, `sk_live_<prefix>_<secret>`. Store it now.")

    class Meta:
        ref_name = "IssuedApiKey"


class ApiKeyListApi(TenantApi):
    """`GET` lists the tenant's keys; `POST` creates one (same path, two operations)."""

    required_roles = ADMIN_ONLY

    class InputSerializer(BaseInputSerializer):
        name = serializers.CharField(max_length=100)
        scopes = serializers.ListField(
            child=serializers.ChoiceField(choices=ApiKeyScope.choices), allow_empty=False, max_length=3
        )
        expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
        account = serializers.IntegerField(
            required=False,
            min_value=1,
            help_text="The tenant (id) the key belongs to: required for platform staff, refused for everyone else.",
        )

        class Meta:
            ref_name = "ApiKeyCreateInput"

    @extend_schema(
        operation_id="api_keys_list",
        summary="List API keys",
        parameters=[
            OpenApiParameter("is_active", bool, description="Only active (true) or only revoked (false) keys."),
            *PAGE_PARAMETERS,
        ],
        examples=examples.API_KEY_LIST,
        responses={
            200: page_of(ApiKeySerializer, "ApiKeyPage"),
            **error_responses(400, field_errors={"cursor": ["Invalid cursor."]}),
        },
    )
    def get(self, request: Request) -> Response:
        keys = api_key_list(principal=self.principal, filters=request.query_params)
        return self.paginated(keys, ApiKeySerializer)

    @extend_schema(
        operation_id="api_keys_create",
        summary="Create an API key",
        description="Answers the full key as `key`, once; no other response contains it.",
        request=InputSerializer,
        examples=examples.API_KEY_CREATE,
        responses={
            201: IssuedApiKeySerializer,
            **error_responses(),
            400: error_response(
                400, message="The expiry must be in the future.", details={"expires_at": ["Must be in the future."]}
            ),
        },
    )
    def post(self, request: Request) -> Response:
        data = self.validated(self.InputSerializer, request)
        account = self.account_for_create(data.pop("account", None))
        issued = api_key_create(
            account=account,
            actor=self.principal,
            context=RequestContext.from_request(request),
            **data,
        )
        return Response(IssuedApiKeySerializer(issued).data, status=status.HTTP_201_CREATED)


class ApiKeyDetailApi(TenantApi):
    """`GET` shows one key; `DELETE` revokes it (same path, two operations)."""

    required_roles = ADMIN_ONLY

    @extend_schema(
        operation_id="api_keys_retrieve",
        summary="Show an API key",
        examples=examples.API_KEY_DETAIL,
        responses={200: ApiKeySerializer, **error_responses(404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(ApiKeySerializer(api_key_get(principal=self.principal, pk=pk)).data)

    @extend_schema(
        operation_id="api_keys_revoke",
        summary="Revoke an API key",
        description="The key, and any old secret still in its rotation grace period, stops working at once.",
        responses={204: OpenApiResponse(description="Revoked."), **error_responses(404)},
    )
    def delete(self, request: Request, pk: int) -> Response:
        api_key = api_key_get(principal=self.principal, pk=pk)
        api_key_revoke(api_key=api_key, actor=self.principal, context=RequestContext.from_request(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ApiKeyRotateApi(TenantApi):
    required_roles = ADMIN_ONLY

    class InputSerializer(BaseInputSerializer):
        grace_seconds = serializers.IntegerField(
            min_value=0,
            max_value=MAX_GRACE_SECONDS,
            default=0,
            help_text="How long the replaced secret keeps working (0 to 7 days; default 0: it stops now).",
        )

        class Meta:
            ref_name = "ApiKeyRotateInput"

    @extend_schema(
        operation_id="api_keys_rotate",
        summary="Rotate an API key",
        description="Issues a new secret for the same key (same prefix). Answers the full new key once.",
        request=InputSerializer,
        examples=examples.API_KEY_ROTATE,
        responses={
            200: IssuedApiKeySerializer,
            **error_responses(
                400, 404, field_errors={"grace_seconds": ["Ensure this value is less than or equal to 604800."]}
            ),
            409: error_response(
                409, "The key is revoked.", code="api_key_revoked", message="A revoked key cannot be rotated."
            ),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        api_key = api_key_get(principal=self.principal, pk=pk)
        issued: IssuedKey = api_key_rotate(
            api_key=api_key,
            actor=self.principal,
            context=RequestContext.from_request(request),
            **self.validated(self.InputSerializer, request),
        )
        return Response(IssuedApiKeySerializer(issued).data)


urlpatterns = [
    path("api-keys", ApiKeyListApi.as_view(), name="api-keys"),
    path("api-keys/<int:pk>", ApiKeyDetailApi.as_view(), name="api-key-detail"),
    path("api-keys/<int:pk>/rotate", ApiKeyRotateApi.as_view(), name="api-key-rotate"),
]
