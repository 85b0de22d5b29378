"""Billing API: `POST /api/v1/billing/sso` opens the external billing portal, signed in."""

from __future__ import annotations

from typing import Any, ClassVar

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.apis.base import TenantApi
from accounts.models import Role
from accounts.services.audit import RequestContext
from billing import examples
from billing.services import billing_sso_issue
from core.openapi import error_response, error_responses
from core.serializers import InputSerializer as BaseInputSerializer


class BillingSsoApi(TenantApi):
    required_roles: ClassVar[dict[str, str]] = {"POST": Role.CLIENT_ADMIN}

    class InputSerializer(BaseInputSerializer):
        account = serializers.IntegerField(required=False, help_text="Account id; SUPER_ADMIN only, and required.")

        class Meta:
            ref_name = "BillingSsoRequest"

    class OutputSerializer(serializers.Serializer[Any]):
        url = serializers.URLField(help_text="The portal URL with a signed token valid for five minutes.")

        class Meta:
            ref_name = "BillingSso"

    @extend_schema(
        operation_id="billing_sso_create",
        summary="Open the billing portal",
        description=(
            "Answers the billing portal URL with `?token=<JWT>`: HS256 signed with `BILLING_SSO_SECRET`, valid "
            "for five minutes, with claims `iss` (`BILLING_SSO_ISSUER`, default SITE_URL), `aud` "
            "(`BILLING_SSO_AUDIENCE`, default `skybot-billing`), `account`, `account_slug`, `user`, `email`, "
            "`role`, `jti`, `iat`, `exp`. CLIENT_ADMIN or above, as a person (not an API key). "
            "503 `billing_not_configured` when `BILLING_PORTAL_URL` or `BILLING_SSO_SECRET` is unset."
        ),
        request=InputSerializer,
        examples=examples.SSO,
        responses={
            200: OutputSerializer,
            **error_responses(),
            400: error_response(
                400,
                message="Only platform staff may name an account; everybody else acts in their own.",
                details={"account": ["Only platform staff may name an account."]},
            ),
            503: error_response(503, code="billing_not_configured", message="The billing portal is not configured."),
        },
    )
    def post(self, request: Request) -> Response:
        data = self.validated(BillingSsoApi.InputSerializer, request)
        account = self.account_for_create(data.get("account"))
        link = billing_sso_issue(account=account, actor=self.principal, context=RequestContext.from_request(request))
        return Response(BillingSsoApi.OutputSerializer({"url": link.url}).data)
