"""A tenant's own n8n router: `/api/v1/router` shows, replaces or removes the override of the
master router (`N8N_MASTER_ROUTER_URL`). The signing secret is write-only."""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.apis.base import TenantApi
from accounts.models import Account, Role
from accounts.services.audit import RequestContext
from core import outbound
from core.exceptions import ApplicationError
from core.filters import parse_id
from core.openapi import error_responses
from core.serializers import InputSerializer
from inbox.apis import examples
from inbox.models import RouterConfig
from inbox.services.routing import router_config_delete, router_config_update

ACCOUNT_PARAMETER = OpenApiParameter(
    "account", int, description="Platform staff only, and required for them: the tenant's id."
)


def _invalid(field: str, message: str) -> ApplicationError:
    return ApplicationError("Invalid input.", code="validation_error", details={field: [message]})


class RouterConfigSerializer(serializers.ModelSerializer[RouterConfig]):
    has_secret = serializers.SerializerMethodField(help_text="Whether deliveries are signed; the secret never leaves.")

    class Meta:
        model = RouterConfig
        ref_name = "RouterConfig"
        fields = ["url", "is_active", "has_secret", "created_at", "updated_at"]

    def get_has_secret(self, config: RouterConfig) -> bool:
        return bool(config.secret)


class MasterRouterSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(help_text="N8N_MASTER_ROUTER_NAME, sent as `router` in each body.")
    url_configured = serializers.BooleanField(help_text="Whether N8N_MASTER_ROUTER_URL is set on this server.")

    class Meta:
        ref_name = "MasterRouter"


class RouterSettingsSerializer(serializers.Serializer[Any]):
    account = serializers.IntegerField()
    in_use = serializers.CharField(
        help_text=(
            "Where inbound messages go now: `account` (this tenant's own active router), `master` "
            "(the platform's router) or `none` (not forwarded)."
        )
    )
    config = RouterConfigSerializer(allow_null=True, help_text="This tenant's own router; null when it has none.")
    master = MasterRouterSerializer()

    class Meta:
        ref_name = "RouterSettings"


def router_settings(account: Account) -> dict[str, Any]:
    """What `/api/v1/router` answers; `in_use` follows the same rule as `router_for`."""
    config = RouterConfig.objects.filter(account=account).first()
    if config is not None and config.is_active:
        in_use = "account"
    elif settings.N8N_MASTER_ROUTER_URL:
        in_use = "master"
    else:
        in_use = "none"
    return {
        "account": account.pk,
        "in_use": in_use,
        "config": config,
        "master": {"name": settings.N8N_MASTER_ROUTER_NAME, "url_configured": bool(settings.N8N_MASTER_ROUTER_URL)},
    }


class RouterApi(TenantApi):
    required_roles: ClassVar[dict[str, str]] = {
        **TenantApi.required_roles,
        "GET": Role.CLIENT_ADMIN,
        "HEAD": Role.CLIENT_ADMIN,
        "PUT": Role.CLIENT_ADMIN,
        "DELETE": Role.CLIENT_ADMIN,
    }

    class RouterUpdateInput(InputSerializer):
        url = serializers.CharField(
            max_length=500, help_text="Absolute http(s) URL of the router's webhook, without credentials."
        )
        secret = serializers.CharField(
            write_only=True,
            required=False,
            allow_blank=True,
            max_length=500,
            trim_whitespace=False,
            help_text="Signing secret. Omitted: the stored one is kept; empty: deliveries are no longer signed.",
        )
        is_active = serializers.BooleanField(
            required=False, default=True, help_text="false: fall back to the master router."
        )

        def validate_url(self, value: str) -> str:
            value = value.strip()
            try:
                parts = urlsplit(value)
                parts.port  # noqa: B018 - raises ValueError for a port out of range
            except ValueError as exc:
                raise serializers.ValidationError("Enter a valid URL.") from exc
            if parts.scheme not in ("http", "https"):
                raise serializers.ValidationError("Only http and https URLs are accepted.")
            if not parts.hostname:
                raise serializers.ValidationError("The URL needs a host.")
            if parts.username is not None or parts.password is not None:
                raise serializers.ValidationError("Put no credentials in the URL: use `secret` to sign deliveries.")
            if any(char.isspace() or ord(char) < 32 for char in value):
                raise serializers.ValidationError("Enter a valid URL.")
            try:
                outbound.check_url(value, require_https=False)
            except outbound.BlockedDestination as exc:
                raise serializers.ValidationError(str(exc)) from None
            return value

    def _account(self, request: Request) -> Account:
        """The caller's tenant; platform staff name it with `?account=<id>`."""
        requested = request.query_params.get("account")
        if not self.principal.is_platform:
            if requested is not None:
                raise _invalid("account", "Only platform staff may choose the account.")
            assert self.principal.account is not None
            return self.principal.account
        if not requested:
            raise _invalid("account", "Platform staff must name the account (?account=<id>).")
        account_id = parse_id(requested)
        account = Account.objects.filter(pk=account_id).first() if account_id is not None else None
        if account is None:
            raise _invalid("account", "No such account.")
        return account

    @extend_schema(
        operation_id="router_retrieve",
        summary="Show where inbound messages are forwarded",
        description=(
            "The tenant's own n8n router (`config`, null when it has none) and the platform's master "
            "router (its name, and whether one is configured). `in_use` says which one receives new "
            "messages. The secret is never returned; `has_secret` says whether one is set. CLIENT_ADMIN."
        ),
        parameters=[ACCOUNT_PARAMETER],
        examples=examples.ROUTER_DETAIL,
        responses={
            200: RouterSettingsSerializer,
            **error_responses(400, field_errors={"account": ["Only platform staff may choose the account."]}),
        },
    )
    def get(self, request: Request) -> Response:
        return Response(RouterSettingsSerializer(router_settings(self._account(request))).data)

    @extend_schema(
        operation_id="router_update",
        summary="Use this tenant's own n8n router",
        description=(
            "Creates or replaces the tenant's router: every inbound message is then POSTed to `url` "
            "(signed with `secret` when one is set) instead of the master router. `secret` is write-only "
            "and stored encrypted; leave it out to keep the stored one. `is_active: false` keeps the "
            "settings but falls back to the master router. Audited as `router.updated`. CLIENT_ADMIN."
        ),
        parameters=[ACCOUNT_PARAMETER],
        request=RouterUpdateInput,
        examples=examples.ROUTER_UPDATE,
        responses={
            200: RouterSettingsSerializer,
            **error_responses(400, field_errors={"url": ["Only http and https URLs are accepted."]}),
        },
    )
    def put(self, request: Request) -> Response:
        account = self._account(request)
        data = self.validated(self.RouterUpdateInput, request)
        router_config_update(
            account=account, actor=self.principal, context=RequestContext.from_request(request), **data
        )
        return Response(RouterSettingsSerializer(router_settings(account)).data)

    @extend_schema(
        operation_id="router_destroy",
        summary="Go back to the master router",
        description=(
            "Removes the tenant's own router (and its secret); inbound messages go to the master router "
            "again. Answers 204 whether or not one was set. Audited as `router.deleted`. CLIENT_ADMIN."
        ),
        parameters=[ACCOUNT_PARAMETER],
        request=None,
        responses={
            204: OpenApiResponse(description="No own router any more."),
            **error_responses(400, field_errors={"account": ["Only platform staff may choose the account."]}),
        },
    )
    def delete(self, request: Request) -> Response:
        account = self._account(request)
        router_config_delete(account=account, actor=self.principal, context=RequestContext.from_request(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns = [
    path("router", RouterApi.as_view(), name="router"),
]
