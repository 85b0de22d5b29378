"""The OpenAPI document imports cleanly into Make, Zapier, n8n and Swagger UI: every operation has a
readable unique id, a summary, its error answers, and examples that fit their own schema.

These rules hold for every operation the document has, so an API added later must follow them too.
"""

from __future__ import annotations

import inspect
import re
from collections import Counter
from typing import Any

import pytest
from django.conf import settings
from drf_spectacular.generators import EndpointEnumerator
from drf_spectacular.validation import validate_schema

from core.openapi import ERROR_EXAMPLES
from core.tests.openapi import Operation, cached_schema, operations, problems

READABLE_ID = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return cached_schema()


@pytest.fixture(scope="module")
def all_operations(schema: dict[str, Any]) -> list[Operation]:
    found = list(operations(schema))
    assert len(found) >= 60, "the document lost operations"
    return found


def _examples(media: dict[str, Any]) -> list[Any]:
    if "example" in media:
        return [media["example"]]
    return [example["value"] for example in media.get("examples", {}).values()]


def test_the_document_is_valid_openapi_3(schema: dict[str, Any]) -> None:
    # then: the OpenAPI 3.0 JSON Schema accepts it (raises otherwise)
    validate_schema(schema)
    assert schema["openapi"].startswith("3.0")


def test_the_document_names_this_installation_as_its_server(schema: dict[str, Any]) -> None:
    # then: an importer given the document alone knows where to send requests
    assert [server["url"] for server in schema["servers"]] == [settings.SITE_URL]
    assert all(path.startswith("/api/v1/") for path in schema["paths"])


def test_every_operation_has_a_unique_readable_id(all_operations: list[Operation]) -> None:
    # when
    ids = Counter(op.id for op in all_operations)

    # then: ids such as `leads_create`, never repeated, never the path spelled out (`api_v1_...`)
    assert [op_id for op_id, count in ids.items() if count > 1] == []
    unreadable = [str(op) for op in all_operations if not READABLE_ID.match(op.id) or op.id.startswith("api_v1")]
    assert unreadable == []


def test_every_operation_has_a_summary(all_operations: list[Operation]) -> None:
    assert [str(op) for op in all_operations if not op.spec.get("summary", "").strip()] == []


def test_every_operation_documents_a_client_error(all_operations: list[Operation]) -> None:
    assert [str(op) for op in all_operations if not any(code.startswith("4") for code in op.spec["responses"])] == []


def test_every_request_body_has_an_example_that_fits_its_schema(
    schema: dict[str, Any], all_operations: list[Operation]
) -> None:
    # given
    failures: list[str] = []
    with_body = [op for op in all_operations if "requestBody" in op.spec]
    assert len(with_body) >= 20

    # when
    for op in with_body:
        for media_type, media in op.spec["requestBody"]["content"].items():
            examples = _examples(media)
            if not examples:
                failures.append(f"{op} {media_type}: no request example")
            for value in examples:
                failures += [f"{op} request: {problem}" for problem in problems(schema, media["schema"], value)]

    # then
    assert failures == []


def test_every_success_answer_with_a_body_has_an_example_that_fits_its_schema(
    schema: dict[str, Any], all_operations: list[Operation]
) -> None:
    failures: list[str] = []
    for op in all_operations:
        code, answer = op.success()
        for media_type, media in answer.get("content", {}).items():
            examples = _examples(media)
            if not examples:
                failures.append(f"{op} {code} {media_type}: no response example")
            for value in examples:
                failures += [f"{op} {code}: {problem}" for problem in problems(schema, media["schema"], value)]

    assert failures == []


def test_every_error_answer_is_the_error_shape_with_an_example(
    schema: dict[str, Any], all_operations: list[Operation]
) -> None:
    failures: list[str] = []
    for op in all_operations:
        for code, answer in op.spec["responses"].items():
            if code < "400":
                continue
            media = answer.get("content", {}).get("application/json")
            if media is None or media["schema"] != {"$ref": "#/components/schemas/ApiError"}:
                failures.append(f"{op} {code}: not an ApiError body")
                continue
            examples = _examples(media)
            if not examples:
                failures.append(f"{op} {code}: no example")
            for value in examples:
                failures += [f"{op} {code}: {problem}" for problem in problems(schema, media["schema"], value)]

    assert failures == []


def test_every_operation_documents_the_throttle_with_retry_after(all_operations: list[Operation]) -> None:
    # every API path is throttled (core.throttling), signed in or not
    missing = [
        str(op) for op in all_operations if "Retry-After" not in op.spec["responses"].get("429", {}).get("headers", {})
    ]

    assert missing == []


def test_the_error_component_has_an_example(schema: dict[str, Any]) -> None:
    component = schema["components"]["schemas"]["ApiError"]

    assert component["example"] == ERROR_EXAMPLES[404]
    assert problems(schema, component, component["example"]) == []


def test_no_operation_is_described_by_a_view_class_docstring(all_operations: list[Operation]) -> None:
    # given: the docstrings of every API view class and its bases (written for developers)
    class_docs = {
        inspect.cleandoc(cls.__doc__)
        for _path, _regex, _method, view in EndpointEnumerator().get_api_endpoints()
        for cls in view.cls.__mro__
        if cls.__doc__
    }
    assert "Base for every authenticated API view." in class_docs

    # then: importers show an operation's description; it is the operation's own
    assert [str(op) for op in all_operations if op.spec.get("description", "") in class_docs] == []
