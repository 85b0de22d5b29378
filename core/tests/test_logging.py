"""Structured logs: JSON or console output, a request id on every line, secrets never written."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import structlog
from django.conf import settings
from django.test import Client

from accounts.models import User
from core.logging import configure_logging

PASSWORD = "Corr3ct-Horse-Battery-Staple!"


class LogCapture:
    """The formatted output of the project's console handler, exactly as it would be written."""

    def __init__(self, stream: io.StringIO) -> None:
        self.stream = stream

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def json_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines() if line.strip()]


def _project_handler() -> logging.StreamHandler:
    handlers = [
        handler
        for handler in logging.getLogger().handlers
        if isinstance(handler.formatter, structlog.stdlib.ProcessorFormatter)
    ]
    assert len(handlers) == 1, logging.getLogger().handlers
    return handlers[0]


@pytest.fixture
def log_format() -> Iterator[Callable[[bool], LogCapture]]:
    """Reconfigure logging as production (JSON) or development (console) and capture the output."""

    def use(json_output: bool) -> LogCapture:
        configure_logging(level="INFO", json_output=json_output)
        stream = io.StringIO()
        _project_handler().setStream(stream)
        return LogCapture(stream)

    yield use
    configure_logging(level=settings.LOG_LEVEL, json_output=settings.LOG_FORMAT == "json")


@pytest.mark.django_db
def test_json_logs_carry_the_request_id_of_the_response(client: Client, log_format: Callable[..., LogCapture]) -> None:
    # given
    output = log_format(True)

    # when
    response = client.get("/api/v1/no-such-thing")

    # then: every line is JSON and carries the id returned in X-Request-ID
    request_id = response["X-Request-ID"]
    lines = output.json_lines()
    assert lines, "nothing was logged"
    assert {line["request_id"] for line in lines} == {request_id}
    request_line = next(line for line in lines if line["event"] == "request")
    assert request_line["status"] == 404
    assert request_line["path"] == "/api/v1/no-such-thing"
    assert request_line["level"] == "info"
    assert "duration_ms" in request_line
    assert "timestamp" in request_line


@pytest.mark.django_db
def test_console_logs_are_readable_text_with_the_request_id(
    client: Client, log_format: Callable[..., LogCapture]
) -> None:
    # given
    output = log_format(False)

    # when
    response = client.get("/api/health")

    # then
    line = output.text.strip().splitlines()[-1]
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)
    assert "request" in line
    assert f"request_id={response['X-Request-ID']}" in line
    assert "status=200" in line


@pytest.mark.django_db
def test_stdlib_log_lines_inside_a_request_carry_the_request_id(
    log_format: Callable[..., LogCapture], settings: Any
) -> None:
    # given: a view that fails; Django's own logger reports it through the stdlib
    settings.ROOT_URLCONF = "core.tests.urls"
    output = log_format(True)

    # when
    response = Client(raise_request_exception=False).get("/api/test/explode")

    # then
    error_line = next(line for line in output.json_lines() if line["logger"] == "django.request")
    assert error_line["request_id"] == response["X-Request-ID"]
    assert "RuntimeError" in error_line["exception"]


@pytest.mark.django_db
def test_a_callers_sane_request_id_is_kept(client: Client, log_format: Callable[..., LogCapture]) -> None:
    output = log_format(True)

    response = client.get("/api/health", HTTP_X_REQUEST_ID="req-2024.abc_DEF-1")

    assert response["X-Request-ID"] == "req-2024.abc_DEF-1"
    assert output.json_lines()[-1]["request_id"] == "req-2024.abc_DEF-1"


@pytest.mark.parametrize(
    "incoming",
    ["short", "has spaces in it", "x" * 65, "<script>alert(1)</script>", "id\u00e9-unicode-1234"],
)
@pytest.mark.django_db
def test_an_insane_request_id_is_replaced(client: Client, incoming: str) -> None:
    response = client.get("/api/health", HTTP_X_REQUEST_ID=incoming)

    assert response["X-Request-ID"] != incoming
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


