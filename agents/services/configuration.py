"""Checking an agent's or a plugin's configuration against its JSON Schema, in words for people.

`config_validate` is the one check every configuration passes (agents from a template, plugin
installations, the demo seed). It answers a 400 whose `details` map each failing JSON path
(`config.business_hours.open`) to messages a person can act on: the setting's `title` (or its name,
spelled out) and what is wrong, never a regular expression or a dump of the value. Besides JSON Schema
(draft 2020-12) it knows:

- `"format": "timezone"`: an IANA time zone name such as `Europe/Lisbon` (the system's database).
- `"errorMessage"`: what to say when the value breaks that schema, as one sentence, or per keyword
  (`{"pattern": "Write a time as HH:MM."}`) — the way ajv-errors spells it. Say it for every
  `pattern`, which is otherwise answered as "is not in the expected form".
- Opening hours: an object with `open` and `close` times (`HH:MM`, 24 hours) must close after it
  opens; `24:00` closes at midnight.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError as SchemaValidationError
from jsonschema.validators import validator_for

from core.exceptions import ApplicationError
from core.timezones import is_time_zone

INVALID_MESSAGE = "The configuration does not match the template's schema."
TIME_ZONE_EXAMPLES = "Europe/Lisbon or America/Sao_Paulo"
MAX_LISTED_CHOICES = 12
_TIME = re.compile(r"(?P<hours>[0-9]{2}):(?P<minutes>[0-9]{2})")
_SPELLED = {"url": "URL", "id": "ID", "api": "API", "cv": "CV", "hr": "HR", "ip": "IP"}
_TYPE_WORDS = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "yes or no (true or false)",
    "array": "a list",
    "object": "a group of settings",
    "null": "empty",
}

FORMAT_CHECKER = FormatChecker(formats=())


@FORMAT_CHECKER.checks("timezone")
def _is_time_zone(instance: object) -> bool:
    return not isinstance(instance, str) or is_time_zone(instance)


def label_for(name: str, schema: dict[str, Any]) -> str:
    """How a setting is called for people: the schema's `title`, else its name spelled out."""
    if isinstance(schema.get("title"), str) and schema["title"].strip():
        return str(schema["title"]).strip()
    words = name.replace("_", " ").replace("-", " ").split()
    text = " ".join(_SPELLED.get(word.lower(), word) for word in words)
    return text[:1].upper() + text[1:]


def config_validate(*, schema: dict[str, Any], config: Any, field: str = "config") -> None:
    """Raise a 400 unless `config` satisfies the schema; `details` maps each failing JSON path
    (`config.max_discount`, `config.escalation_keywords.0`) to messages for people."""
    validator = validator_for(schema, default=Draft202012Validator)(schema, format_checker=FORMAT_CHECKER)
    errors: dict[str, list[str]] = defaultdict(list)
    for path, message in _described(validator.iter_errors(config), schema):
        key = _key(field, path)
        if message not in errors[key]:
            errors[key].append(message)
    for path, message in opening_hours_problems(config):
        if _key(field, path) not in errors and _key(field, path[:-1]) not in errors:
            errors[_key(field, path)].append(message)
    if errors:
        details = {key: errors[key] for key in sorted(errors)}
        raise ApplicationError(INVALID_MESSAGE, code="validation_error", details=details)


def _key(field: str, path: Sequence[Any]) -> str:
    return ".".join([field, *(str(part) for part in path)])


# --- JSON Schema errors, in words -------------------------------------------------------------------


def _described(errors: Iterable[SchemaValidationError], root: Any) -> Iterator[tuple[tuple[Any, ...], str]]:
    for error in errors:
        for path, message in _describe(error, root):
            yield path, _in_item(path, message)


def _in_item(path: tuple[Any, ...], message: str) -> str:
    """A message about a setting inside a list's item says which item: "Item 2: Question is required."."""
    items = [part for part in path[:-1] if isinstance(part, int)]
    return f"Item {items[-1] + 1}: {message}" if items and not message.startswith("Item ") else message


