"""Benchmark the plugin sandbox: what one call through it costs beside a plain function call.

Runs sequentially (one worker): a no-op plugin's `execute` through `plugins.sandbox.run` (fork server,
a confined single-use child, the job over its socket, the answer back), the same `execute` called
in process, and one call making 3 capability round trips to the host. Prints calls/s, p50/p99 per
call and the ratio, plus the layers the sandbox applied. The fork server is started on a private
socket for the run (its start is not counted) and stopped at the end.

Usage: .venv/bin/python bench/plugins/run.py [--calls 500]
Needs: Linux; root for the uid switch (the other layers work without it).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import signal
import socket
import statistics
import struct
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from skybot_plugin_sdk import AgentInput, AgentOutput, AgentPlugin  # noqa: E402

from plugins.sandbox import SandboxConfig, run, sandbox_status  # noqa: E402

NOOP = """
from skybot_plugin_sdk import AgentOutput, AgentPlugin

class Agent(AgentPlugin):
    def execute(self, input, context):
        return AgentOutput(response=input.message)
"""

THREE_CALLS = """
from skybot_plugin_sdk import AgentOutput, AgentPlugin

class Agent(AgentPlugin):
    def execute(self, input, context):
        count = context.storage.get("count", 0)
        context.storage.set("count", count + 1)
        contact = context.contacts.get(1)
        return AgentOutput(response=f"{contact['name']} {count}")
"""


class NoopAgent(AgentPlugin):
    def execute(self, input: AgentInput, context: Any) -> AgentOutput:
        return AgentOutput(response=input.message)


def package(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("plugin.json", json.dumps({"id": "bench", "entrypoint": "agent:Agent"}))
        archive.writestr("agent.py", source)
    return buffer.getvalue()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def handler(call: str, args: dict[str, Any]) -> Any:
    return {"storage.get": 41, "storage.set": None, "contacts.get": {"id": 1, "name": "Ana"}}[call]


def through_sandbox(source: str, calls: int, config: SandboxConfig) -> list[float]:
    data = package(source)
    sha256 = hashlib.sha256(data).hexdigest()
    payload = {"input": {"message": "ping", "metadata": {}}, "context": {"account_id": 1, "config": {}}}
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        run(
            package=data,
            sha256=sha256,
            entrypoint="agent:Agent",
            op="execute",
            payload=payload,
            handler=handler,
            config=config,
        )
        times.append((time.perf_counter() - started) * 1000)
    return times


def in_process(calls: int) -> list[float]:
    agent_input = AgentInput.from_dict({"message": "ping", "metadata": {}})
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        NoopAgent().execute(agent_input, None).to_dict()
        times.append((time.perf_counter() - started) * 1000)
    return times


def line(label: str, times: list[float]) -> None:
    total_seconds = sum(times) / 1000
    print(
        f"  {label:<44} {len(times) / total_seconds:>12,.0f} {statistics.median(times):>10.3f} "
        f"{percentile(times, 0.99):>10.3f}"
    )


def stop_server(path: str) -> None:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.connect(path)
            pid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))[0]
        os.kill(pid, signal.SIGTERM)
    except OSError:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    args = parser.parse_args()

    directory = tempfile.mkdtemp(prefix="skybot-bench-sandbox-")
    config = SandboxConfig(socket_path=os.path.join(directory, "fs.sock"), idle_seconds=30)
    try:
        started = time.perf_counter()
        status = sandbox_status(config)  # starts the fork server
        start_ms = (time.perf_counter() - started) * 1000
        through_sandbox(NOOP, 20, config)  # warm-up
        sandboxed = through_sandbox(NOOP, args.calls, config)
        plain = in_process(args.calls)
        capabilities = through_sandbox(THREE_CALLS, max(20, args.calls // 5), config)
    finally:
        stop_server(config.socket_path or "")

    print()
    print(f"Plugin sandbox: a no-op execute through it vs in process ({args.calls} sequential calls, one worker)")
    print(f"  layers: {status.layers} (complete: {status.complete})")
    print(f"  fork server start + first call: {start_ms:.0f} ms (once per host and deploy)")
    print()
    print(f"  {'call':<44} {'calls/s':>12} {'p50 ms':>10} {'p99 ms':>10}")
    line("no-op execute through the sandbox", sandboxed)
    line("no-op execute in process", plain)
    line("execute with 3 capability round trips", capabilities)
    print()
    ratio = statistics.median(sandboxed) / statistics.median(plain)
    cost = statistics.median(sandboxed)
    print(f"  sandbox / in process (p50): {ratio:,.0f}x; the sandbox's cost per call: {cost:.2f} ms")
    extra = (statistics.median(capabilities) - statistics.median(sandboxed)) / 3
    print(f"  one capability round trip: ~{extra:.2f} ms")


if __name__ == "__main__":
    main()
