"""Serializer bases: input serializers refuse unknown fields and values of the wrong JSON type
instead of silently dropping or coercing them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers

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
