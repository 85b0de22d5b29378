"""One JSON error shape for every API failure, and the request body size limit (413)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.core.handlers.asgi import ASGIHandler
from django.test import Client

ERROR_KEYS = {"code", "message", "details"}


@pytest.fixture
def test_routes(settings: Any) -> None:
    settings.ROOT_URLCONF = "core.tests.urls"


def _assert_error_shape(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body["code"] == code
    return body


@pytest.mark.django_db
def test_unknown_api_path_is_a_json_404(client: Client) -> None:
    response = client.get("/api/v1/no-such-thing")

    _assert_error_shape(response, 404, "not_found")


@pytest.mark.django_db
def test_unknown_api_path_is_json_even_with_debug_on(client: Client, settings: Any) -> None:
    # given: development mode, where Django would otherwise show its HTML debug page
    settings.DEBUG = True

    # when
    response = client.post("/api/v1/no-such-thing", data="{}", content_type="application/json")

    # then
    _assert_error_shape(response, 404, "not_found")


@pytest.mark.django_db
def test_unknown_api_path_with_a_newline_is_json_even_with_debug_on(client: Client, settings: Any) -> None:
    # given: development mode
    settings.DEBUG = True

    # when the id in an API path holds an encoded newline, which `.` in a URL pattern does not match
    response = client.post("/api/v1/agents/a%0Ab/activate", data="{}", content_type="application/json")

    # then it is still the API's JSON 404, not Django's HTML page
    _assert_error_shape(response, 404, "not_found")


@pytest.mark.django_db
@pytest.mark.parametrize("body", [b"[" * 100_000, b'{"name": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"])
def test_json_nested_too_deep_to_decode_is_a_400_parse_error(client_for: Any, client_admin: Any, body: bytes) -> None:
    from inbox.models import Contact

    # when an API body nests deeper than the JSON decoder can recurse
    response = client_for(client_admin).post("/api/v1/contacts", data=body, content_type="application/json")

    # then it is a 400 parse error like any malformed JSON, not a 500 from RecursionError, and nothing is created
    _assert_error_shape(response, 400, "parse_error")
    assert not Contact.objects.exists()


@pytest.mark.django_db
def test_unknown_page_outside_the_api_is_html(client: Client) -> None:
    response = client.get("/no-such-page")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.django_db
def test_malformed_json_is_a_400_parse_error(client: Client, test_routes: None) -> None:
    response = client.post("/api/test/echo", data='{"name": ', content_type="application/json")

    body = _assert_error_shape(response, 400, "parse_error")
    assert "JSON" in body["message"]


@pytest.mark.django_db
def test_wrong_method_is_a_json_405(client: Client, test_routes: None) -> None:
    response = client.delete("/api/test/echo")

    _assert_error_shape(response, 405, "method_not_allowed")


@pytest.mark.django_db
def test_unsupported_media_type_is_a_json_415(client: Client, test_routes: None) -> None:
    response = client.post("/api/test/echo", data="name=x", content_type="application/x-www-form-urlencoded")

    _assert_error_shape(response, 415, "unsupported_media_type")


@pytest.mark.django_db
def test_unhandled_exception_in_an_api_view_is_a_json_500(test_routes: None) -> None:
    # given: a client that returns the 500 response instead of re-raising the exception
    client = Client(raise_request_exception=False)

    # when
    response = client.get("/api/test/explode")

    # then: the JSON error, with no traceback or exception text
    body = _assert_error_shape(response, 500, "server_error")
    assert "unhandled failure" not in response.content.decode()
    assert body["message"] == "Internal server error."


@pytest.mark.django_db
def test_body_with_content_length_over_the_limit_is_a_json_413(
    client: Client, settings: Any, test_routes: None
) -> None:
    # given
    settings.MAX_REQUEST_BODY_BYTES = 1000
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = '{"text": "' + "x" * 2000 + '"}'

    # when
    response = client.post("/api/test/echo", data=body, content_type="application/json")

    # then
    _assert_error_shape(response, 413, "request_too_large")


@pytest.mark.django_db
def test_body_under_the_limit_is_accepted(client: Client, settings: Any, test_routes: None) -> None:
    settings.MAX_REQUEST_BODY_BYTES = 1000
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = client.post("/api/test/echo", data={"text": "x" * 500}, content_type="application/json")

    assert response.status_code == 200
    assert response.json() == {"received": {"text": "x" * 500}}


def _asgi_post_without_content_length(path: str, chunks: list[bytes]) -> tuple[int, dict[str, str], bytes]:
    """POST through Django's ASGI handler as a server does for `Transfer-Encoding: chunked`."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/octet-stream")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    messages = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1} for i, chunk in enumerate(chunks)
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        await asyncio.Event().wait()  # the client stays connected until the response is sent
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async_to_sync(ASGIHandler())(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], headers, body


@pytest.mark.django_db(transaction=True)
def test_chunked_body_over_the_limit_is_a_json_413(settings: Any, test_routes: None) -> None:
    # given: a body sent in pieces with no Content-Length, larger than the limit in total
    settings.MAX_REQUEST_BODY_BYTES = 1000
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    # when
    status, headers, body = _asgi_post_without_content_length("/api/test/raw-body", [b"x" * 600] * 3)

    # then
    assert status == 413
    assert headers["content-type"].startswith("application/json")
    assert b'"request_too_large"' in body


@pytest.mark.django_db(transaction=True)
def test_chunked_body_under_the_limit_is_read(settings: Any, test_routes: None) -> None:
    settings.MAX_REQUEST_BODY_BYTES = 1000
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    status, _, body = _asgi_post_without_content_length("/api/test/raw-body", [b"x" * 300] * 2)

    assert status == 200
    assert body == b'{"length": 600}'


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    ["/api/v1/users", "/api/v1/audit-logs", "/api/v1/api-keys", "/api/v1/contacts", "/api/v1/conversations"],
)
@pytest.mark.parametrize("cursor", ["not-a-cursor", "\u00c3\u2013D%"])
def test_unreadable_cursor_is_a_400_about_the_cursor(
    client_for: Any, client_admin: Any, path: str, cursor: str
) -> None:
    # when a list is asked for a page with a cursor the server never issued
    response = client_for(client_admin).get(path, {"cursor": cursor})

    # then it is bad input (400) naming `cursor`, as the schema documents, not a 404
    body = _assert_error_shape(response, 400, "validation_error")
    assert body["details"] == {"cursor": ["Invalid cursor."]}
