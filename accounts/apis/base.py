"""Base API classes: authenticate, resolve the caller's tenant once, check the role per method.

A view declares `required_roles` (HTTP method → minimum role) and reads `self.principal`;
`scoped(queryset)` limits rows to the caller's tenant and `get_scoped_object` answers the same 404
for a missing row and another tenant's row (both `accounts.scoping`, which web pages use too).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from django.db import models
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import APIView

from accounts.models import Account, Role
from accounts.principals import Principal, principal_from_request
from accounts.scoping import tenant_row, tenant_rows
from core.exceptions import ApplicationError, Forbidden, Unauthorized
from core.pagination import CursorPagination
from core.parsers import JSONParser
from core.serializers import rows_represent

ModelT = TypeVar("ModelT", bound=models.Model)

READ_METHODS = ("GET", "HEAD", "OPTIONS")


class _Api(APIView):
    """What every API view shares, signed in or not."""

    parser_classes: ClassVar[list[type]] = [JSONParser]  # type: ignore[misc]

    def validated(self, serializer_class: type[Serializer[Any]], request: Request, **kwargs: Any) -> dict[str, Any]:
        """Validate the request body (400 on bad input) and answer the clean data."""
        serializer = serializer_class(data=request.data, **kwargs)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def paginated(
        self,
        queryset: models.QuerySet[Any],
        serializer_class: type[Serializer[Any]],
        *,
        pagination_class: type[BasePagination] | None = None,
        prepare: Callable[[list[Any]], None] | None = None,
    ) -> Response:
        """One page of `queryset` as `{"results", "next", "previous"}` (cursor pagination unless the
        view names another class); `prepare` is given the page's rows first (to read what they show
        in one query for the page)."""
        paginator = (pagination_class or getattr(self, "pagination_class", None) or CursorPagination)()
        page = list(paginator.paginate_queryset(queryset, self.request, view=self) or [])
        if prepare is not None and page:
            prepare(page)
        return paginator.get_paginated_response(rows_represent(serializer_class, page))


class TenantApi(_Api):
    """Base for every authenticated API view."""

    # Minimum role per HTTP method; a method not listed here is refused.
    required_roles: ClassVar[dict[str, str]] = {
        "GET": Role.VIEWER,
        "HEAD": Role.VIEWER,
        "OPTIONS": Role.VIEWER,
        "POST": Role.USER,
        "PUT": Role.USER,
        "PATCH": Role.USER,
        "DELETE": Role.USER,
    }
    principal: Principal

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.principal = principal_from_request(request)
        if self.principal.account is not None and not self.principal.account.is_active:
            raise Unauthorized("This account is disabled.", code="account_disabled")
        required = self.required_roles.get(request.method or "")
        if required is None or not self.principal.has_role(required):
            raise Forbidden()

    def scoped(self, queryset: models.QuerySet[ModelT], *, field: str = "account") -> models.QuerySet[ModelT]:
        """Rows of the caller's tenant (every tenant for platform staff)."""
        return tenant_rows(queryset, principal=self.principal, field=field)

    def account_for_create(self, account_id: int | None) -> Account:
        """The tenant a new row (or an action) belongs to: the caller's own; platform staff must name one."""
        if not self.principal.is_platform:
            if account_id is not None:
                raise ApplicationError(
                    "Only platform staff may name an account; everybody else acts in their own.",
                    code="validation_error",
                    details={"account": ["Only platform staff may name an account."]},
                )
            assert self.principal.account is not None
            return self.principal.account
        account = Account.objects.filter(pk=account_id).first() if account_id is not None else None
        if account is None:
            raise ApplicationError(
                "Platform staff must name an existing account.",
                code="validation_error",
                details={"account": ["This field is required." if account_id is None else "Unknown account."]},
            )
        return account

    def get_scoped_object(self, queryset: models.QuerySet[ModelT], **lookup: Any) -> ModelT:
        """One row of the caller's tenant; the same 404 for a missing row and another tenant's."""
        return tenant_row(queryset, principal=self.principal, **lookup)


class PublicApi(_Api):
    """Base for API views that anyone may call (sign-in, health); still throttled."""

    authentication_classes: ClassVar[list[type]] = []  # type: ignore[misc]
    permission_classes: ClassVar[list[type]] = []  # type: ignore[misc]
