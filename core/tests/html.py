"""Checks every server-rendered page must pass: the strict CSP forbids inline code."""

from __future__ import annotations

import re
from typing import Any

SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)


def assert_no_inline_code(response: Any) -> None:
    """No inline script, style or event handler: scripts and styles come from files only."""
    html = response.content.decode()
    for attributes in SCRIPT_TAG.findall(html):
        assert "src=" in attributes, f"inline <script{attributes}>"
    assert "<style" not in html
    assert "style=" not in html
    assert re.search(r"\son[a-z]+=", html) is None  # no inline event handlers
    assert "hx-on" not in html  # htmx's inline handlers are evaluated code too
    assert '/static/css/app.css"' in html
