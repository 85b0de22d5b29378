"""The n8n community node package (integrations/n8n_nodes_skybot) against a live SkyBot Inbox.

The package's own suite (`npm test`) runs the node's operations through real HTTP requests to the
server `platform` started; this test prepares what it needs (an API key of the demo tenant and a
conversation whose customer just wrote), installs the package (`npm run setup`: `npm ci`, then its
Node 24 binary) when its node_modules does not match its lockfile, and then builds, lints and tests
it the way `make n8n-node` does.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer

from tests.platform import DEMO_PASSWORD, Platform

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "integrations" / "n8n_nodes_skybot"
NPM = shutil.which("npm")
ADMIN = "admin@demo.skybot.local"
INSTALL_TIMEOUT_S = 1200
STEP_TIMEOUT_S = 600

pytestmark = pytest.mark.skipif(
    NPM is None and not os.environ.get("CI"),
    reason="npm is missing: install Node.js with npm to build and test the n8n node package (CI always runs it)",
)


def node_modules_current(package: Path = PACKAGE) -> bool:
    """Whether node_modules holds exactly what package-lock.json names, as npm last recorded it.

    npm writes node_modules/.package-lock.json after every install: the same entries as the lockfile,
    less the optional packages of other platforms (and entries the lockfile keeps as extraneous).
    The Node binary the scripts run on (the `node` package) must be in place too."""
    hidden = package / "node_modules" / ".package-lock.json"
    if not hidden.exists() or not (package / "node_modules" / ".bin" / "node").exists():
        return False
    locked: dict[str, Any] = json.loads((package / "package-lock.json").read_text())["packages"]
    installed: dict[str, Any] = json.loads(hidden.read_text())["packages"]
    for path, entry in locked.items():
        if not path:
            continue  # the package itself
        if path in installed:
            if installed[path] != entry:
                return False
        elif not (entry.get("optional") or entry.get("extraneous")):
            return False
    return set(installed) <= set(locked)


def _run(args: list[str], env: dict[str, str], timeout: float) -> str:
    assert NPM is not None, "npm is missing: CI needs Node.js with npm (see integrations/n8n_nodes_skybot/README.md)"
    started = time.monotonic()
    result = subprocess.run(
        [NPM, *args],
        cwd=PACKAGE,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = f"{result.stdout}\n{result.stderr}"
    assert result.returncode == 0, (
        f"`npm {' '.join(args)}` exited {result.returncode} after {time.monotonic() - started:.0f}s:\n{output}"
    )
    return output


# --- what the package's tests need from the platform ---------------------------------------------


def _access_token(platform: Platform) -> str:
    response = httpx.post(
        f"{platform.url}/api/v1/auth/token", json={"email": ADMIN, "password": DEMO_PASSWORD}, timeout=10
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access"])


def _api_key(platform: Platform, token: str) -> str:
    response = httpx.post(
        f"{platform.url}/api/v1/api-keys",
        json={"name": "n8n node tests", "scopes": ["read", "write", "admin"]},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["key"])


def _conversation(platform: Platform, token: str, graph_api: HTTPServer) -> tuple[int, str]:
    """A new channel of the demo tenant and a conversation on it whose customer wrote just now;
    answers its id and the customer's WhatsApp id. The Graph API stand-in accepts its replies."""
    phone_number_id = str(uuid.uuid4().int)[:15]
    headers = {"Authorization": f"Bearer {token}"}
    graph_api.expect_request(f"/{phone_number_id}", method="GET").respond_with_json(
        {"id": phone_number_id, "display_phone_number": "+1 555-0100", "verified_name": "n8n node tests"}
    )
    channel = httpx.post(
        f"{platform.url}/api/v1/channels",
        json={
            "name": "n8n node tests",
            "phone_number_id": phone_number_id,
            "display_phone_number": "+1 555 0100",
            "access_token": "graph-api-test-token",
        },
        headers=headers,
        timeout=10,
    )
    assert channel.status_code == 201, channel.text
    graph_api.expect_request(f"/{phone_number_id}/messages", method="POST").respond_with_json(
        {"messaging_product": "whatsapp", "messages": [{"id": f"wamid.n8n.{uuid.uuid4().hex}"}]}
    )
    customer = "351912000" + phone_number_id[-3:]
    notification = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "15550100", "phone_number_id": phone_number_id},
                            "contacts": [{"profile": {"name": "Grace Hopper"}, "wa_id": customer}],
                            "messages": [
                                {
                                    "from": customer,
                                    "id": f"wamid.customer.{uuid.uuid4().hex}",
                                    "timestamp": str(int(time.time())),
                                    "type": "text",
                                    "text": {"body": "Hello, is my order on its way?"},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    assert platform.post_whatsapp_webhook(notification).status_code == 200
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        listed = httpx.get(
            f"{platform.url}/api/v1/conversations",
            params={"channel": channel.json()["id"]},
            headers=headers,
            timeout=10,
        )
        assert listed.status_code == 200, listed.text
        if results := listed.json()["results"]:
            return int(results[0]["id"]), customer
        time.sleep(0.2)
    raise AssertionError(f"the customer's message made no conversation:\n{platform.log_tail()}")


# --- the test ------------------------------------------------------------------------------------


def test_the_n8n_node_builds_lints_and_works_against_a_live_server(platform: Platform, graph_api: HTTPServer):
    # given an API key and a conversation the node may reply in
    token = _access_token(platform)
    api_key = _api_key(platform, token)
    conversation_id, customer = _conversation(platform, token, graph_api)
    env = {
        **os.environ,
        "SKYBOT_INBOX_URL": platform.url,
        "SKYBOT_INBOX_API_KEY": api_key,
        "SKYBOT_INBOX_CONVERSATION_ID": str(conversation_id),
        "NO_COLOR": "1",
    }

    # when the package is installed (once per lockfile), built, linted and tested
    if not node_modules_current():
        _run(["run", "setup"], env, INSTALL_TIMEOUT_S)  # npm ci, then the Node 24 binary
        assert node_modules_current(), "node_modules does not match package-lock.json even after `npm ci`"
    _run(["run", "build"], env, STEP_TIMEOUT_S)
    _run(["run", "lint"], env, STEP_TIMEOUT_S)
    report = _run(["test"], env, STEP_TIMEOUT_S)

    # then every test of the package ran and passed
    counts = dict(re.findall(r"^ℹ (pass|fail|cancelled|skipped|todo) (\d+)$", report, re.M))
    assert int(counts.get("pass", 0)) > 0, report
    assert counts.get("fail") == counts.get("cancelled") == counts.get("skipped") == "0", report
    # and the replies the node sent really went out to WhatsApp (the Graph API stand-in)
    sent = [json.loads(request.get_data()) for request, _ in graph_api.log if request.path.endswith("/messages")]
    assert any(
        message["to"] == customer
        and message.get("type") == "text"
        and message["text"]["body"].startswith("Thanks for writing!")
        for message in sent
    ), sent
    assert any(
        message["to"] == customer
        and message.get("type") == "template"
        and message["template"]["name"] == "order_update"
        for message in sent
    ), sent
