"""Serializer bases: input serializers refuse unknown fields instead of silently dropping them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers


class InputSerializer(serializers.Serializer[Any]):
    """Plain input serializer; an unknown field is a 400, so a typo never passes unnoticed."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            writable = {name for name, f in self.fields.items() if not f.read_only}
            unknown = sorted(set(data) - writable)
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)
