"""Liveness and readiness probes, including real failures of the database and of Redis."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client, override_settings

from conftest import USING_REDIS

BASE_DIR = Path(settings.BASE_DIR)

# Runs in a fresh interpreter with the given environment: the settings under test are whatever that
# environment produces, not the already-loaded settings of this process.
READY_SCRIPT = """
import json, django
django.setup()
from django.test import Client
response = Client().get("/api/ready")
print(json.dumps({"status": response.status_code, "body": response.json()}))
"""


def _closed_port() -> int:
    """A local port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ready_in_subprocess(env_overrides: dict[str, str], tmp_path: Path) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER", "SENTRY_DSN"}
    }
    env.update({"PYTHONPATH": str(BASE_DIR), "DATABASE_URL": f"sqlite:///{tmp_path / 'ready.sqlite3'}"})
    env.update(env_overrides)
    result = subprocess.run(
        [sys.executable, "-c", READY_SCRIPT],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.django_db
def test_health_answers_ok_without_touching_the_database(client: Client, django_assert_num_queries) -> None:
    # when
    with django_assert_num_queries(0):
        response = client.get("/api/health")

    # then
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_health_refuses_other_methods_with_json(client: Client) -> None:
    response = client.post("/api/health")

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


@pytest.mark.django_db
def test_ready_reports_every_check_when_all_answer(client: Client) -> None:
    # when
    response = client.get("/api/ready")

    # then
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"] == {"database": "ok", "cache": "ok", "channel_layer": "ok", "broker": "ok"}
    assert "failing" not in body


def test_ready_is_503_naming_the_database_when_it_is_unreachable(tmp_path: Path) -> None:
    # given: a process configured with a PostgreSQL server that is not there
    env = {"DATABASE_URL": f"postgres://postgres@127.0.0.1:{_closed_port()}/x"}

    # when
    result = _ready_in_subprocess(env, tmp_path)

    # then
    assert result["status"] == 503
    assert result["body"]["status"] == "unavailable"
    assert result["body"]["failing"] == ["database"]
    assert result["body"]["checks"]["database"].startswith("error: ")
    assert result["body"]["checks"]["cache"] == "ok"


def test_ready_is_503_naming_the_database_with_production_pool_settings(tmp_path: Path) -> None:
    # given: the production database settings (connection pool on) and no database
    env = {
        "DJANGO_SETTINGS_MODULE": "skybot_inbox.settings.base",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{_closed_port()}/x",
    }

    # when
    result = _ready_in_subprocess(env, tmp_path)

    # then: the probe answers instead of waiting for the pool's own timeout to pass
    assert result["status"] == 503
    assert result["body"]["failing"] == ["database"]


def test_ready_is_503_naming_redis_backed_checks_when_redis_is_unreachable(tmp_path: Path) -> None:
    # given: the production component settings (tasks go through the broker) and a dead Redis
    env = {
        "DJANGO_SETTINGS_MODULE": "skybot_inbox.settings.base",
        "REDIS_URL": f"redis://127.0.0.1:{_closed_port()}/0",
    }

    # when
    result = _ready_in_subprocess(env, tmp_path)

    # then
    assert result["status"] == 503
    assert result["body"]["failing"] == ["broker", "cache", "channel_layer"]
    assert result["body"]["checks"]["database"] == "ok"


def test_ready_skips_the_broker_when_tasks_run_eagerly(tmp_path: Path) -> None:
    # given: the test settings force eager tasks, so there is no broker to reach
    env = {
        "DJANGO_SETTINGS_MODULE": "skybot_inbox.settings.test",
        "REDIS_URL": f"redis://127.0.0.1:{_closed_port()}/0",
    }

    # when
    result = _ready_in_subprocess(env, tmp_path)

    # then
    assert result["status"] == 503
    assert result["body"]["failing"] == ["cache", "channel_layer"]
    assert result["body"]["checks"]["broker"] == "ok"


@pytest.mark.redis
@pytest.mark.django_db
def test_ready_passes_against_real_redis_including_the_broker(client: Client) -> None:
    # given: Redis mode, with tasks sent to the Redis broker instead of running eagerly
    assert USING_REDIS
    assert settings.CELERY_BROKER_URL.startswith("redis://")

    # when
    with override_settings(CELERY_TASK_ALWAYS_EAGER=False):
        response = client.get("/api/ready")

    # then
    assert response.status_code == 200, response.json()
    assert response.json()["checks"] == {"database": "ok", "cache": "ok", "channel_layer": "ok", "broker": "ok"}
