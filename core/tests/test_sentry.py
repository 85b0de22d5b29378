"""Sentry: on only with SENTRY_DSN, and the events it sends carry no personal data or credentials.

A local HTTP server stands in for Sentry's ingest endpoint; the production `sentry_init` talks to it.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sentry_sdk
from django.conf import settings as django_settings
from django.test import Client
from pytest_httpserver import HTTPServer

from accounts.models import Account, User
from core.observability import sentry_init

PASSWORD = "Sentry-Secret-Passw0rd!"
CALLER_IP = "198.51.100.23"


@pytest.fixture
def sentry_ingest(httpserver: HTTPServer) -> Iterator[Callable[[], list[str]]]:
    """Sentry initialised against a local ingest endpoint; yields a function returning the envelopes."""
    httpserver.expect_request("/api/1/envelope/", method="POST").respond_with_json({"id": "0" * 32})
    sentry_init(
        dsn=f"http://publickey@127.0.0.1:{httpserver.port}/1",
        environment="test",
        traces_sample_rate=0.0,
        profiles_sample_rate=0.0,
    )

    def envelopes() -> list[str]:
        sentry_sdk.flush(timeout=10)
        bodies = []
        for request, _response in httpserver.log:
            assert request.path == "/api/1/envelope/"
            raw = request.get_data()
            if request.headers.get("Content-Encoding") == "gzip":
                raw = gzip.decompress(raw)
            bodies.append(raw.decode())
        return bodies

    yield envelopes
    sentry_sdk.flush(timeout=5)
    sentry_sdk.init()  # no DSN: reporting off again for every other test


@pytest.fixture
def failing_requests(
    account: Account,
    client_admin: User,
    client_for: Callable[[User], Any],
    key_client_for: Callable[..., Any],
    settings: Any,
) -> dict[str, str]:
    """Make failing API calls that carry a session cookie, a JWT, an API key and a password."""
    settings.ROOT_URLCONF = "core.tests.urls"
    jwt = client_for(client_admin)._credentials["HTTP_AUTHORIZATION"].removeprefix("Bearer ")
    api_key = key_client_for(account, ["read"])._credentials["HTTP_X_API_KEY"]

    signed_in = Client(raise_request_exception=False)
    signed_in.force_login(client_admin, backend="django.contrib.auth.backends.ModelBackend")
    session_cookie = signed_in.cookies[settings.SESSION_COOKIE_NAME].value
    response = signed_in.post(
        "/api/test/explode-signed-in",
        data={"email": client_admin.email, "password": PASSWORD},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {jwt}",
        REMOTE_ADDR=CALLER_IP,
        HTTP_X_FORWARDED_FOR=CALLER_IP,
    )
    assert response.status_code == 500
    by_key = Client(raise_request_exception=False).get(
        "/api/test/explode-signed-in", HTTP_X_API_KEY=api_key, REMOTE_ADDR=CALLER_IP
    )
    assert by_key.status_code == 500
    return {
        "jwt": jwt,
        "api_key": api_key,
        "session_cookie": session_cookie,
        "password": PASSWORD,
        "email": client_admin.email,
        "ip": CALLER_IP,
    }


@pytest.mark.django_db
def test_errors_reach_sentry_without_personal_data_or_credentials(
    sentry_ingest: Callable[[], list[str]], failing_requests: dict[str, str]
) -> None:
    # when
    envelopes = sentry_ingest()

    # then: both errors arrived, with the request they came from
    assert len(envelopes) == 2
    text = "\n".join(envelopes)
    assert "unhandled failure for a signed-in caller" in text
    assert "/api/test/explode-signed-in" in text
    events = [json.loads(line) for envelope in envelopes for line in envelope.splitlines() if '"exception"' in line]
    assert len(events) == 2
    for event in events:
        assert "cookies" not in event["request"] or not event["request"]["cookies"]
        assert "user" not in event or not event["user"].get("email")
    # and no credential or personal datum anywhere in what was sent
    for name, secret in failing_requests.items():
        assert secret not in text, f"the {name} was sent to Sentry"


@pytest.mark.filterwarnings("ignore:The send_default_pii option is deprecated:DeprecationWarning")
@pytest.mark.django_db
def test_the_same_checks_see_personal_data_when_it_is_sent(
    httpserver: HTTPServer, client_admin: User, settings: Any
) -> None:
    """Control: with send_default_pii on, the checks above would fail, so they do detect a leak."""
    # given: Sentry configured the way it must not be
    httpserver.expect_request("/api/1/envelope/", method="POST").respond_with_json({"id": "0" * 32})
    settings.ROOT_URLCONF = "core.tests.urls"
    sentry_sdk.init(dsn=f"http://publickey@127.0.0.1:{httpserver.port}/1", send_default_pii=True)
    try:
        client = Client(raise_request_exception=False)
        client.force_login(client_admin, backend="django.contrib.auth.backends.ModelBackend")

        # when
        client.get("/api/test/explode", REMOTE_ADDR=CALLER_IP)
        sentry_sdk.flush(timeout=10)
    finally:
        sentry_sdk.init()

    # then
    text = "".join(
        (gzip.decompress(r.get_data()) if r.headers.get("Content-Encoding") == "gzip" else r.get_data()).decode()
        for r, _ in httpserver.log
    )
    assert client_admin.email in text


SHOW_SENTRY = """
import json, django
django.setup()
import sentry_sdk
client = sentry_sdk.get_client()
options = client.options if client.is_active() else {}
print(json.dumps({
    "active": client.is_active(),
    "traces": options.get("traces_sample_rate"),
    "profiles": options.get("profiles_sample_rate"),
    "pii": bool(options.get("send_default_pii")),
    "user_info": options.get("data_collection", {}).get("user_info"),
    "bodies": options.get("data_collection", {}).get("http_bodies"),
}))
"""


def _sentry_state(extra_env: dict[str, str]) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTRY_")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "skybot_inbox.settings.base",
            "PYTHONPATH": str(django_settings.BASE_DIR),
            **extra_env,
        }
    )
    result = subprocess.run([sys.executable, "-c", SHOW_SENTRY], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_sentry_is_off_without_a_dsn() -> None:
    assert _sentry_state({})["active"] is False


def test_sentry_is_on_with_a_dsn_and_the_two_sample_rates() -> None:
    state = _sentry_state(
        {
            "SENTRY_DSN": "http://publickey@127.0.0.1:9/1",
            "SENTRY_TRACES_SAMPLE_RATE": "0.25",
            "SENTRY_PROFILES_SAMPLE_RATE": "0.1",
        }
    )

    assert state == {
        "active": True,
        "traces": 0.25,
        "profiles": 0.1,
        "pii": False,
        "user_info": False,
        "bodies": [],
    }
