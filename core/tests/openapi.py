"""Reading the generated OpenAPI document in tests: its operations, and a strict JSON Schema
validator for a body (no unknown keys, every required key, formats checked)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from jsonschema import Draft202012Validator, FormatChecker

HTTP_METHODS = ("get", "put", "post", "patch", "delete", "head", "options", "trace")
FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _is_datetime(value: object) -> bool:
    return not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is not None


@FORMATS.checks("uri", raises=ValueError)
def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme and parts.netloc)


@dataclass(frozen=True)
class Operation:
    path: str
    method: str
    spec: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.spec.get("operationId", ""))

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path} ({self.id or 'no operationId'})"

    def success(self) -> tuple[str, dict[str, Any]]:
        """The documented 2xx status and its response object."""
        successes = [(code, answer) for code, answer in self.spec["responses"].items() if code.startswith("2")]
        assert len(successes) == 1, f"{self}: one success status expected, found {[c for c, _ in successes]}"
        return successes[0]


def generate_schema() -> dict[str, Any]:
    """The document `/api/schema/` serves, as plain JSON."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(schema))


@cache
def cached_schema() -> dict[str, Any]:
    return generate_schema()


def operations(schema: dict[str, Any]) -> Iterator[Operation]:
    for path, item in schema["paths"].items():
        for method, spec in item.items():
            if method in HTTP_METHODS:
                yield Operation(path, method, spec)


def operation(schema: dict[str, Any], operation_id: str) -> Operation:
    found = [op for op in operations(schema) if op.id == operation_id]
    assert len(found) == 1, f"{len(found)} operations named {operation_id}"
    return found[0]


def _strict(node: Any) -> Any:
    """OpenAPI 3.0 schema object → JSON Schema 2020-12 that refuses keys the schema does not name."""
    if isinstance(node, list):
        return [_strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _strict(value) for key, value in node.items() if key not in ("nullable", "example")}
    if "$ref" in converted:
        converted["$ref"] = converted["$ref"].replace("#/components/schemas/", "#/$defs/")
    if converted.get("type") == "object" and "properties" in converted:
        converted.setdefault("additionalProperties", False)
    if node.get("nullable"):
        if "type" in converted and "enum" not in converted:
            converted["type"] = [converted["type"], "null"]
        else:
            converted = {"anyOf": [converted, {"type": "null"}]}
    return converted


def validator(schema: dict[str, Any], node: dict[str, Any]) -> Draft202012Validator:
    """A strict validator for `node` (a schema object of `schema`, `$ref`s resolved in it)."""
    document = {**_strict(node), "$defs": _strict(schema["components"]["schemas"])}
    return Draft202012Validator(document, format_checker=FORMATS)


def problems(schema: dict[str, Any], node: dict[str, Any], instance: Any) -> list[str]:
    """Every way `instance` breaks `node`, one line each (empty when it conforms)."""
    return [
        f"at {'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
        for error in validator(schema, node).iter_errors(instance)
    ]


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow `$ref`s and single-member `allOf` wrappers to the schema object itself."""
    while True:
        if "$ref" in node:
            node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
        elif len(node.get("allOf", [])) == 1:
            node = node["allOf"][0]
        else:
            return node


def shape_differences(
    schema: dict[str, Any], node: dict[str, Any], documented: Any, actual: Any, at: str = ""
) -> list[str]:
    """Where `documented` (an example) and `actual` (a real answer) have different keys, wherever
    the schema names an object's properties (free-form objects such as `metadata` may differ)."""
    node = resolve(schema, node)
    for branch_key in ("oneOf", "anyOf"):
        if branch_key in node:
            fitting = [branch for branch in node[branch_key] if not problems(schema, branch, actual)]
            if not fitting:
                return []  # the strict validation of `actual` reports this
            node = resolve(schema, fitting[0])
    if isinstance(documented, dict) and isinstance(actual, dict) and "properties" in node:
        if set(documented) != set(actual):
            return [
                f"{at or '(root)'}: documented only {sorted(set(documented) - set(actual))}, "
                f"answered only {sorted(set(actual) - set(documented))}"
            ]
        differences: list[str] = []
        for key, child in node["properties"].items():
            if key in actual:
                differences += shape_differences(schema, child, documented[key], actual[key], f"{at}/{key}")
        return differences
    if isinstance(documented, list) and isinstance(actual, list) and documented and actual and "items" in node:
        return shape_differences(schema, node["items"], documented[0], actual[0], f"{at}/0")
    return []
