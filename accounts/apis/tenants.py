"""Tenants: `/api/v1/admin/accounts`, for platform staff (SUPER_ADMIN) only.

DELETE deactivates the tenant instead of destroying its data: its people and API keys stop
authenticating, and every row it owns stays for the audit trail.
"""

from __future__ import annotations

from typing import Any, ClassVar

import django_filters
from django.db.models import Q, QuerySet
from django.urls import path
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.apis import examples
from accounts.apis.base import TenantApi
from accounts.models import Account, Plan, Role
from accounts.services.audit import RequestContext
from accounts.services.tenants import account_create, account_deactivate, account_update
from core.exceptions import Forbidden, NotFound
from core.filters import StrictBooleanFilter
from core.openapi import error_responses
from core.pagination import CursorPagination
from core.serializers import InputSerializer as BaseInputSerializer

PLATFORM_ONLY: dict[str, str] = dict.fromkeys(
    ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"), Role.SUPER_ADMIN
)


class AccountOutputSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    slug = serializers.SlugField(read_only=True)
    plan = serializers.ChoiceField(choices=Plan.choices, read_only=True)
    is_active = serializers.BooleanField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    class Meta:
        ref_name = "AdminAccount"


class AccountFilter(django_filters.FilterSet):
    is_active = StrictBooleanFilter()
    plan = django_filters.ChoiceFilter(choices=Plan.choices)
    q = django_filters.CharFilter(method="search", help_text="Part of the name or slug.")

    class Meta:
        model = Account
        fields = ["is_active", "plan", "q"]

    def search(self, queryset: QuerySet[Account], name: str, value: str) -> QuerySet[Account]:
        return queryset.filter(Q(name__icontains=value) | Q(slug__icontains=value))


class _PlatformApi(TenantApi):
    required_roles: ClassVar[dict[str, str]] = PLATFORM_ONLY

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if not self.principal.is_platform:
            raise Forbidden()

    def get_account(self, pk: int) -> Account:
        account = Account.objects.filter(pk=pk).first()
        if account is None:
            raise NotFound()
        return account


class AccountListApi(_PlatformApi):
    queryset = Account.objects.none()  # for the schema's filter parameters
    filter_backends: ClassVar[list[type]] = [DjangoFilterBackend]
    filterset_class = AccountFilter
    pagination_class = CursorPagination

    @extend_schema(
        operation_id="admin_accounts_list",
        summary="List tenants",
        examples=examples.ACCOUNT_LIST,
        responses={
            200: AccountOutputSerializer(many=True),
            **error_responses(
                400, field_errors={"plan": ["Select a valid choice. gold is not one of the available choices."]}
            ),
        },
    )
    def get(self, request: Request) -> Response:
        queryset = DjangoFilterBackend().filter_queryset(request, Account.objects.all(), self)
        return self.paginated(queryset, AccountOutputSerializer)


class AccountCreateApi(_PlatformApi):
    class InputSerializer(BaseInputSerializer):
        name = serializers.CharField(max_length=200)
        slug = serializers.SlugField(max_length=64)
        plan = serializers.ChoiceField(choices=Plan.choices, default=Plan.FREE)
        is_active = serializers.BooleanField(default=True)

        class Meta:
            ref_name = "AdminAccountCreate"

    @extend_schema(
        operation_id="admin_accounts_create",
        summary="Create a tenant",
        request=InputSerializer,
        examples=examples.ACCOUNT_CREATE,
        responses={
            201: AccountOutputSerializer,
            **error_responses(400, field_errors={"slug": ["An account with this slug already exists."]}),
        },
    )
    def post(self, request: Request) -> Response:
        account = account_create(
            actor=self.principal,
            context=RequestContext.from_request(request),
            **self.validated(AccountCreateApi.InputSerializer, request),
        )
        return Response(AccountOutputSerializer(account).data, status=status.HTTP_201_CREATED)


class AccountDetailApi(_PlatformApi):
    @extend_schema(
        operation_id="admin_accounts_retrieve",
        summary="Get a tenant",
        examples=examples.ACCOUNT_DETAIL,
        responses={200: AccountOutputSerializer, **error_responses(404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(AccountOutputSerializer(self.get_account(pk)).data)


class AccountUpdateApi(_PlatformApi):
    class InputSerializer(BaseInputSerializer):
        name = serializers.CharField(max_length=200, required=False)
        slug = serializers.SlugField(max_length=64, required=False)
        plan = serializers.ChoiceField(choices=Plan.choices, required=False)
        is_active = serializers.BooleanField(required=False)

        class Meta:
            ref_name = "AdminAccountUpdate"

    @extend_schema(
        operation_id="admin_accounts_partial_update",
        summary="Update a tenant",
        request=InputSerializer,
        examples=examples.ACCOUNT_UPDATE,
        responses={
            200: AccountOutputSerializer,
            **error_responses(400, 404, field_errors={"plan": ['"gold" is not a valid choice.']}),
        },
    )
    def patch(self, request: Request, pk: int) -> Response:
        account = self.get_account(pk)
        account = account_update(
            account=account,
            actor=self.principal,
            context=RequestContext.from_request(request),
            **self.validated(AccountUpdateApi.InputSerializer, request, partial=True),
        )
        return Response(AccountOutputSerializer(account).data)


class AccountDeactivateApi(_PlatformApi):
    @extend_schema(
        operation_id="admin_accounts_destroy",
        summary="Deactivate a tenant",
        description=(
            "Deactivates the tenant (`is_active` false) instead of deleting it: its data stays, its people "
            "and API keys can no longer authenticate. PATCH `is_active: true` switches it back on."
        ),
        responses={204: OpenApiResponse(description="Deactivated."), **error_responses(404)},
    )
    def delete(self, request: Request, pk: int) -> Response:
        account_deactivate(
            account=self.get_account(pk), actor=self.principal, context=RequestContext.from_request(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class AccountCollectionApi(AccountListApi, AccountCreateApi):
    """GET and POST on `/admin/accounts`."""


class AccountItemApi(AccountDetailApi, AccountUpdateApi, AccountDeactivateApi):
    """GET, PATCH and DELETE on `/admin/accounts/<id>`."""


urlpatterns = [
    path("admin/accounts", AccountCollectionApi.as_view(), name="admin-accounts"),
    path("admin/accounts/<int:pk>", AccountItemApi.as_view(), name="admin-account-detail"),
]
