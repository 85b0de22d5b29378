"""The Zapier app (`integrations/zapier_app`): its own tests (`npm test`) against the live platform.

The platform runs as `make run` does, with Celery eager, so an event's hook delivery happens while
the request that caused it is answered: the app's tests run a small HTTP server on 127.0.0.1 as
Zapier's hook URL (development and test settings let outbound calls reach loopback). The WhatsApp
Graph API stand-in accepts every message sent, so the app's messages really go out.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from werkzeug import Request, Response

from tests.platform import APP_SECRET, DEMO_PASSWORD, META_PHONE_NUMBER_ID, Platform

APP_DIR = Path(__file__).resolve().parents[2] / "integrations" / "zapier_app"
NPM = shutil.which("npm")
INSTALL_TIMEOUT_S = 600
TEST_TIMEOUT_S = 300

pytestmark = pytest.mark.skipif(
    NPM is None and not os.environ.get("CI"),
    reason="npm is missing: install Node.js 20+ with npm to run the Zapier app's tests (CI must)",
)


def node_modules_match_lockfile(app_dir: Path) -> bool:
    """Whether `node_modules` holds exactly what `package-lock.json` pins: npm's record of what it
    installed (`node_modules/.package-lock.json`) equals the lockfile, every package folder has the
    pinned version, and the lockfile still matches package.json's dependencies."""
    lock = json.loads((app_dir / "package-lock.json").read_text())["packages"]
    manifest = json.loads((app_dir / "package.json").read_text())
    for kind in ("dependencies", "devDependencies"):
        if lock[""].get(kind, {}) != manifest.get(kind, {}):
            return False
    installed = app_dir / "node_modules" / ".package-lock.json"
    if not installed.exists():
        return False
    pinned = {path: entry for path, entry in lock.items() if path}
    if json.loads(installed.read_text()).get("packages") != pinned:
        return False
    for path, entry in pinned.items():
        package_json = app_dir / path / "package.json"
        if not package_json.exists() or _version(json.loads(package_json.read_text())) != entry.get("version"):
            return False
    return True


def _version(manifest: dict[str, Any]) -> str:
    # npm records versions cleaned, as semver does ("v1.3.0" in a package.json is "1.3.0").
    return str(manifest.get("version", "")).strip().lstrip("=v")


def run(command: list[str], *, env: dict[str, str] | None = None, timeout: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=APP_DIR, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def output(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"


@pytest.fixture(scope="module")
def installed() -> None:
    """`npm ci`, unless node_modules already matches the lockfile."""
    assert NPM is not None, "npm is missing: CI must run the Zapier app's tests (install Node.js 20+ with npm)"
    if node_modules_match_lockfile(APP_DIR):
        return
    result = run([NPM, "ci", "--no-audit", "--no-fund"], timeout=INSTALL_TIMEOUT_S)
    assert result.returncode == 0, output(result)
    assert node_modules_match_lockfile(APP_DIR), "npm ci left node_modules different from package-lock.json"


@pytest.fixture
def whatsapp(platform: Platform) -> Iterator[list[dict[str, object]]]:
    """Meta's Graph API accepting every message sent from the demo tenant's Meta number; yields what was sent."""
    platform.graph_api.clear()
    sent: list[dict[str, object]] = []
    wamids = itertools.count(1)

    def accept(request: Request) -> Response:
        sent.append(request.get_json())
        wamid = f"wamid.ZAPIER{next(wamids)}{os.getpid()}"
        return Response(
            json.dumps({"messaging_product": "whatsapp", "messages": [{"id": wamid}]}),
            200,
            content_type="application/json",
        )

    platform.graph_api.expect_request(f"/{META_PHONE_NUMBER_ID}/messages", method="POST").respond_with_handler(accept)
    yield sent
    platform.graph_api.clear()


def zapier_api_key(platform: Platform) -> str:
    """The demo account's key for the app (read, write, and admin for the instant triggers' hooks), made as
    its admin would: sign in, then create the key."""
    signed_in = httpx.post(
        f"{platform.url}/api/v1/auth/token",
        json={"email": "admin@demo.skybot.local", "password": DEMO_PASSWORD},
        timeout=10,
    )
    assert signed_in.status_code == 200, signed_in.text
    created = httpx.post(
        f"{platform.url}/api/v1/api-keys",
        json={"name": "Zapier app tests", "scopes": ["read", "write", "admin"]},
        headers={"Authorization": f"Bearer {signed_in.json()['access']}"},
        timeout=10,
    )
    assert created.status_code == 201, created.text
    return str(created.json()["key"])


def counts(test_output: str) -> dict[str, int]:
    """The closing counts node's spec reporter prints: an information sign, then `pass 30`, `skipped 0`..."""
    return {name: int(value) for name, value in re.findall(r"^\u2139 (\w+) (\d+)$", test_output, flags=re.MULTILINE)}


def test_the_zapier_app_passes_its_tests_against_the_live_platform(installed, platform, whatsapp):
    # given the app installed and a key of the demo account
    env = {
        **os.environ,
        "SKYBOT_URL": platform.url,
        "SKYBOT_API_KEY": zapier_api_key(platform),
        "SKYBOT_WHATSAPP_APP_SECRET": APP_SECRET,
        "SKYBOT_WHATSAPP_PHONE_NUMBER_ID": META_PHONE_NUMBER_ID,
    }

    # when its tests run
    assert NPM is not None
    result = run([NPM, "test"], env=env, timeout=TEST_TIMEOUT_S)

    # then every one of them ran, none skipped, and all passed
    assert result.returncode == 0, f"{output(result)}\n--- server log ---\n{platform.log_tail()}"
    summary = counts(result.stdout)
    assert summary.get("pass", 0) > 0, output(result)
    assert {key: summary.get(key) for key in ("fail", "cancelled", "skipped", "todo")} == {
        "fail": 0,
        "cancelled": 0,
        "skipped": 0,
        "todo": 0,
    }, output(result)
    # and the messages the app sent really went out to WhatsApp
    assert any(message.get("type") == "template" for message in whatsapp), whatsapp
