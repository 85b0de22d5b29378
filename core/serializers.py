"""Serializer bases: input serializers refuse unknown fields and values of the wrong JSON type
instead of silently dropping or coercing them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, tzinfo
from operator import attrgetter
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db.models.manager import BaseManager
from rest_framework import ISO_8601, serializers
from rest_framework.relations import PKOnlyObject
from rest_framework.settings import api_settings

# DRF coerces 5 → "5" and "5" → 5; a JSON API should say the client sent the wrong type.
_EXPECTED_TYPES: list[tuple[type[serializers.Field[Any, Any, Any, Any]], tuple[type, ...], str]] = [
    (serializers.BooleanField, (bool,), "Must be true or false."),
    (serializers.IntegerField, (int,), "Must be an integer."),
    (serializers.CharField, (str,), "Must be a string."),
    (serializers.ChoiceField, (str,), "Must be a string."),
]


def _type_error(field: serializers.Field[Any, Any, Any, Any], value: Any) -> str | None:
    if value is None:
        return None  # allow_null decides
    for field_class, types, message in _EXPECTED_TYPES:
        if isinstance(field, field_class):
            if not isinstance(value, types) or (types == (int,) and isinstance(value, bool)):
                return message
            return None
    return None


class InputSerializer(serializers.Serializer[Any]):
    """Plain input serializer: an unknown field or a wrongly typed value is a 400."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            writable = {name: f for name, f in self.fields.items() if not f.read_only}
            errors: dict[str, list[str]] = {name: ["Unknown field."] for name in sorted(set(data) - set(writable))}
            for name, field in writable.items():
                if name in data and (message := _type_error(field, data[name])):
                    errors[name] = [message]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


# --- output of lists, without DRF's per-field machinery ---------------------------------------------
# A list page runs `to_representation` for every field of every row: attribute lookup through
# `get_attribute`, time-zone handling, ordered dicts. `rows_represent` answers exactly what
# `serializer_class(rows, many=True).data` does (tested field by field against it for every list
# that uses it), but plans each field once per call: plain model columns are read with attrgetter
# and passed through when they already have the JSON type DRF would give them, date-times are
# converted with the time zone looked up once, nested serializers are planned the same way.
# Anything else (a `source="*"`, a dotted source, a custom field) goes through DRF's own code.

_Row = Callable[[Any], Any]
_PASS_THROUGH: dict[type[serializers.Field[Any, Any, Any, Any]], type] = {
    serializers.IntegerField: int,
    serializers.CharField: str,
    serializers.BooleanField: bool,
    serializers.FloatField: float,
}


def _drf(field: serializers.Field[Any, Any, Any, Any]) -> _Row:
    """DRF's own path for one field: get the attribute, None stays None, else to_representation."""

    def represent(instance: Any) -> Any:
        try:
            attribute = field.get_attribute(instance)
        except serializers.SkipField:
            return _SKIP
        check = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
        return None if check is None else field.to_representation(attribute)

    return represent


_SKIP = object()


def _plain_column(serializer: serializers.Serializer[Any], field: serializers.Field[Any, Any, Any, Any]) -> str | None:
    """The model attribute a field reads when it is a concrete column of the serializer's model."""
    model = getattr(getattr(serializer, "Meta", None), "model", None)
    attrs = field.source_attrs
    if model is None or len(attrs) != 1:
        return None
    try:
        column = model._meta.get_field(attrs[0])
    except FieldDoesNotExist:
        column = next((f for f in model._meta.concrete_fields if f.attname == attrs[0]), None)
    if column is None or not column.concrete or (column.is_relation and column.attname != attrs[0]):
        return None
    return attrs[0]


def _datetime(field: serializers.DateTimeField) -> _Row | None:
    if getattr(field, "format", api_settings.DATETIME_FORMAT) not in (ISO_8601, "iso-8601"):
        return None
    zone: tzinfo | None = field.timezone if hasattr(field, "timezone") else field.default_timezone()  # type: ignore[assignment]
    fallback = field.to_representation

    def represent(value: Any) -> Any:
        if isinstance(value, datetime) and value.tzinfo is not None and zone is not None:
            text = value.astimezone(zone).isoformat()
            return text[:-6] + "Z" if text.endswith("+00:00") else text
        return fallback(value)

    return represent


