"""Fixtures for the sandbox suite: a fork server of its own (a socket in this session's tmp dir, so a
dev server is never touched), plugin packages built from source strings, and a `run` helper."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import signal
import socket
import struct
import textwrap
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from plugins.sandbox import SandboxConfig, SandboxResult, run

PROJECT_DIR = Path(__file__).resolve().parents[3]


def make_package(source: str, *, entrypoint: str = "agent:Agent", files: dict[str, str] | None = None) -> bytes:
    """A plugin zip: plugin.json, `agent.py` with `source`, and any other files."""
    manifest = {
        "id": "test-plugin",
        "name": "Test",
        "version": "1.0.0",
        "author": "Tests",
        "description": "A plugin built by a test.",
        "category": "CUSTOM",
        "entrypoint": entrypoint,
        "config_schema": {"type": "object"},
        "permissions": [],
        "min_platform_version": "1.0.0",
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("plugin.json", json.dumps(manifest))
        archive.writestr("agent.py", textwrap.dedent(source))
        for name, text in (files or {}).items():
            archive.writestr(name, text)
    return buffer.getvalue()


def server_pid(config: SandboxConfig) -> int:
    """The fork server's pid, from the credentials of its socket."""
    assert config.socket_path is not None
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.connect(config.socket_path)
        pid, _uid, _gid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
    return int(pid)


@pytest.fixture(scope="session")
def sandbox_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxConfig]:
    directory = tmp_path_factory.mktemp("sandbox")
    os.chmod(directory, 0o700)
    config = SandboxConfig(timeout_seconds=1.0, memory_mb=128, socket_path=str(directory / "fs.sock"), idle_seconds=60)
    yield config
    with contextlib.suppress(OSError):
        pid = server_pid(config)
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.02)


Handler = Callable[[str, dict[str, Any]], Any]


def _no_calls(call: str, args: dict[str, Any]) -> Any:
    raise AssertionError(f"unexpected capability call {call} {args}")


@pytest.fixture
def run_plugin(sandbox_config: SandboxConfig) -> Callable[..., SandboxResult]:
    def run_it(
        source: str,
        *,
        message: str = "hello",
        op: str = "execute",
        handler: Handler = _no_calls,
        entrypoint: str = "agent:Agent",
        files: dict[str, str] | None = None,
        config: SandboxConfig | None = None,
        **overrides: Any,
    ) -> SandboxResult:
        package = make_package(source, entrypoint=entrypoint, files=files)
        payload: dict[str, Any] = {"context": {"account_id": 7, "config": {"greeting": "hi"}, "permissions": []}}
        if op == "execute":
            payload["input"] = {"message": message, "metadata": {"conversation_id": 3}}
        return run(
            package=package,
            sha256=hashlib.sha256(package).hexdigest(),
            entrypoint=entrypoint,
            op=op,
            payload=payload,
            handler=handler,
            config=replace(config or sandbox_config, **overrides),
        )

    return run_it
