"""Security headers on every response, and Swagger UI that loads under the CSP (no inline code)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.test import Client

from skybot_inbox.settings.security import websocket_origin


def _csp_directives(header: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


class _Assets(HTMLParser):
    """Collects <script>, <style> and stylesheet <link> tags, and any inline script or style text."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str | None] = []
        self.stylesheets: list[str] = []
        self.inline_code: list[str] = []
        self.inline_handlers: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.inline_handlers += [name for name in attributes if name.startswith("on")]
        if tag == "script":
            self.scripts.append(attributes.get("src"))
            self._in = "script"
        elif tag == "style":
            self._in = "style"
        elif tag == "link" and attributes.get("rel") == "stylesheet":
            self.stylesheets.append(attributes["href"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in and data.strip():
            self.inline_code.append(data)


@pytest.mark.django_db
def test_html_pages_get_a_csp_without_inline_scripts_and_the_security_headers(client: Client) -> None:
    # when: an HTML page (the sign-in form)
    response = client.get("/accounts/login/")

    # then
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    csp = _csp_directives(response["Content-Security-Policy"])
    assert csp["script-src"] == ["'self'"]
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert not any("unsafe" in value for values in csp.values() for value in values)
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    # and the page itself obeys the policy
    assets = _Assets()
    assets.feed(response.content.decode())
    assert assets.inline_code == []
    assert assets.inline_handlers == []


@pytest.mark.django_db
def test_scripts_may_open_websockets_to_this_site_only(client: Client, settings) -> None:
    # when: a signed-out HTML page
    response = client.get("/accounts/login/")

    # then connect-src names the site's own WebSocket origin, and no scheme that allows any host
    connect = _csp_directives(response["Content-Security-Policy"])["connect-src"]
    host = settings.SITE_URL.split("://", 1)[1]
    assert connect == ["'self'", f"ws://{host}"]
    assert not {"ws:", "wss:", "http:", "https:", "*"} & set(connect)


@pytest.mark.parametrize(
    ("site_url", "origin"),
    [
        ("https://inbox.example.com", "wss://inbox.example.com"),
        ("https://inbox.example.com:8443", "wss://inbox.example.com:8443"),
        ("http://127.0.0.1:8000", "ws://127.0.0.1:8000"),
        ("http://[::1]:8000", "ws://[::1]:8000"),
    ],
)
def test_the_websocket_origin_follows_site_url(site_url: str, origin: str) -> None:
    assert websocket_origin(site_url) == origin


@pytest.mark.django_db
def test_api_responses_get_the_same_headers(client: Client) -> None:
    response = client.get("/api/health")

    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "script-src 'self'" in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_swagger_ui_loads_its_code_from_files_allowed_by_the_csp(client: Client) -> None:
    # when
    response = client.get("/api/docs/")

    # then: no inline script or style; scripts and styles come from /static/ or the split view's script
    assert response.status_code == 200
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assets = _Assets()
    assets.feed(response.content.decode())
    assert assets.inline_code == []
    assert assets.inline_handlers == []
    assert len(assets.scripts) == 3
    assert all(src is not None for src in assets.scripts)
    init_scripts = [src for src in assets.scripts if src and not src.startswith("/static/")]
    assert len(init_scripts) == 1
    assert re.fullmatch(r"/api/docs/\?script=?", init_scripts[0] or "")
    assert assets.stylesheets
    assert all(href.startswith("/static/") for href in assets.stylesheets)

    # and the init script is served, pointing at the schema
    script = client.get(init_scripts[0] or "")
    assert script.status_code == 200
    assert "javascript" in script["Content-Type"]
    assert "/api/schema/" in script.content.decode()


@pytest.mark.django_db
def test_swagger_ui_static_files_exist(client: Client) -> None:
    # The files the page names are found by the static files finders (served by whitenoise in production).
    from django.contrib.staticfiles import finders

    for name in [
        "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
        "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css",
        "css/api-docs.css",
    ]:
        assert finders.find(name), name
