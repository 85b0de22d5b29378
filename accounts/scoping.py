"""One way to scope a read to the caller's tenant, for API views, web pages and selectors alike.

`tenant_rows(queryset, principal=...)` keeps the rows of the principal's tenant (every tenant's for
platform staff). `tenant_row(queryset, principal=..., pk=...)` answers one of them, or raises the
same `NotFound` whether the row does not exist or belongs to another tenant, so ids reveal nothing.
The API turns `NotFound` into its JSON 404; `page()` into the 404 page or an htmx notice.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db import models

from accounts.principals import Principal
from core.exceptions import NotFound

ModelT = TypeVar("ModelT", bound=models.Model)


def tenant_rows(
    queryset: models.QuerySet[ModelT], *, principal: Principal, field: str = "account"
) -> models.QuerySet[ModelT]:
    """The rows of `principal`'s tenant (`field` names the path to the account), or all for staff."""
    if principal.is_platform:
        return queryset
    return queryset.filter(**{field: principal.account})


def tenant_row(
    queryset: models.QuerySet[ModelT], *, principal: Principal, field: str = "account", **lookup: Any
) -> ModelT:
    """The one row of `principal`'s tenant matching `lookup`; the same 404 for missing and foreign rows
    (and for a malformed id)."""
    try:
        return tenant_rows(queryset, principal=principal, field=field).get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError):
        raise NotFound() from None
