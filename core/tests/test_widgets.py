"""`PlainSelect` writes the HTML Django's `Select` renders through its templates (up to the blank
lines between tags): groups, the selected option, attributes and escaping."""

from __future__ import annotations

import re

import pytest
from django import forms

from core.widgets import PlainSelect

CHOICES = [
    ("", "Anyone"),
    ("me", "Me <&>"),
    ('Team "A" & co', [("user:1", 'Ana "A"'), ("user:2", "Bo")]),
    ("AI agents", [("agent:3", "<script>x</script>")]),
    (4, "A number"),
]
ATTRIBUTES = [
    None,
    {"id": "id_assignee", "required": True, "disabled": False, "hx-get": "/inbox/?a=1&b='2'", "aria-label": "Who"},
]


def _tags(html: str) -> str:
    return re.sub(r">\s+<", "><", html)


@pytest.mark.parametrize("attrs", ATTRIBUTES)
@pytest.mark.parametrize("value", ["", "me", "user:2", "agent:3", 4, "4", None, "not-a-choice"])
def test_the_same_html_as_djangos_select(value: object, attrs: dict[str, object] | None) -> None:
    expected = forms.Select(choices=CHOICES).render("assignee", value, attrs)
    written = PlainSelect(choices=CHOICES).render("assignee", value, attrs)

    assert _tags(written) == _tags(expected)
    assert "<script>" not in written