def _describe(error: SchemaValidationError, root: Any) -> Iterator[tuple[tuple[Any, ...], str]]:
    """(path, message) for one jsonschema error; an `anyOf`/`oneOf` speaks through the branch that
    fits the value's type, a missing property is reported at its own path."""
    path = tuple(error.absolute_path)
    schema: dict[str, Any] = error.schema if isinstance(error.schema, dict) else {}
    keyword = str(error.validator)
    if keyword in ("anyOf", "oneOf") and error.context:
        branch = _fitting_branch(error)
        if branch:
            yield from _described(branch, root)
            return
    if keyword == "required":
        for name in _missing(error):
            prop = (schema.get("properties") or {}).get(name)
            title = label_for(name, prop if isinstance(prop, dict) else {})
            yield (*path, name), _custom(schema, "required") or f"{title} is required."
        return
    if keyword == "additionalProperties" and isinstance(error.instance, dict):
        for name in _unexpected(error.instance, schema):
            yield path, f"There is no setting called “{_shown(name)}” here."
        return
    if keyword == "dependentRequired" and isinstance(error.validator_value, dict):
        for name, needed in error.validator_value.items():
            if isinstance(error.instance, dict) and name in error.instance:
                for other in needed:
                    if other not in error.instance:
                        yield (*path, other), f"{_named(other, schema)} is required when {_named(name, schema)} is set."
        return
    yield path, _custom(schema, keyword) or _sentence(error, keyword, _title(error, schema, root))


def _fitting_branch(error: SchemaValidationError) -> list[SchemaValidationError]:
    """The errors of the `anyOf`/`oneOf` branch that accepts the value's type and fails least."""
    branches: dict[int, list[SchemaValidationError]] = defaultdict(list)
    for sub in error.context or []:
        if sub.relative_schema_path:
            branches[int(sub.relative_schema_path[0])].append(sub)
    fitting = [
        errors
        for errors in branches.values()
        if not any(sub.validator in ("type", "const", "enum") and not sub.relative_path for sub in errors)
    ]
    return min(fitting, key=len) if fitting else []


def _missing(error: SchemaValidationError) -> list[str]:
    wanted = error.validator_value if isinstance(error.validator_value, list) else []
    instance = error.instance if isinstance(error.instance, dict) else {}
    missing = [str(name) for name in wanted if name not in instance]
    # jsonschema reports each missing property as its own error, naming it first in the message.
    named = [name for name in missing if error.message.startswith(repr(name))]
    return named or missing[:1]


