"""WhatsApp channels of a tenant, and sandbox numbers (no Meta account). Tokens and secrets are write-only."""

from __future__ import annotations

from django.conf import settings
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.apis.base import TenantApi
from accounts.models import Role
from accounts.services.audit import RequestContext
from core.openapi import PAGE_PARAMETERS, error_response, error_responses, page_of
from core.serializers import InputSerializer
from inbox.apis import examples
from inbox.models import Channel
from inbox.services.channels import channel_create, channel_update
from inbox.services.sandbox import MAX_SANDBOX_NUMBERS, sandbox_channel_create

ADMIN_WRITES = {**TenantApi.required_roles, "POST": Role.CLIENT_ADMIN, "PATCH": Role.CLIENT_ADMIN}


class ChannelSerializer(serializers.ModelSerializer[Channel]):
    webhook_url = serializers.SerializerMethodField()
    has_app_secret = serializers.SerializerMethodField()
    has_verify_token = serializers.SerializerMethodField()

    class Meta:
        model = Channel
        ref_name = "Channel"
        fields = [
            "id",
            "account",
            "name",
            "phone_number_id",
            "display_phone_number",
            "business_account_id",
            "is_active",
            "is_sandbox",
            "has_app_secret",
            "has_verify_token",
            "webhook_url",
            "created_at",
            "updated_at",
        ]

    def get_webhook_url(self, channel: Channel) -> str:
        """Paste this into Meta's webhook configuration."""
        return f"{settings.SITE_URL}/webhooks/whatsapp"

    def get_has_app_secret(self, channel: Channel) -> bool:
        return bool(channel.app_secret)

    def get_has_verify_token(self, channel: Channel) -> bool:
        return bool(channel.verify_token)


class ChannelListApi(TenantApi):
    required_roles = ADMIN_WRITES

    class ChannelCreateInput(InputSerializer):
        name = serializers.CharField(max_length=100, required=False, default="")
        phone_number_id = serializers.RegexField(r"^\d{5,32}$", help_text="Meta's phone number id (digits).")
        display_phone_number = serializers.CharField(max_length=32)
        business_account_id = serializers.RegexField(r"^\d{0,32}$", required=False, default="")
        access_token = serializers.CharField(write_only=True, max_length=1000, trim_whitespace=True)
        app_secret = serializers.CharField(write_only=True, max_length=200, required=False, default="")
        verify_token = serializers.CharField(write_only=True, max_length=200, required=False, default="")
        account = serializers.IntegerField(required=False, help_text="Platform staff only: the tenant's id.")

    @extend_schema(
        operation_id="channels_list",
        summary="List WhatsApp channels",
        parameters=PAGE_PARAMETERS,
        examples=examples.CHANNEL_LIST,
        responses={
            200: page_of(ChannelSerializer, "ChannelPage"),
            **error_responses(400, field_errors={"cursor": ["Invalid cursor."]}),
        },
    )
    def get(self, request: Request) -> Response:
        queryset = self.scoped(Channel.objects.all())
        return self.paginated(queryset, ChannelSerializer)

    @extend_schema(
        operation_id="channels_create",
        summary="Connect a WhatsApp number",
        description=(
            "Meta's Graph API must confirm that `access_token` can read `phone_number_id` before the number is "
            "connected; otherwise the answer is a 400 at `phone_number_id` (the same answer when the number is "
            "connected to another account), or a 503 when the Graph API cannot be reached. "
            "`access_token`, `app_secret` and `verify_token` are stored encrypted and never returned."
        ),
        request=ChannelCreateInput,
        examples=examples.CHANNEL_CREATE,
        responses={
            201: ChannelSerializer,
            **error_responses(
                400, 503, field_errors={"phone_number_id": ["This value does not match the required pattern."]}
            ),
        },
    )
    def post(self, request: Request) -> Response:
        data = self.validated(self.ChannelCreateInput, request)
        account = self.account_for_create(data.pop("account", None))
        channel = channel_create(
            account=account, actor=self.principal, context=RequestContext.from_request(request), **data
        )
        return Response(ChannelSerializer(channel).data, status=status.HTTP_201_CREATED)


