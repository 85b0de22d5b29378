"""The manifest (`plugin.json`): its JSON Schema, and every problem with one as a readable sentence.

`validate_manifest` answers all problems at once, each naming its field, so an author (or the
platform's 400 for a refused upload) can fix them in one go. docs/plugins/manifest.md is the reference.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, ValidationError

from skybot_plugin_sdk.types import HTTP_PERMISSION_PREFIX, PERMISSIONS

MANIFEST_NAME = "plugin.json"
CATEGORIES = ("SALES", "SUPPORT", "INTELLIGENCE", "FINANCE", "HR", "CUSTOM")

_HOST_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_JSON_TYPES = {
    "object": "an object",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}
_PATTERN_HINTS = {
    "id": "is not a valid id (lowercase letters, digits and dashes, 3 to 64 characters, starting with a letter)",
    "version": "is not a semantic version (MAJOR.MINOR.PATCH)",
    "min_platform_version": "is not a semantic version (MAJOR.MINOR.PATCH)",
    "entrypoint": "is not module:Attribute (a dotted module path, a colon, then the AgentPlugin subclass)",
    "homepage": "is not an https URL",
    "icon": "is not a .png or .svg path inside the package (no leading /, no ..)",
}


class ManifestError(ValueError):
    """A manifest that cannot be read or is invalid; `problems` lists every reason."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@cache
