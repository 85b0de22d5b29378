"""Forms of the agents pages. The configuration form is generated from a template's JSON Schema.

`ConfigForm` only turns what a person typed into JSON values (text into numbers, lines into lists,
checkboxes into booleans) and insists on the schema's required fields. Whether the configuration is
valid is decided by the service that creates or updates the agent (`config_validate`, jsonschema);
`ConfigForm.add_schema_errors` puts the messages it answers next to the fields they are about.

Supported property shapes: string (a textarea past 300 characters; `format: uri` / `email` get the
matching input), integer, number, boolean, `enum`, an array of strings (one per line), an array of
`enum` values (checkboxes), and an object of those (a group of fields). Anything else (arrays of
objects, `oneOf`...) is edited as JSON text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django import forms
from django.forms import BoundField

from agents.selectors import LISTED_STATUSES
from agents.services.configuration import label_for as label_for  # the pages' name for a setting

PREFIX = "config"
NESTED = "__"
LONG_TEXT = 300

RANGES: dict[str, tuple[str, timedelta]] = {
    "24h": ("Last 24 hours", timedelta(hours=24)),
    "7d": ("Last 7 days", timedelta(days=7)),
    "30d": ("Last 30 days", timedelta(days=30)),
}
DEFAULT_RANGE = "7d"


def _type_of(schema: dict[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        kind = kinds[0] if len(kinds) == 1 else None
    return kind if isinstance(kind, str) else None


def _enum_choices(values: list[Any]) -> list[tuple[str, str]]:
    return [(_enum_key(value), str(value)) for value in values]


def _enum_key(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


@dataclass
class Spec:
    """How one form field maps to a JSON value."""

    kind: str  # string | integer | number | boolean | enum | enum_list | string_list | json
    path: tuple[str, ...]
    enum: dict[str, Any] = field(default_factory=dict)


@dataclass
class Group:
    """An object property edited as a group of fields (`<fieldset>`)."""

    name: str
    label: str
    help_text: str
    fields: list[BoundField]


class ConfigForm(forms.Form):
    """The fields of a template's `config_schema`; `config()` answers the configuration JSON."""

    prefix = PREFIX

    def __init__(self, *args: Any, schema: dict[str, Any], config: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.schema = schema
        self.specs: dict[str, Spec] = {}
        # (name, None) for a field, (name, [field names]) for an object property's group.
        self._layout: list[tuple[str, list[str] | None]] = []
        required = set(schema.get("required") or [])
        for name, prop in ordered_properties(schema):
            current = (config or {}).get(name, prop.get("default")) if config is not None else prop.get("default")
            if _type_of(prop) == "object" and self._flat_object(prop):
                names = []
                sub_required = set(prop.get("required") or [])
                for sub_name, sub_prop in ordered_properties(prop):
                    sub_value = current.get(sub_name) if isinstance(current, dict) else sub_prop.get("default")
                    field_name = f"{name}{NESTED}{sub_name}"
                    self._add(field_name, (name, sub_name), sub_prop, required=False, initial=sub_value)
                    # Required once the group is filled in (the schema says so); shown, not enforced here.
                    self.fields[field_name].required_in_group = sub_name in sub_required  # type: ignore[attr-defined]
                    names.append(field_name)
                self._layout.append((name, names))
            else:
                self._add(name, (name,), prop, required=name in required, initial=current)
                self._layout.append((name, None))

    # --- building --------------------------------------------------------------------------------

    @staticmethod
    def _flat_object(prop: dict[str, Any]) -> bool:
        properties = prop.get("properties")
        if not isinstance(properties, dict) or not properties:
            return False
        return all(_kind_of(sub if isinstance(sub, dict) else {}) != "json" for sub in properties.values())

    def _add(self, name: str, path: tuple[str, ...], prop: dict[str, Any], *, required: bool, initial: Any) -> None:
        kind = _kind_of(prop)
        label = label_for(path[-1], prop)
        help_text = str(prop.get("description") or "")
        spec = Spec(kind=kind, path=path)
        attrs: dict[str, Any] = {}
        form_field: forms.Field
        if kind == "enum":
            spec.enum = {_enum_key(v): v for v in prop["enum"]}
            blank = [] if required and initial is not None else [("", "—")]
            form_field = forms.ChoiceField(choices=blank + _enum_choices(prop["enum"]), required=required)
            initial = _enum_key(initial) if initial is not None else None
        elif kind == "enum_list":
            values = prop["items"]["enum"]
            spec.enum = {_enum_key(v): v for v in values}
            form_field = forms.MultipleChoiceField(
                choices=_enum_choices(values), required=required, widget=forms.CheckboxSelectMultiple
            )
            initial = [_enum_key(v) for v in initial] if isinstance(initial, list) else None
        elif kind == "string_list":
            form_field = forms.CharField(required=required, widget=forms.Textarea(attrs={"rows": 3}))
            help_text = " ".join(filter(None, [help_text, "One per line."]))
            initial = "\n".join(str(v) for v in initial) if isinstance(initial, list) else None
        elif kind == "boolean":
            form_field = forms.BooleanField(required=False)
            initial = bool(initial) if initial is not None else False
        elif kind == "integer":
            form_field = forms.IntegerField(required=required)
            attrs.update(_bounds(prop))
        elif kind == "number":
            form_field = forms.FloatField(required=required)
            attrs.update(_bounds(prop), step="any")
        elif kind == "string":
            long_text = int(prop.get("maxLength") or 0) > LONG_TEXT
            fmt = prop.get("format")
            widget: forms.Widget
            if long_text:
                widget = forms.Textarea(attrs={"rows": 4})
            elif fmt == "uri":
                widget = forms.URLInput()
            elif fmt == "email":
                widget = forms.EmailInput()
            else:
                widget = forms.TextInput()
            form_field = forms.CharField(required=required, widget=widget, strip=True)
            if prop.get("maxLength"):
                attrs["maxlength"] = prop["maxLength"]
        else:
            form_field = forms.CharField(
                required=required, widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false"}), strip=True
            )
            example = json.dumps(_example(prop), ensure_ascii=False)
            help_text = " ".join(filter(None, [help_text, f"Written as JSON, for example {example}"]))
            initial = json.dumps(initial, indent=2) if initial is not None else None
        form_field.label = label
        form_field.help_text = help_text
        form_field.initial = initial
        form_field.widget.attrs.update(attrs)
        self.fields[name] = form_field
        self.specs[name] = spec

    # --- reading -----------------------------------------------------------------------------------

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name, spec in self.specs.items():
            if spec.kind == "json" and cleaned.get(name):
                try:
                    cleaned[name] = json.loads(cleaned[name])
                except (ValueError, RecursionError):
                    self.add_error(name, "Enter valid JSON.")
        return cleaned

    def config(self) -> dict[str, Any]:
        """The configuration as JSON (call after `is_valid()`): empty optional fields are left out."""
        config: dict[str, Any] = {}
        for name, spec in self.specs.items():
            value = self._value(spec, self.cleaned_data.get(name))
            if value is None:
                continue
            target = config
            for part in spec.path[:-1]:
                target = target.setdefault(part, {})
            target[spec.path[-1]] = value
        return config

    @staticmethod
    def _value(spec: Spec, raw: Any) -> Any:
        if spec.kind == "boolean":
            return bool(raw)
        if raw is None or raw == "" or raw == []:
            return None
        if spec.kind == "enum":
            return spec.enum[raw]
        if spec.kind == "enum_list":
            return [spec.enum[key] for key in raw]
        if spec.kind == "string_list":
            return [line.strip() for line in str(raw).splitlines() if line.strip()]
        return raw

    # --- showing -----------------------------------------------------------------------------------

    def layout(self) -> list[BoundField | Group]:
        """Fields in schema order; an object property's fields come as one `Group`."""
        properties = self.schema.get("properties") or {}
        items: list[BoundField | Group] = []
        for name, names in self._layout:
            if names is None:
                items.append(self[name])
            else:
                prop = properties.get(name) or {}
                items.append(
                    Group(
                        name=name,
                        label=label_for(name, prop),
                        help_text=str(prop.get("description") or ""),
                        fields=[self[n] for n in names],
                    )
                )
        return items

    def add_schema_errors(self, details: dict[str, Any]) -> None:
        """Show the service's validation messages (`{"config.a.0": ["..."]}`) next to their fields."""
        for key, messages in details.items():
            parts = str(key).split(".")
            for message in messages if isinstance(messages, list) else [messages]:
                name = self._field_for(parts) if parts[0] == PREFIX else None
                if name is not None and str(message) in self.errors.get(name, []):
                    continue  # said once next to the field is enough
                self.add_error(name, str(message))

    def _field_for(self, parts: list[str]) -> str | None:
        rest = parts[1:]
        if not rest:
            return None
        if rest[0] in self.fields:
            return rest[0]
        if len(rest) > 1 and f"{rest[0]}{NESTED}{rest[1]}" in self.fields:
            return f"{rest[0]}{NESTED}{rest[1]}"
        group = [n for n in self.fields if n.startswith(f"{rest[0]}{NESTED}")]
        return group[0] if group else None


def ordered_properties(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The schema's properties in the order a form shows them: the required ones as `required`
    lists them, then the others by name. (PostgreSQL's jsonb does not keep an object's key order,
    so the order the schema was written in is lost; a list keeps its order.)"""
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return []
    listed = [name for name in schema.get("required") or [] if name in properties]
    names = list(dict.fromkeys(listed)) + sorted(name for name in properties if name not in listed)
    return [(name, properties[name] if isinstance(properties[name], dict) else {}) for name in names]


def _kind_of(prop: dict[str, Any]) -> str:
    if isinstance(prop.get("enum"), list) and prop["enum"]:
        return "enum"
    kind = _type_of(prop)
    if kind == "array":
        items: dict[str, Any] = prop["items"] if isinstance(prop.get("items"), dict) else {}
        if isinstance(items.get("enum"), list) and items["enum"]:
            return "enum_list"
        if _type_of(items) == "string" or not items:
            return "string_list"
        return "json"
    if kind in ("string", "integer", "number", "boolean"):
        return kind
    return "json"


def _example(prop: dict[str, Any], depth: int = 0) -> Any:
    """A value of the property's shape, to show how its JSON is written."""
    if isinstance(prop.get("enum"), list) and prop["enum"]:
        return prop["enum"][0]
    kind = _type_of(prop)
    if depth > 3:
        return None
    if kind == "array":
        items = prop.get("items")
        return [_example(items, depth + 1)] if isinstance(items, dict) and items else []
    if kind == "object" or isinstance(prop.get("properties"), dict):
        return {name: _example(sub, depth + 1) for name, sub in ordered_properties(prop)}
    return {"string": "…", "integer": 0, "number": 0, "boolean": False}.get(kind or "")


def _bounds(prop: dict[str, Any]) -> dict[str, Any]:
    attrs = {}
    if isinstance(prop.get("minimum"), int | float):
        attrs["min"] = prop["minimum"]
    if isinstance(prop.get("maximum"), int | float):
        attrs["max"] = prop["maximum"]
    return attrs


class AgentForm(forms.Form):
    """What every agent has besides its configuration (the API's create and update input)."""

    name = forms.CharField(max_length=100)
    description = forms.CharField(
        max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="For your team."
    )
    reply_timeout_seconds = forms.IntegerField(
        label="Hand over after (seconds)",
        min_value=10,
        max_value=3600,
        initial=120,
        help_text="Hand the conversation to the team when the agent has not answered by then.",
    )
    channels = forms.TypedMultipleChoiceField(
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="The WhatsApp numbers whose conversations it may answer.",
    )

    def __init__(self, *args: Any, channels: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        channel_field = self.fields["channels"]
        assert isinstance(channel_field, forms.TypedMultipleChoiceField)
        channel_field.choices = channels
        if not channels:
            del self.fields["channels"]


class AgentFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", "Any status"), *LISTED_STATUSES], required=False)


class AnalyticsForm(forms.Form):
    range = forms.ChoiceField(
        label="Period", choices=[(key, label) for key, (label, _) in RANGES.items()], required=False
    )
    interval = forms.ChoiceField(
        label="Per", choices=[("", "Automatic"), ("day", "Day"), ("hour", "Hour")], required=False
    )

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        if data is not None and not data.get("range"):
            data = data.copy()
            data["range"] = DEFAULT_RANGE  # shown as chosen, rather than the first option
        super().__init__(data, **kwargs)

    def period(self) -> tuple[str, timedelta, str]:
        """(range key, its length, interval) after `is_valid()`: hourly for a day, else daily by default."""
        key = self.cleaned_data.get("range") or DEFAULT_RANGE
        interval = self.cleaned_data.get("interval") or ("hour" if key == "24h" else "day")
        return key, RANGES[key][1], interval