def _unexpected(instance: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    known = set(schema.get("properties") or {})
    patterns = [re.compile(p) for p in (schema.get("patternProperties") or {})]
    return [str(name) for name in instance if name not in known and not any(p.search(str(name)) for p in patterns)]


def _custom(schema: dict[str, Any], keyword: str) -> str | None:
    """The schema's own `errorMessage` for this keyword (or for all of them)."""
    custom = schema.get("errorMessage")
    if isinstance(custom, str) and custom.strip():
        return custom.strip()
    if isinstance(custom, dict) and isinstance(custom.get(keyword), str):
        return str(custom[keyword]).strip()
    return None


def _title(error: SchemaValidationError, schema: dict[str, Any], root: Any) -> str:
    path = list(error.absolute_path)
    if isinstance(schema.get("title"), str) and schema["title"].strip():
        return str(schema["title"]).strip()
    if not path:
        return "The configuration"
    if isinstance(path[-1], int):  # an item of a list: named after the list
        names = [part for part in path if isinstance(part, str)]
        owner = label_for(names[-1], _schema_at(root, path[: path.index(names[-1]) + 1])) if names else "The list"
        return f"{owner}, item {path[-1] + 1},"
    return label_for(str(path[-1]), {})


def _schema_at(root: Any, path: Sequence[Any]) -> dict[str, Any]:
    """The subschema describing the value at `path` (through properties, items and local `$ref`s)."""
    schema = root
    for part in path:
        schema = _resolved(root, schema)
        if isinstance(part, int):
            schema = schema.get("items") if isinstance(schema, dict) else None
        else:
            properties = schema.get("properties") if isinstance(schema, dict) else None
            schema = properties.get(part) if isinstance(properties, dict) else None
        if not isinstance(schema, dict):
            return {}
    return schema if isinstance(schema, dict) else {}


def _resolved(root: Any, schema: Any) -> Any:
    """`schema`, its local `$ref` (`#/$defs/day`) followed, keeping the title written beside the ref."""
    ref = schema.get("$ref") if isinstance(schema, dict) else None
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return schema
    target: Any = root
    for part in ref[2:].split("/"):
        target = target.get(part) if isinstance(target, dict) else None
    return {**target, **{k: v for k, v in schema.items() if k != "$ref"}} if isinstance(target, dict) else schema


def _named(name: str, schema: dict[str, Any]) -> str:
    prop = (schema.get("properties") or {}).get(name)
    return label_for(name, prop if isinstance(prop, dict) else {})


def _sentence(error: SchemaValidationError, keyword: str, title: str) -> str:
    value = error.validator_value
    instance = error.instance
    schema: dict[str, Any] = error.schema if isinstance(error.schema, dict) else {}
    if keyword == "type":
        kinds = value if isinstance(value, list) else [value]
        return f"{title} must be {' or '.join(_TYPE_WORDS.get(str(kind), str(kind)) for kind in kinds)}."
    if keyword == "enum" and isinstance(value, list):
        if len(value) > MAX_LISTED_CHOICES:
            return f"{title} must be one of the values offered."
        return f"{title} must be one of: {', '.join(_shown(choice) for choice in value)}."
    if keyword == "const":
        return f"{title} must be {_shown(value)}."
    if keyword == "minimum":
        return f"{title} must be at least {_number(value)}."
    if keyword == "maximum":
        return f"{title} must be at most {_number(value)}."
    if keyword == "exclusiveMinimum":
        return f"{title} must be more than {_number(value)}."
    if keyword == "exclusiveMaximum":
        return f"{title} must be less than {_number(value)}."
    if keyword == "multipleOf":
        return f"{title} must be a multiple of {_number(value)}."
    if keyword == "minLength":
        return f"{title} cannot be empty." if value == 1 else f"{title} must be at least {value} characters long."
    if keyword == "maxLength":
        return f"{title} must be at most {value} characters long."
    if keyword == "minItems":
        return f"{title} needs at least one item." if value == 1 else f"{title} needs at least {value} items."
    if keyword == "maxItems":
        return f"{title} takes at most {value} items."
    if keyword == "uniqueItems":
        return f"{title} lists the same item more than once."
    if keyword == "minProperties":
        return f"{title} needs at least {value} settings."
    if keyword == "maxProperties":
        return f"{title} takes at most {value} settings."
    if keyword == "format":
        return _format_sentence(str(value), title, instance)
    if keyword == "pattern":
        hint = str(schema.get("description") or "").strip()
        return f"{title} is not in the expected form." + (f" {hint}" if hint else "")
    if keyword in ("anyOf", "oneOf") and isinstance(value, list):
        branches = [branch for branch in value if isinstance(branch, dict)]
        kinds = [_TYPE_WORDS[branch["type"]] for branch in branches if str(branch.get("type")) in _TYPE_WORDS]
        return f"{title} must be {' or '.join(kinds)}." if kinds else f"{title} is not valid."
    if error.schema is False:
        return f"{title} is not allowed here."
    return f"{title} is not valid."


def _format_sentence(fmt: str, title: str, instance: Any) -> str:
    if fmt == "timezone":
        return f"“{_shown(instance)}” is not a time zone: use an IANA name such as {TIME_ZONE_EXAMPLES}."
    if fmt == "email":
        return f"{title} must be an email address, such as team@example.com."
    if fmt in ("uri", "iri", "uri-reference"):
        return f"{title} must be a full web address, such as https://example.com/page."
    return f"{title} is not a valid {fmt}."


def _shown(value: Any, limit: int = 60) -> str:
    """A value as a person would write it (`true`, not `True`), cut short when long."""
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


# --- rules JSON Schema cannot say ---------------------------------------------------------------------


def _minutes(value: Any, *, closing: bool) -> int | None:
    """Minutes after midnight of an `HH:MM` time (24:00 only when closing), else None."""
    match = _TIME.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return None
    hours, minutes = int(match["hours"]), int(match["minutes"])
    if (hours, minutes) == (24, 0) and closing:
        return 24 * 60
    return hours * 60 + minutes if hours < 24 and minutes < 60 else None


def opening_hours_problems(config: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], str]]:
    """(path, message) for every `{"open": "HH:MM", "close": "HH:MM"}` in `config` that does not close
    after it opens."""
    if isinstance(config, dict):
        opens, closes = _minutes(config.get("open"), closing=False), _minutes(config.get("close"), closing=True)
        if opens is not None and closes is not None and closes <= opens:
            yield (
                (*path, "close"),
                f"The closing time ({config['close']}) must be later than the opening time ({config['open']}); "
                "24:00 closes at midnight.",
            )
        for key, value in config.items():
            yield from opening_hours_problems(value, (*path, key))
    elif isinstance(config, list):
        for index, value in enumerate(config):
            yield from opening_hours_problems(value, (*path, index))