class ChannelSandboxCreateApi(TenantApi):
    required_roles = {**TenantApi.required_roles, "POST": Role.CLIENT_ADMIN}

    class SandboxCreateInput(InputSerializer):
        name = serializers.CharField(max_length=100, required=False, default="", help_text="Empty: “Sandbox”.")
        account = serializers.IntegerField(required=False, help_text="Platform staff only: the tenant's id.")

    @extend_schema(
        operation_id="channels_sandbox_create",
        summary="Add a sandbox number",
        description=(
            "A WhatsApp number inside the platform, to try everything without a Meta account: customers are "
            "simulated (the customer simulator page), their messages come through the signed WhatsApp webhook "
            "like real ones, and replies are accepted by a built-in stand-in for the Graph API, never sent to "
            "Meta. It has an app secret of its own and no access token; `is_sandbox` is true. A workspace has "
            f"at most {MAX_SANDBOX_NUMBERS} (409 `sandbox_limit`). See docs/whatsapp.md."
        ),
        request=SandboxCreateInput,
        examples=examples.CHANNEL_SANDBOX_CREATE,
        responses={
            201: ChannelSerializer,
            **error_responses(400, field_errors={"name": ["Ensure this field has no more than 100 characters."]}),
            409: error_response(
                409,
                code="sandbox_limit",
                message=f"A workspace has at most {MAX_SANDBOX_NUMBERS} sandbox numbers: delete or reuse one.",
            ),
        },
    )
    def post(self, request: Request) -> Response:
        data = self.validated(self.SandboxCreateInput, request)
        account = self.account_for_create(data.pop("account", None))
        channel = sandbox_channel_create(
            account=account, actor=self.principal, context=RequestContext.from_request(request), **data
        )
        return Response(ChannelSerializer(channel).data, status=status.HTTP_201_CREATED)


class ChannelDetailApi(TenantApi):
    required_roles = ADMIN_WRITES

    class ChannelUpdateInput(InputSerializer):
        name = serializers.CharField(max_length=100, required=False)
        display_phone_number = serializers.CharField(max_length=32, required=False)
        business_account_id = serializers.RegexField(r"^\d{0,32}$", required=False)
        access_token = serializers.CharField(write_only=True, max_length=1000, required=False)
        app_secret = serializers.CharField(write_only=True, max_length=200, required=False, allow_blank=True)
        verify_token = serializers.CharField(write_only=True, max_length=200, required=False, allow_blank=True)
        is_active = serializers.BooleanField(required=False)

    @extend_schema(
        operation_id="channels_retrieve",
        summary="Show a channel",
        examples=examples.CHANNEL_DETAIL,
        responses={200: ChannelSerializer, **error_responses(404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(ChannelSerializer(self.get_scoped_object(Channel.objects.all(), pk=pk)).data)

    @extend_schema(
        operation_id="channels_update",
        summary="Update a channel",
        description="Rotate its token or secrets, rename it, or deactivate it (`is_active: false`).",
        request=ChannelUpdateInput,
        examples=examples.CHANNEL_UPDATE,
        responses={
            200: ChannelSerializer,
            **error_responses(400, 404, field_errors={"is_active": ["Must be true or false."]}),
        },
    )
    def patch(self, request: Request, pk: int) -> Response:
        channel = self.get_scoped_object(Channel.objects.all(), pk=pk)
        data = self.validated(self.ChannelUpdateInput, request)
        channel = channel_update(
            channel=channel, actor=self.principal, context=RequestContext.from_request(request), **data
        )
        return Response(ChannelSerializer(channel).data)


urlpatterns = [
    path("channels", ChannelListApi.as_view(), name="channel-list"),
    path("channels/sandbox", ChannelSandboxCreateApi.as_view(), name="channel-sandbox-create"),
    path("channels/<int:pk>", ChannelDetailApi.as_view(), name="channel-detail"),
]
