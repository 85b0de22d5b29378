"""Reads of the accounts domain. Each takes the caller's scope (its `Principal`) first."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet
from django_filters import rest_framework as django_filters
from rest_framework.exceptions import ValidationError

from accounts.models import ApiKey
from core.exceptions import NotFound
from core.principals import Principal


class ApiKeyFilter(django_filters.FilterSet):
    is_active = django_filters.BooleanFilter(help_text="Only active (true) or only revoked (false) keys.")

    class Meta:
        model = ApiKey
        fields = ["is_active"]


def _api_keys_of(principal: Principal) -> QuerySet[ApiKey]:
    """The keys `principal` may see: its tenant's, or every tenant's for platform staff."""
    queryset = ApiKey.objects.select_related("account", "created_by")
    if principal.is_platform:
        return queryset
    return queryset.filter(account=principal.account)


def api_key_list(*, principal: Principal, filters: Mapping[str, Any] | None = None) -> QuerySet[ApiKey]:
    """The keys `principal` may see, filtered by `is_active`; 400 on a filter value that is not a boolean."""
    filterset = ApiKeyFilter(data=filters or {}, queryset=_api_keys_of(principal))
    if not filterset.is_valid():
        raise ValidationError(filterset.errors)
    return filterset.qs


def api_key_get(*, principal: Principal, pk: Any) -> ApiKey:
    """One key `principal` may see; the same 404 for a missing key and another tenant's key."""
    try:
        return _api_keys_of(principal).get(pk=pk)
    except (ApiKey.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
