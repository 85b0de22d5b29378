"""People of a tenant: `/api/v1/users` (CLIENT_ADMIN within its tenant, SUPER_ADMIN anywhere).

One class per operation; the two operations that share a path are joined into one routed view
(`UserCollectionApi`, `UserItemApi`) because a URL has one view.
"""

from __future__ import annotations

from typing import Any, ClassVar

import django_filters
from django.db.models import QuerySet
from django.urls import path
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.apis import examples
from accounts.apis.base import TenantApi
from accounts.models import Account, Role, User
from accounts.services.audit import RequestContext
from accounts.services.users import user_create, user_delete, user_update
from core.filters import IdFilter, StrictBooleanFilter
from core.openapi import error_response, error_responses
from core.pagination import CursorPagination
from core.serializers import InputSerializer as BaseInputSerializer

ADMIN_ONLY: dict[str, str] = dict.fromkeys(
    ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"), Role.CLIENT_ADMIN
)


LAST_ADMIN = error_response(
    409,
    "The last active administrator of a tenant cannot be demoted, deactivated or deleted.",
    code="last_admin",
    message="This is the last active administrator of the account; appoint another one first.",
)


class UserOutputSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(read_only=True)
    email = serializers.EmailField(read_only=True)
    full_name = serializers.CharField(read_only=True)
    account = serializers.IntegerField(source="account_id", allow_null=True, read_only=True)
    role = serializers.ChoiceField(choices=Role.choices, read_only=True)
    is_active = serializers.BooleanField(read_only=True)
    last_login = serializers.DateTimeField(allow_null=True, read_only=True)
    date_joined = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    class Meta:
        ref_name = "User"


class UserPagination(CursorPagination):
    ordering = ("-date_joined", "-id")


class UserFilter(django_filters.FilterSet):
    account = IdFilter(field_name="account_id", help_text="Account id (SUPER_ADMIN).")
    role = django_filters.ChoiceFilter(choices=Role.choices)
    is_active = StrictBooleanFilter()
    email = django_filters.CharFilter(field_name="email", lookup_expr="icontains", help_text="Part of the email.")

    class Meta:
        model = User
        fields = ["account", "role", "is_active", "email"]


class _UserApi(TenantApi):
    required_roles: ClassVar[dict[str, str]] = ADMIN_ONLY

    def users(self) -> QuerySet[User]:
        return self.scoped(User.objects.all())

    def get_user(self, pk: int) -> User:
        return self.get_scoped_object(User.objects.select_related("account"), pk=pk)


class UserListApi(_UserApi):
    queryset = User.objects.none()  # for the schema's filter parameters
    filter_backends: ClassVar[list[type]] = [DjangoFilterBackend]
    filterset_class = UserFilter
    pagination_class = UserPagination

    @extend_schema(
        operation_id="users_list",
        summary="List users",
        description="CLIENT_ADMIN: its tenant's users. SUPER_ADMIN: everyone (filter with `account`).",
        examples=examples.USER_LIST,
        responses={
            200: UserOutputSerializer(many=True),
            **error_responses(
                400, field_errors={"role": ["Select a valid choice. OWNER is not one of the available choices."]}
            ),
        },
    )
    def get(self, request: Request) -> Response:
        queryset = DjangoFilterBackend().filter_queryset(request, self.users(), self)
        return self.paginated(queryset, UserOutputSerializer)


class UserCreateApi(_UserApi):
    class InputSerializer(BaseInputSerializer):
        email = serializers.EmailField(max_length=254)
        password = serializers.CharField(write_only=True, trim_whitespace=False, max_length=128)
        role = serializers.ChoiceField(choices=Role.choices)
        full_name = serializers.CharField(allow_blank=True, max_length=200, default="")
        account = serializers.IntegerField(required=False, help_text="Account id; SUPER_ADMIN only.")

        class Meta:
            ref_name = "UserCreate"

    def _target_account(self, account_id: int | None) -> Account | None:
        if self.principal.is_platform and account_id is None:
            return None  # user_create insists on it unless the role is SUPER_ADMIN
        return self.account_for_create(account_id)

    @extend_schema(
        operation_id="users_create",
        summary="Create a user",
        description=(
            "The password must pass the password validators. Nobody grants a role above their own; "
            "`account` is required from SUPER_ADMIN (unless creating a SUPER_ADMIN) and refused from others."
        ),
        request=InputSerializer,
        examples=examples.USER_CREATE,
        responses={
            201: UserOutputSerializer,
            **error_responses(400, field_errors={"password": ["This password is too common."]}),
        },
    )
    def post(self, request: Request) -> Response:
        data = self.validated(UserCreateApi.InputSerializer, request)
        account = self._target_account(data.pop("account", None))
        user = user_create(account=account, actor=self.principal, context=RequestContext.from_request(request), **data)
        return Response(UserOutputSerializer(user).data, status=status.HTTP_201_CREATED)


class UserDetailApi(_UserApi):
    @extend_schema(
        operation_id="users_retrieve",
        summary="Get a user",
        examples=examples.USER_DETAIL,
        responses={200: UserOutputSerializer, **error_responses(404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(UserOutputSerializer(self.get_user(pk)).data)


class UserUpdateApi(_UserApi):
    class InputSerializer(BaseInputSerializer):
        full_name = serializers.CharField(required=False, allow_blank=True, max_length=200)
        role = serializers.ChoiceField(choices=Role.choices, required=False)
        is_active = serializers.BooleanField(required=False)
        password = serializers.CharField(required=False, write_only=True, trim_whitespace=False, max_length=128)

        class Meta:
            ref_name = "UserUpdate"

    @extend_schema(
        operation_id="users_partial_update",
        summary="Update a user",
        description=(
            "Change `full_name`, `role`, `is_active` or `password`. Demoting or deactivating the last "
            "active CLIENT_ADMIN of a tenant answers 409 and changes nothing."
        ),
        request=InputSerializer,
        examples=examples.USER_UPDATE,
        responses={
            200: UserOutputSerializer,
            **error_responses(400, 404, field_errors={"role": ['"OWNER" is not a valid choice.']}),
            409: LAST_ADMIN,
        },
    )
    def patch(self, request: Request, pk: int) -> Response:
        user = self.get_user(pk)
        user = user_update(
            user=user,
            actor=self.principal,
            context=RequestContext.from_request(request),
            **self.validated(UserUpdateApi.InputSerializer, request, partial=True),
        )
        return Response(UserOutputSerializer(user).data)


class UserDeleteApi(_UserApi):
    @extend_schema(
        operation_id="users_destroy",
        summary="Delete a user",
        description="Deleting the last active CLIENT_ADMIN of a tenant answers 409 and changes nothing.",
        responses={204: OpenApiResponse(description="Deleted."), **error_responses(404), 409: LAST_ADMIN},
    )
    def delete(self, request: Request, pk: int) -> Response:
        user_delete(user=self.get_user(pk), actor=self.principal, context=RequestContext.from_request(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserCollectionApi(UserListApi, UserCreateApi):
    """GET and POST on `/users`."""


class UserItemApi(UserDetailApi, UserUpdateApi, UserDeleteApi):
    """GET, PATCH and DELETE on `/users/<id>`."""


urlpatterns = [
    path("users", UserCollectionApi.as_view(), name="users"),
    path("users/<int:pk>", UserItemApi.as_view(), name="user-detail"),
]
