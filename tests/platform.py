"""The running platform for end-to-end tests (the browser tests and the integration packages' suites).

`platform` starts SkyBot Inbox the way `make run` does (`manage.py runserver`, the ASGI server that
serves pages and WebSockets), on a database of its own, migrated and seeded with the demo data. In
PostgreSQL + Redis mode (DATABASE_URL and REDIS_URL set) the server uses them too; otherwise SQLite
and the in-memory channel layer. Celery runs its tasks in the server process either way. A local
HTTP server stands in for Meta's Graph API and the SkyBot runner, so replies and deployments really
go out. One server per test worker, started on first use.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from pytest_httpserver import HTTPServer

ROOT = Path(__file__).resolve().parents[1]
DEMO_PASSWORD = "skybot-demo-2026"
APP_SECRET = "browser-test-app-secret"
VERIFY_TOKEN = "browser-test-verify-token"
RUNNER_WEBHOOK_SECRET = "browser-test-runner-webhook-secret"
START_TIMEOUT_S = 60
# The demo's own number is a sandbox number, whose replies never leave the platform. Tests of the
# real path to Meta use this number, which the fixture connects to the demo tenant beside it.
META_PHONE_NUMBER_ID = "100000000000002"
_CONNECT_META_NUMBER = (
    "from accounts.models import Account; from inbox.models import Channel; "
    f"Channel.objects.get_or_create(phone_number_id='{META_PHONE_NUMBER_ID}', defaults={{"
    "'account': Account.objects.get(slug='demo'), 'name': 'Meta line', "
    "'display_phone_number': '+1 555 010 0002', 'access_token': 'browser-test-access-token'})"
)


@dataclass
class Platform:
    """A running SkyBot Inbox: its base URL and the stand-in for Meta's Graph API it talks to."""

    url: str
    graph_api: HTTPServer
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)

    def manage(self, *args: str) -> None:
        """Run a management command on the running platform's database (`seed_demo`, say)."""
        with self.log_path.open("a") as log:
            _manage(self.env, log, *args)

    def post_whatsapp_webhook(self, payload: dict[str, Any]) -> httpx.Response:
        """Deliver a WhatsApp Cloud API notification, signed like Meta signs it."""
        body = json.dumps(payload).encode()
        signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
        return httpx.post(
            f"{self.url}/webhooks/whatsapp",
            content=body,
            headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
            timeout=10,
        )

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _worker_index() -> int:
    return int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)


def _server_environment(tmp: Path, graph_api_url: str, port: int) -> dict[str, str]:
    # Started like `make run`: SITE_URL follows from HOST and PORT (none inherited from the shell).
    env = {key: value for key, value in os.environ.items() if key not in {"DJANGO_SETTINGS_MODULE", "SITE_URL"}}
    worker = _worker_index() + int(os.environ.get("TEST_REDIS_DB_OFFSET", "0"))
    database_url = os.environ.get("DATABASE_URL", "")
    if database_url.startswith("postgres"):
        parts = urlsplit(database_url)
        name = f"{parts.path.lstrip('/') or 'skybot'}_browser_{worker}"
        _recreate_postgres_database(database_url, name)
        env["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))
    else:
        env["DATABASE_URL"] = f"sqlite:///{tmp / 'db.sqlite3'}"
    if redis_url := os.environ.get("REDIS_URL", ""):
        # A Redis database of its own (test workers use 1..15 counting up; count down from 15).
        parts = urlsplit(redis_url)
        env["REDIS_URL"] = urlunsplit(parts._replace(path=f"/{15 - worker % 15}"))
        import redis

        redis.Redis.from_url(env["REDIS_URL"]).flushdb()
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "skybot_inbox.settings.base",
            "CELERY_TASK_ALWAYS_EAGER": "true",
            "GRAPH_API_BASE_URL": graph_api_url,
            "WHATSAPP_APP_SECRET": APP_SECRET,
            "WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
            # The same local server stands in for the SkyBot runner (its routes do not overlap Meta's).
            "SKYBOT_API_URL": graph_api_url,
            "SKYBOT_API_KEY": "browser-test-runner-key",
            "SKYBOT_WEBHOOK_SECRET": RUNNER_WEBHOOK_SECRET,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "MEDIA_ROOT": str(tmp / "media"),
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def _recreate_postgres_database(database_url: str, name: str) -> None:
    import psycopg

    admin_url = urlunsplit(urlsplit(database_url)._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def _manage(env: dict[str, str], log: Any, *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, stdout=log, stderr=log, check=True)


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory, make_httpserver: HTTPServer) -> Iterator[Platform]:
    tmp = tmp_path_factory.mktemp("platform")
    port = _free_port()
    env = _server_environment(tmp, make_httpserver.url_for("/").rstrip("/"), port)
    log_path = tmp / "server.log"
    with log_path.open("w") as log:
        _manage(env, log, "migrate", "--no-input")
        _manage(env, log, "seed_demo")
        _manage(env, log, "shell", "-c", _CONNECT_META_NUMBER)
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    running = Platform(url=f"http://127.0.0.1:{port}", graph_api=make_httpserver, log_path=log_path, env=env)
    try:
        _wait_until_ready(running, server)
        yield running
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


def _wait_until_ready(platform: Platform, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited:\n{platform.log_tail()}")
        try:
            if httpx.get(f"{platform.url}/api/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer within {START_TIMEOUT_S}s:\n{platform.log_tail()}")


@pytest.fixture
def graph_api(platform: Platform) -> Iterator[HTTPServer]:
    """Meta's Graph API stand-in, emptied of the previous test's expectations."""
    platform.graph_api.clear()
    yield platform.graph_api
    platform.graph_api.clear()


# --- The browser ----------------------------------------------------------------------------------