def _converter(field: serializers.Field[Any, Any, Any, Any]) -> _Row | None:
    """How to turn a non-None column value into its JSON value, or None when only DRF knows."""
    if type(field) is serializers.DateTimeField:
        return _datetime(field)
    if type(field) is serializers.ChoiceField:
        choices = field.choice_strings_to_values
        to_representation = field.to_representation
        return lambda value: choices.get(value, value) if type(value) is str else to_representation(value)
    if type(field) is serializers.JSONField and not field.binary:
        return lambda value: value
    natural = _PASS_THROUGH.get(type(field))
    if natural is not None:
        to_representation = field.to_representation
        return lambda value: value if type(value) is natural else to_representation(value)
    return None


def _plan(serializer: serializers.Serializer[Any]) -> list[tuple[str, _Row]]:
    plan: list[tuple[str, _Row]] = []
    for name, field in serializer.fields.items():
        if field.write_only:
            continue
        if isinstance(field, serializers.SerializerMethodField):
            method = getattr(serializer, field.method_name)
            plan.append((name, method))
            continue
        column = _plain_column(serializer, field)
        if isinstance(field, serializers.ListSerializer | serializers.Serializer) or column is None:
            plan.append((name, _nested(field) or _nested_many(field) or _drf(field)))
            continue
        convert = _converter(field)
        if convert is None:
            plan.append((name, _drf(field)))
            continue
        plan.append((name, _column(attrgetter(column), convert)))
    return plan


def _column(read: _Row, convert: _Row) -> _Row:
    def represent(instance: Any) -> Any:
        value = read(instance)
        return None if value is None else convert(value)

    return represent


def _nested(field: serializers.Field[Any, Any, Any, Any]) -> _Row | None:
    """A nested serializer read from a plain relation (`contact = ContactSerializer()`)."""
    if not isinstance(field, serializers.Serializer) or field.source == "*" or len(field.source_attrs) != 1:
        return None
    represent = _row_function(field)
    read = attrgetter(field.source_attrs[0])

    def nested(instance: Any) -> Any:
        try:
            value = read(instance)
        except ObjectDoesNotExist:
            value = None
        return None if value is None else represent(value)

    return nested


def _nested_many(field: serializers.Field[Any, Any, Any, Any]) -> _Row | None:
    """A list of nested rows read from a relation (`attempts = AttemptSerializer(many=True)`): the
    prefetched rows themselves when the page prefetched them, instead of a queryset built per row."""
    if (
        not isinstance(field, serializers.ListSerializer)
        or type(field).to_representation is not serializers.ListSerializer.to_representation
        or not isinstance(field.child, serializers.Serializer)
        or type(field.child).to_representation is not serializers.Serializer.to_representation
        or field.source == "*"
        or len(field.source_attrs) != 1
    ):
        return None
    represent = _row_function(field.child)
    name = field.source_attrs[0]

    def nested(instance: Any) -> Any:
        prefetched = getattr(instance, "_prefetched_objects_cache", None) or {}
        items = prefetched.get(name)
        if items is None:
            value = getattr(instance, name)
            if value is None:  # as DRF: a missing list is null
                return None
            items = value.all() if isinstance(value, BaseManager) else value
        return [represent(item) for item in items]

    return nested


def _row_function(serializer: serializers.Serializer[Any]) -> _Row:
    plan = _plan(serializer)

    def represent(instance: Any) -> dict[str, Any]:
        row = {}
        for name, value_of in plan:
            value = value_of(instance)
            if value is not _SKIP:
                row[name] = value
        return row

    return represent


def rows_represent(
    serializer_class: type[serializers.Serializer[Any]], rows: Iterable[Any], *, context: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """`serializer_class(rows, many=True, context=context).data`, as plain dicts, faster (see above).
    A serializer that overrides `to_representation` is left to DRF."""
    serializer = serializer_class(context=context or {})
    if type(serializer).to_representation is not serializers.Serializer.to_representation:
        return list(serializer_class(rows, many=True, context=context or {}).data)
    represent = _row_function(serializer)
    return [represent(row) for row in rows]
