"""Form widgets written in Python where Django's template-rendered ones cost too much.

Django renders each `<option>` of a select through its own template include: about 0.1 ms an
option, so the inbox's two people lists (a tenant with 180 teammates and agents) spent more time in
their options than the rest of the conversation page. `PlainSelect` writes the same HTML directly.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe


class PlainSelect(forms.Select):
    """`forms.Select` with the same output (option groups, `selected`, attributes), written in Python."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        parts: list[str] = [format_html('<select name="{}"{}>', widget["name"], _attrs(widget["attrs"]))]
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                parts.append(format_html('\n  <optgroup label="{}">', group_name))
            for option in options:
                text, extra, label = str(option["value"]), _attrs(option["attrs"]), option["label"]
                parts.append(format_html('\n  <option value="{}"{}>{}</option>', text, extra, label))
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")
        return mark_safe("".join(parts))  # noqa: S308 - every part above is escaped by format_html


def _attrs(attrs: dict[str, Any]) -> SafeString:
    """As Django's attrs.html, in their order: `True` gives the bare name, `False` leaves it out."""
    return mark_safe(  # noqa: S308 - names and values escaped by format_html
        "".join(
            format_html(" {}", name) if value is True else format_html(' {}="{}"', name, str(value))
            for name, value in attrs.items()
            if value is not False
        )
    )
