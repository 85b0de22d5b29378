"""Applying a django-filter FilterSet to a query string: bad values are a 400, never ignored."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

import django_filters
from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django_filters.fields import IsoDateTimeField
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError

ModelT = TypeVar("ModelT", bound=models.Model)

# Query parameters that belong to pagination, not to filtering.
PAGINATION_PARAMS = frozenset({"cursor", "page_size"})

# The largest bigint: a larger id names no row, and the database refuses to compare with it.
MAX_ID = 2**63 - 1


def parse_id(value: str) -> int | None:
    """`value` as a row id, or None when it is not one: ASCII digits only, from 1 to `MAX_ID`."""
    if not (value.isascii() and value.isdigit()) or len(value) > len(str(MAX_ID)):
        return None
    number = int(value)
    return number if 1 <= number <= MAX_ID else None


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(django_filters.NumberFilter):
    """A row id in the query string: anything but a whole number from 1 to `MAX_ID` is a 400."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


@extend_schema_field({"type": "boolean"})
class StrictBooleanFilter(django_filters.TypedChoiceFilter):
    """`true`/`false` (or 1/0) in the query string; anything else is a 400 (django-filter's
    BooleanFilter quietly ignores a value it cannot read)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("choices", [(value, value) for value in ("true", "false", "True", "False", "1", "0")])
        kwargs.setdefault("coerce", lambda value: value in ("true", "True", "1"))
        kwargs.setdefault("empty_value", None)
        super().__init__(*args, **kwargs)


class _UtcIsoDateTimeField(IsoDateTimeField):
    default_error_messages = {"overflow": "Datetime value out of range."}

    def to_python(self, value: Any) -> datetime | None:
        result: datetime | None = super().to_python(value)
        if result is None:
            return None
        try:
            return result.astimezone(UTC)
        except OverflowError:
            raise DjangoValidationError(self.error_messages["overflow"], code="overflow") from None


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 datetime, in UTC: one whose UTC time falls outside year 1 to 9999 is a 400.

    The database adapter converts to UTC itself and raises OverflowError (a 500) on such values."""

    field_class = _UtcIsoDateTimeField


def filter_queryset(
    filterset_class: type[django_filters.FilterSet],
    *,
    data: Any,
    queryset: models.QuerySet[ModelT],
    request: Any = None,
    **options: Any,
) -> models.QuerySet[ModelT]:
    """The filtered queryset; a ValidationError (a 400) when `data` is not valid. `options` go to the
    filter set's constructor."""
    filterset = filterset_class(data, queryset=queryset, request=request, **options)
    if not filterset.is_valid():
        raise ValidationError(filterset.errors)
    result: models.QuerySet[ModelT] = filterset.qs
    return result
