"""Applying a django-filter FilterSet to a query string: bad values are a 400, never ignored."""

from __future__ import annotations

from typing import Any, TypeVar

import django_filters
from django.db import models
from rest_framework.exceptions import ValidationError

ModelT = TypeVar("ModelT", bound=models.Model)

# Query parameters that belong to pagination, not to filtering.
PAGINATION_PARAMS = frozenset({"cursor", "page_size"})


def filter_queryset(
    filterset_class: type[django_filters.FilterSet],
    *,
    data: Any,
    queryset: models.QuerySet[ModelT],
    request: Any = None,
) -> models.QuerySet[ModelT]:
    filterset = filterset_class(data, queryset=queryset, request=request)
    if not filterset.is_valid():
        raise ValidationError(filterset.errors)
    result: models.QuerySet[ModelT] = filterset.qs
    return result