def manifest_schema() -> dict[str, Any]:
    """The manifest's JSON Schema (shipped as manifest.schema.json next to this module)."""
    text = resources.files("skybot_plugin_sdk").joinpath("manifest.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def validate_manifest(data: object) -> list[str]:
    """Every problem with a manifest, each a sentence starting with the field it is about; [] if valid."""
    if not isinstance(data, dict):
        return [f"The manifest must be a JSON object (got {_type_name(data)})."]
    problems: dict[str, None] = {}  # ordered and without repeats
    validator = Draft202012Validator(manifest_schema())
    for error in sorted(validator.iter_errors(data), key=lambda e: [str(part) for part in e.absolute_path]):
        for problem in _schema_problems(error, data):
            problems[problem] = None
    permissions = data.get("permissions")
    if isinstance(permissions, list):
        for index, permission in enumerate(permissions):
            reason = permission_problem(permission) if isinstance(permission, str) else None
            if reason:
                problems[f"permissions[{index}]: {reason}"] = None
    config_schema = data.get("config_schema")
    if isinstance(config_schema, dict):
        for problem in config_schema_problems(config_schema):
            problems[problem] = None
    return list(problems)


def permission_problem(permission: str) -> str | None:
    """Why `permission` is not one a manifest may ask for (None when it is)."""
    if permission in PERMISSIONS:
        return None
    if not permission.startswith(HTTP_PERMISSION_PREFIX):
        known = ", ".join(PERMISSIONS)
        return f"{permission!r} is not a known permission (one of {known}, or http:<domain>)."
    host = permission[len(HTTP_PERMISSION_PREFIX) :]
    if not host:
        return f"{permission!r} names no host: write http:api.example.com."
    if "://" in host:
        return f"{permission!r}: write only the host name, without the scheme (http:api.example.com)."
    if "*" in host:
        return f"{permission!r}: wildcards are not allowed; list each host the plugin calls."
    if any(char in host for char in ":/?#@"):
        return f"{permission!r}: write only the host name, without port, path or credentials."
    if host != host.lower():
        return f"{permission!r}: the host name must be lowercase."
    labels = host.split(".")
    if len(host) > 253 or not all(_HOST_LABEL.match(label) for label in labels):
        return f"{permission!r}: {host!r} is not a valid host name."
    if labels[-1].isdigit():
        return f"{permission!r}: an IP address is not allowed; use the host's name."
    return None


def config_schema_problems(config_schema: Mapping[str, Any]) -> list[str]:
    """Problems with `config_schema` itself: a valid JSON Schema for an object, `secret` a boolean."""
    problems: list[str] = []
    try:
        Draft202012Validator.check_schema(config_schema)
    except SchemaError as exc:
        where = "/".join(str(part) for part in exc.path)
        problems.append(f"config_schema: not a valid JSON Schema{f' (at {where})' if where else ''}: {exc.message}.")
    if config_schema.get("type", "object") != "object":
        problems.append('config_schema: its type must be "object" (a configuration is a set of named settings).')
    properties = config_schema.get("properties", {})
    if isinstance(properties, dict):
        for name, prop in properties.items():
            if isinstance(prop, dict) and "secret" in prop and not isinstance(prop["secret"], bool):
                problems.append(f"config_schema.properties.{name}.secret: must be true or false.")
    return problems


def secret_fields(config_schema: object) -> list[str]:
    """The top-level configuration properties marked `"secret": true` (stored encrypted, never shown)."""
    if not isinstance(config_schema, Mapping):
        return []
    properties = config_schema.get("properties")
    if not isinstance(properties, Mapping):
        return []
    return [str(name) for name, prop in properties.items() if isinstance(prop, Mapping) and prop.get("secret") is True]


def http_domains(permissions: Iterable[str]) -> list[str]:
    """The hosts of the `http:<domain>` permissions, in order, without repeats."""
    domains: dict[str, None] = {}
    for permission in permissions:
        if isinstance(permission, str) and permission.startswith(HTTP_PERMISSION_PREFIX):
            host = permission[len(HTTP_PERMISSION_PREFIX) :]
            if host:
                domains[host] = None
    return list(domains)


def entrypoint_problems(entrypoint: str, files: set[str]) -> list[str]:
    """What `files` (package paths) lack for the entrypoint's module to import in the sandbox: the
    module (`a/b.py` or `a/b/__init__.py`) and an `__init__.py` in each package above it."""
    parts = entrypoint.split(":", 1)[0].split(".")
    problems = [
        f"entrypoint: {entrypoint!r} needs {'/'.join(parts[:depth])}/__init__.py (every package needs one)."
        for depth in range(1, len(parts))
        if f"{'/'.join(parts[:depth])}/__init__.py" not in files
    ]
    module_file, package_file = "/".join(parts) + ".py", "/".join(parts) + "/__init__.py"
    if module_file not in files and package_file not in files:
        problems.append(f"entrypoint: {entrypoint!r} needs {module_file} (or {package_file}); it is not there.")
    return problems


def load_manifest(path_or_dir: str | Path, *, validate: bool = True) -> dict[str, Any]:
    """Read `plugin.json` (a path to it, or the plugin's directory). Raises `ManifestError` when it is
    missing or not a JSON object, and — unless `validate=False` — when it has any problem."""
    path = Path(path_or_dir)
    if path.is_dir():
        path = path / MANIFEST_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError([f"{path}: no such file (a plugin's directory holds its {MANIFEST_NAME})."]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError([f"{path}: cannot be read ({exc})."]) from None
    except json.JSONDecodeError as exc:
        raise ManifestError([f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})."]) from None
    if not isinstance(data, dict):
        raise ManifestError([f"{path}: the manifest must be a JSON object (got {_type_name(data)})."])
    if validate and (problems := validate_manifest(data)):
        raise ManifestError(problems)
    return data


# --- turning jsonschema's errors into sentences -----------------------------------------------------


def _schema_problems(error: ValidationError, manifest: dict[str, Any]) -> list[str]:
    if not error.absolute_path and error.validator == "required":
        return [f"{name}: missing (every manifest needs it)." for name in error.validator_value if name not in manifest]
    if not error.absolute_path and error.validator == "additionalProperties":
        known = manifest_schema()["properties"]
        return [
            f"{name}: unknown field (a manifest has only {', '.join(known)})." for name in manifest if name not in known
        ]
    problem = _schema_problem(error)
    return [problem] if problem else []


def _schema_problem(error: ValidationError) -> str | None:
    path = list(error.absolute_path)
    field = _field_name(path)
    value = error.instance
    kind = error.validator
    if path[:1] == ["permissions"] and len(path) == 2 and kind == "anyOf":
        return None  # permission_problem words it better
    if kind == "type":
        expected = error.validator_value if isinstance(error.validator_value, str) else error.validator_value[0]
        return f"{field}: must be {_JSON_TYPES.get(expected, expected)} (got {_type_name(value)})."
    if kind == "pattern":
        hint = _PATTERN_HINTS.get(str(path[0]), f"does not match {error.validator_value}")
        return f"{field}: {value!r} {hint}."
    if kind == "enum":
        return f"{field}: {value!r} is not one of {', '.join(map(str, error.validator_value))}."
    if kind == "minLength":
        return f"{field}: must not be empty."
    if kind == "maxLength":
        return f"{field}: at most {error.validator_value} characters (got {len(value)})."
    if kind == "uniqueItems":
        return f"{field}: lists the same permission twice."
    if kind == "maxItems":
        return f"{field}: at most {error.validator_value} entries."
    return f"{field}: {error.message}."


def _field_name(path: list[str | int]) -> str:
    name = ""
    for part in path:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or "manifest"


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
