"""validate_manifest: every kind of problem, each a sentence naming its field, all at once."""

import json
from pathlib import Path
from typing import Any

import pytest
from skybot_plugin_sdk import PERMISSIONS
from skybot_plugin_sdk.manifest import (
    ManifestError,
    http_domains,
    load_manifest,
    manifest_schema,
    secret_fields,
    validate_manifest,
)


def manifest(**overrides: Any) -> dict[str, Any]:
    data = {
        "id": "lead-scorer",
        "name": "Lead scorer",
        "version": "1.2.3",
        "author": "Ada",
        "description": "Scores leads.",
        "category": "SALES",
        "entrypoint": "lead_scorer.plugin:LeadScorer",
        "config_schema": {
            "type": "object",
            "properties": {"threshold": {"type": "integer"}, "token": {"type": "string", "secret": True}},
        },
        "permissions": ["leads:write", "http:api.example.com"],
        "min_platform_version": "1.0.0",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_a_valid_manifest_has_no_problem() -> None:
    assert validate_manifest(manifest()) == []
    assert validate_manifest(manifest(homepage="https://example.com/p", icon="assets/icon.svg")) == []
    assert validate_manifest(manifest(version="2.0.0-beta.1+build.5")) == []


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"id": "Bad Id!"}, "id: 'Bad Id!' is not a valid id"),
        ({"id": "ab"}, "id: 'ab' is not a valid id"),
        ({"name": ""}, "name: must not be empty."),
        ({"name": 12}, "name: must be a string (got a number)."),
        ({"version": "1.0"}, "version: '1.0' is not a semantic version (MAJOR.MINOR.PATCH)."),
        ({"version": "01.0.0"}, "version: '01.0.0' is not a semantic version"),
        ({"min_platform_version": "latest"}, "min_platform_version: 'latest' is not a semantic version"),
        ({"category": "GAMES"}, "category: 'GAMES' is not one of SALES, SUPPORT, INTELLIGENCE, FINANCE, HR, CUSTOM."),
        ({"entrypoint": "lead_scorer.plugin"}, "entrypoint: 'lead_scorer.plugin' is not module:Attribute"),
        ({"entrypoint": "lead-scorer:X"}, "entrypoint: 'lead-scorer:X' is not module:Attribute"),
        ({"config_schema": []}, "config_schema: must be an object (got a list)."),
        ({"config_schema": {"type": "object", "properties": {"a": {"type": "nope"}}}}, "config_schema: not a valid"),
        ({"config_schema": {"type": "string"}}, 'config_schema: its type must be "object"'),
        ({"config_schema": {"properties": {"a": {"secret": "yes"}}}}, "config_schema.properties.a.secret: must be"),
        ({"permissions": "storage"}, "permissions: must be a list (got a string)."),
        ({"permissions": ["storage", "storage"]}, "permissions: lists the same permission twice."),
        ({"permissions": ["root:everything"]}, "permissions[0]: 'root:everything' is not a known permission"),
        ({"permissions": ["http:https://api.x.com"]}, "permissions[0]: 'http:https://api.x.com': write only the host"),
        ({"permissions": ["http:api.x.com:8080"]}, "without port, path or credentials"),
        ({"permissions": ["http:api.x.com/v1"]}, "without port, path or credentials"),
        ({"permissions": ["http:*.x.com"]}, "wildcards are not allowed"),
        ({"permissions": ["http:API.x.com"]}, "must be lowercase"),
        ({"permissions": ["http:10.0.0.1"]}, "an IP address is not allowed"),
        ({"permissions": ["http:"]}, "names no host"),
        ({"permissions": ["http:-bad-.com"]}, "is not a valid host name"),
        ({"homepage": "http://example.com"}, "homepage: 'http://example.com' is not an https URL."),
        ({"icon": "../icon.png"}, "icon: '../icon.png' is not a .png or .svg path"),
        ({"icon": "icon.gif"}, "icon: 'icon.gif' is not a .png or .svg path"),
        ({"surprise": True}, "surprise: unknown field"),
        ({"author": None}, "author: missing (every manifest needs it)."),
    ],
)
def test_each_problem_names_its_field(overrides: dict[str, Any], expected: str) -> None:
    problems = validate_manifest(manifest(**overrides))
    assert any(expected in problem for problem in problems), problems


def test_every_problem_is_reported_at_once() -> None:
    broken = manifest(version="1.0", category="GAMES", permissions=["contacts:read", "root:everything"], surprise=1)
    del broken["name"], broken["author"]
    problems = validate_manifest(broken)
    for field in ("version", "category", "permissions[1]", "surprise", "name", "author"):
        assert any(problem.startswith(field) for problem in problems), (field, problems)
    assert len(problems) == 6


def test_not_an_object() -> None:
    assert validate_manifest(["id"]) == ["The manifest must be a JSON object (got a list)."]


def test_the_schema_knows_every_permission_and_refuses_unknown_fields() -> None:
    schema = manifest_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False
    assert schema["properties"]["permissions"]["items"]["anyOf"][0]["enum"] == list(PERMISSIONS)


def test_secret_fields_and_http_domains() -> None:
    assert secret_fields(manifest()["config_schema"]) == ["token"]
    assert secret_fields({"properties": {"a": {"secret": "true"}}}) == []
    assert secret_fields(None) == []
    assert http_domains(["storage", "http:a.example.com", "http:b.example.com", "http:a.example.com"]) == [
        "a.example.com",
        "b.example.com",
    ]


def test_load_manifest(tmp_path: Path) -> None:
    (tmp_path / "plugin.json").write_text(json.dumps(manifest()))
    assert load_manifest(tmp_path)["id"] == "lead-scorer"
    assert load_manifest(tmp_path / "plugin.json")["id"] == "lead-scorer"
    (tmp_path / "plugin.json").write_text(json.dumps(manifest(version="1")))
    with pytest.raises(ManifestError, match="version"):
        load_manifest(tmp_path)
    assert load_manifest(tmp_path, validate=False)["version"] == "1"
    (tmp_path / "plugin.json").write_text("{not json")
    with pytest.raises(ManifestError, match="not valid JSON"):
        load_manifest(tmp_path)
    with pytest.raises(ManifestError, match="no such file"):
        load_manifest(tmp_path / "elsewhere")
