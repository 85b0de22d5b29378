"""A plugin's description and changelogs, written in Markdown by its author, as safe HTML.

Two layers, so a gap in one is not a hole: markdown-it renders CommonMark with raw HTML off (an
author's `<script>` comes out as text) and refuses `javascript:`/`data:` links; nh3 then keeps only
the tags and attributes listed here and only absolute http(s) and mailto links (a relative one
would point into this site), which open with `rel="noopener noreferrer nofollow"`. Images are shown
as their alt text (the page's CSP would block an outside image anyway; screenshots come from the
package). Headings start at <h3>, below the page's own.
"""

from __future__ import annotations

from typing import Any

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "s", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "h3", "h4", "h5", "h6",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}
FIRST_HEADING = 3


def _image_as_text(renderer: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
    return escapeHtml(tokens[idx].content)


def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False}).enable("strikethrough")
    parser.add_render_rule("image", _image_as_text)
    return parser


_PARSER = _parser()
_CLEANER = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    url_schemes=URL_SCHEMES,
    url_relative="deny",
    link_rel="noopener noreferrer nofollow",
)


def markdown_html(text: str) -> SafeString:
    """`text` (Markdown) as HTML that is safe to put in a page."""
    tokens = _PARSER.parse(text or "")
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + FIRST_HEADING - 1, 6)}"
    html = _PARSER.renderer.render(tokens, _PARSER.options, {})
    return mark_safe(_CLEANER.clean(html))  # noqa: S308  # sanitized by nh3 just above