@pytest.mark.django_db
def test_secrets_in_requests_and_log_calls_never_reach_the_output(
    client_admin: User,
    client_for: Callable[[User], Any],
    key_client_for: Callable[..., Any],
    log_format: Callable[..., LogCapture],
    settings: Any,
) -> None:
    # given: a real API key, a real access token and a password
    client_admin.set_password(PASSWORD)
    client_admin.save(update_fields=["password"])
    key_client = key_client_for(client_admin.account, ["read"])
    api_key = key_client._credentials["HTTP_X_API_KEY"]
    jwt_client = client_for(client_admin)
    bearer = jwt_client._credentials["HTTP_AUTHORIZATION"].removeprefix("Bearer ")
    settings.ROOT_URLCONF = "core.tests.urls"
    output = log_format(True)

    # when: requests carry them in headers, bodies and query strings, some of them failing
    key_client.get("/api/test/whoami")
    jwt_client.get("/api/test/whoami")
    signed_in = Client(raise_request_exception=False)
    signed_in.get(f"/api/test/explode-signed-in?token={bearer}", HTTP_X_API_KEY=api_key)
    signed_in.get("/api/test/explode-signed-in", HTTP_AUTHORIZATION=f"Bearer {bearer}")
    sign_in = Client().post(
        "/api/v1/auth/token",
        data={"email": client_admin.email, "password": PASSWORD},
        content_type="application/json",
    )
    Client().post(
        "/api/v1/auth/token",
        data={"email": client_admin.email, "password": PASSWORD + "-wrong"},
        content_type="application/json",
    )
    issued = sign_in.json() if sign_in.status_code == 200 else {}
    # and code logs them by mistake, through structlog and through the stdlib
    leaky = {
        "password": PASSWORD,
        "api_key": api_key,
        "authorization": f"Bearer {bearer}",
        "nested": {"refresh": bearer},
    }
    structlog.get_logger("test.leak").info("leaky", payload=leaky, note=f"key {api_key} and jwt {bearer}", **leaky)
    logging.getLogger("test.leak").warning("header was %s", f"Bearer {bearer}", extra={"password": PASSWORD})
    try:
        raise ValueError(f"bad key {api_key}")
    except ValueError:
        logging.getLogger("test.leak").exception("failure")

    # then: the lines were written, without any of the secrets
    text = output.text
    assert text.count('"event": "request"') >= 6
    assert '"event": "leaky"' in text
    assert "ValueError" in text
    secrets = [PASSWORD, api_key, bearer, *(str(v) for v in issued.values() if isinstance(v, str) and len(v) > 20)]
    for secret in secrets:
        assert secret not in text
    assert "[redacted]" in text


def test_webhook_signing_secrets_logged_by_mistake_are_redacted(log_format: Callable[..., LogCapture]) -> None:
    # given a webhook secret as the API shows it once
    from integrations.signing import secret_generate

    secret = secret_generate()
    output = log_format(True)

    # when code logs it in a message and in a field not named like a secret
    structlog.get_logger("test.leak").info("endpoint", note=f"created with {secret}")
    logging.getLogger("test.leak").warning("secret is %s", secret)

    # then
    assert output.text.count("[redacted]") == 2
    assert secret.removeprefix("whsec_") not in output.text


@pytest.mark.django_db
def test_slow_queries_are_logged_with_duration_and_sql_but_no_params(
    log_format: Callable[..., LogCapture], settings: Any
) -> None:
    # given: every query counts as slow
    settings.SLOW_QUERY_MS = 0
    output = log_format(True)

    # when
    User.objects.filter(email="needle-param@example.test").exists()

    # then
    slow = [line for line in output.json_lines() if line["event"] == "slow_query"]
    assert slow
    assert "accounts_user" in slow[-1]["sql"]
    assert slow[-1]["duration_ms"] >= 0
    assert "needle-param" not in output.text


@pytest.mark.django_db
def test_fast_queries_are_not_logged(log_format: Callable[..., LogCapture], settings: Any) -> None:
    settings.SLOW_QUERY_MS = 60_000
    output = log_format(True)

    User.objects.filter(email="needle-param@example.test").exists()

    assert '"slow_query"' not in output.text
