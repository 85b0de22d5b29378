"""Well-behaved plugins through the real sandbox: results, capability calls, logs, the layers, and
the fork server's life (started lazily once, by one process, leaving when idle)."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from skybot_plugin_sdk.errors import NotFound, PluginError

from plugins.sandbox import SandboxConfig, SandboxError, SandboxResult, run, sandbox_status

from .conftest import make_package, server_pid

pytestmark = pytest.mark.slow

RunPlugin = Callable[..., SandboxResult]

ECHO = """
from skybot_plugin_sdk import Action, AgentOutput, AgentPlugin

class Agent(AgentPlugin):
    def execute(self, input, context):
        context.logger.info(f"got {input.message}")
        return AgentOutput(
            response=f"{context.config['greeting']} {input.message} from {context.account_id}",
            actions=[Action.add_label("vip")],
            metadata={"conversation": input.metadata["conversation_id"]},
        )
"""


def test_execute_answers_the_plugins_output(run_plugin: RunPlugin) -> None:
    # when
    result = run_plugin(ECHO, message="there")
    # then
    assert result.value == {
        "response": "hi there from 7",
        "actions": [{"type": "add_label", "params": {"label": "vip"}}],
        "metadata": {"conversation": 3},
    }
    assert result.logs == [{"level": "info", "message": "got there"}]
    assert result.duration_ms > 0


def test_validate_names_the_class(run_plugin: RunPlugin) -> None:
    assert run_plugin(ECHO, op="validate").value == {"class": "Agent"}


def test_lifecycle_hooks_run(run_plugin: RunPlugin) -> None:
    source = """
from skybot_plugin_sdk import AgentPlugin

class Agent(AgentPlugin):
    def on_install(self, context):
        context.storage.set("installed", context.config["greeting"])
"""
    calls: list[tuple[str, dict[str, Any]]] = []
    result = run_plugin(source, op="on_install", handler=lambda call, args: calls.append((call, args)))
    assert result.value is None
    assert calls == [("storage.set", {"key": "installed", "value": "hi"})]


def test_capability_calls_reach_the_handler_and_its_errors_reach_the_plugin(run_plugin: RunPlugin) -> None:
    # given a plugin using every helper, and a host that knows no lead 404
    source = """
from skybot_plugin_sdk import AgentOutput, AgentPlugin, NotFound

class Agent(AgentPlugin):
    def execute(self, input, context):
        answers = [
            context.storage.get("missing", "default"),
            context.storage.get("count"),
            context.storage.keys(),
            context.contacts.get(5)["name"],
            context.leads.for_contact(5),
            context.conversations.history(3, limit=2),
            context.analytics.summary(days=30),
            context.http.get("https://api.example.com/x", params={"q": "1"}).json(),
            context.http.post("https://api.example.com/y", json={"a": 1}).status,
        ]
        context.storage.delete("count")
        try:
            context.leads.get(404)
        except NotFound as exc:
            answers.append(f"{exc.code}: {exc.message}")
        return AgentOutput(response=repr(answers))
"""
    calls: list[tuple[str, dict[str, Any]]] = []

    def handler(call: str, args: dict[str, Any]) -> Any:
        calls.append((call, args))
        if call == "leads.get":
            raise NotFound("no such lead")
        return {
            "storage.get": None if args.get("key") == "missing" else 3,
            "storage.keys": ["count"],
            "contacts.get": {"id": 5, "name": "Ana"},
            "leads.for_contact": [{"id": 1}],
            "conversations.history": [{"text": "hi"}],
            "analytics.summary": {"messages": 10},
            "http.request": {"status": 200, "headers": {}, "text": '{"ok": true}'},
        }.get(call)

    # when
    result = run_plugin(source, handler=handler)
    # then
    assert result.value["response"] == repr(
        [
            "default",
            3,
            ["count"],
            "Ana",
            [{"id": 1}],
            [{"text": "hi"}],
            {"messages": 10},
            {"ok": True},
            200,
            "not_found: no such lead",
        ]
    )
    assert calls == [
        ("storage.get", {"key": "missing"}),
        ("storage.get", {"key": "count"}),
        ("storage.keys", {}),
        ("contacts.get", {"id": 5}),
        ("leads.for_contact", {"contact_id": 5}),
        ("conversations.history", {"conversation_id": 3, "limit": 2}),
        ("analytics.summary", {"days": 30}),
        ("http.request", {"method": "GET", "url": "https://api.example.com/x", "params": {"q": "1"}}),
        ("http.request", {"method": "POST", "url": "https://api.example.com/y", "json": {"a": 1}}),
        ("storage.delete", {"key": "count"}),
        ("leads.get", {"id": 404}),
    ]


def test_an_unexpected_handler_exception_propagates_and_ends_the_child(run_plugin: RunPlugin) -> None:
    source = """
from skybot_plugin_sdk import AgentOutput, AgentPlugin

class Agent(AgentPlugin):
    def execute(self, input, context):
        context.storage.get("x")
        return AgentOutput(response="should not get here")
"""

    def handler(call: str, args: dict[str, Any]) -> Any:
        raise RuntimeError("database down")

    with pytest.raises(RuntimeError, match="database down"):
        run_plugin(source, handler=handler)


def test_a_plugin_error_fails_the_run_with_its_message(run_plugin: RunPlugin) -> None:
    source = """
from skybot_plugin_sdk import AgentPlugin, PluginError

class Agent(AgentPlugin):
    def execute(self, input, context):
        context.logger.warning("about to fail")
        raise PluginError("the plugin failed on purpose")
"""
    with pytest.raises(SandboxError) as caught:
        run_plugin(source)
    assert caught.value.code == "plugin_error"
    assert caught.value.message == "PluginError: the plugin failed on purpose"
    assert 'File "/plugin/agent.py", line 7, in execute' in caught.value.traceback
    assert "raise PluginError" in caught.value.traceback
    assert caught.value.logs == [{"level": "warning", "message": "about to fail"}]


def test_execute_must_return_an_agent_output(run_plugin: RunPlugin) -> None:
    source = """
from skybot_plugin_sdk import AgentPlugin

class Agent(AgentPlugin):
    def execute(self, input, context):
        return {"response": "a dict"}
"""
    with pytest.raises(SandboxError) as caught:
        run_plugin(source)
    assert caught.value.code == "invalid_output"


def test_print_and_logging_end_in_the_log_and_are_capped(run_plugin: RunPlugin) -> None:
    source = """
import logging
from skybot_plugin_sdk import AgentOutput, AgentPlugin

class Agent(AgentPlugin):
    def execute(self, input, context):
        print("printed")
        logging.getLogger("mine").warning("logged")
        context.logger.error("x" * 5000)
        for number in range(300):
            context.logger.debug(str(number))
        return AgentOutput(response="ok")
"""
    logs = run_plugin(source).logs
    assert logs[:2] == [{"level": "info", "message": "printed"}, {"level": "warning", "message": "logged"}]
    assert logs[2] == {"level": "error", "message": "x" * 2000}
    assert len(logs) == 201
    assert logs[-1] == {"level": "warning", "message": "103 more log lines dropped"}


def test_the_allowed_stdlib_works_inside(run_plugin: RunPlugin) -> None:
    source = """
import datetime, decimal, hashlib, json, re, statistics, uuid, zoneinfo, pkgutil
from skybot_plugin_sdk import AgentOutput, AgentPlugin

class Agent(AgentPlugin):
    def execute(self, input, context):
        paris = datetime.datetime(2026, 7, 1, 12, tzinfo=zoneinfo.ZoneInfo("Europe/Paris"))
        return AgentOutput(response=json.dumps([
            paris.utcoffset().total_seconds(),
            datetime.datetime.strptime("2026-01-02", "%Y-%m-%d").day,
            str(decimal.Decimal("1.10") + decimal.Decimal("2.205")),
            hashlib.sha256(b"x").hexdigest()[:8],
            re.findall(r"\\d+", "a1b22"),
            statistics.median([1, 5, 3]),
            len(str(uuid.uuid4())),
            "cafe\\u0301".encode("latin-1", "replace").decode("cp1252"),
            pkgutil.get_data("helpers", "prompt.txt").decode(),
        ]))
"""
    files = {"helpers/__init__.py": "from .text import shout\n", "helpers/text.py": "def shout(s):\n    return s\n"}
    files["helpers/prompt.txt"] = "Be brief."
    result = run_plugin(source, files=files)
    assert result.value["response"] == ('[7200.0, 2, "3.305", "2d711642", ["1", "22"], 3, 36, "cafe?", "Be brief."]')


def test_each_child_gets_its_own_randomness(run_plugin: RunPlugin) -> None:
    # Children fork from one server: `random` must be reseeded in each, not replay the server's state.
    source = """
import random, secrets
from skybot_plugin_sdk import AgentOutput, AgentPlugin

class Agent(AgentPlugin):
    def execute(self, input, context):
        return AgentOutput(response=f"{random.random()} {secrets.token_hex(8)}")
"""
    answers = {run_plugin(source).value["response"] for _ in range(3)}
    assert len(answers) == 3
    assert len({answer.split()[0] for answer in answers}) == 3


def test_a_module_named_like_a_platform_module_is_a_load_error(run_plugin: RunPlugin) -> None:
    with pytest.raises(SandboxError) as caught:
        run_plugin(ECHO, op="validate", files={"json.py": "x = 1\n"})
    assert caught.value.code == "load_error"
    assert "json" in caught.value.message


def test_the_layers_are_complete_on_this_machine(sandbox_config: SandboxConfig, run_plugin: RunPlugin) -> None:
    status = sandbox_status(sandbox_config)
    assert status.complete, status.missing
    assert status.missing == []
    assert status.layers["landlock"] >= 6
    assert status.layers["seccomp"] is True
    assert status.layers["rlimits"] is True
    assert status.layers["uid"] is True
    assert set(status.layers["namespaces"]) >= {"net", "ipc", "uts", "mnt"}
    assert run_plugin(ECHO).layers == status.layers


def test_unknown_op_is_refused_before_any_process(run_plugin: RunPlugin) -> None:
    with pytest.raises(SandboxError) as caught:
        run_plugin(ECHO, op="rm -rf")
    assert caught.value.code == "protocol"


# --- the fork server's life ---------------------------------------------------------------------
@pytest.fixture
def private_config(tmp_path: Path, sandbox_config: SandboxConfig) -> SandboxConfig:
    tmp_path.chmod(0o700)
    return replace(sandbox_config, socket_path=str(tmp_path / "fs.sock"), idle_seconds=1.0)


def _run_echo(config: SandboxConfig) -> SandboxResult:
    package = make_package(ECHO)
    return run(
        package=package,
        sha256=hashlib.sha256(package).hexdigest(),
        entrypoint="agent:Agent",
        op="execute",
        payload={
            "input": {"message": "x", "metadata": {"conversation_id": 1}},
            "context": {"config": {"greeting": ""}},
        },
        handler=lambda call, args: None,
        config=config,
    )


def _exits(pid: int, seconds: float = 3.0) -> bool:
    """The process ended (a zombie its new parent has not reaped yet counts)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z"):
                return True
        except (FileNotFoundError, ProcessLookupError):
            return True
        time.sleep(0.05)
    return False


def test_concurrent_first_calls_start_one_server_that_leaves_when_idle(private_config: SandboxConfig) -> None:
    # given no fork server at this path, when four threads call at once
    results: list[Any] = []
    threads = [threading.Thread(target=lambda: results.append(_run_echo(private_config))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    # then every call was answered by the one server started
    assert [result.value["response"] for result in results] == [" x from 0"] * 4
    pid = server_pid(private_config)
    assert oct(os.stat(str(private_config.socket_path)).st_mode & 0o777) == "0o600"
    # and it leaves after idle_seconds without a request, taking its socket with it
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and os.path.exists(str(private_config.socket_path)):
        time.sleep(0.05)
    assert not os.path.exists(str(private_config.socket_path))
    assert _exits(pid)
    # and the next call starts a new one
    assert _run_echo(private_config).value["response"] == " x from 0"
    assert server_pid(private_config) != pid


def test_the_server_runs_with_a_minimal_environment(private_config: SandboxConfig) -> None:
    os.environ["SKYBOT_SANDBOX_TEST_SECRET"] = "do-not-inherit"
    try:
        _run_echo(private_config)
        pid = server_pid(private_config)
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    finally:
        del os.environ["SKYBOT_SANDBOX_TEST_SECRET"]
    names = {item.split(b"=", 1)[0] for item in environ if item}
    assert names <= {b"PATH", b"LANG"}


def test_a_plugin_error_class_survives_the_trip(run_plugin: RunPlugin) -> None:
    # The host answers with the PluginError's code; the SDK raises the matching class inside.
    source = """
from skybot_plugin_sdk import AgentOutput, AgentPlugin, PermissionDenied, StorageFull

class Agent(AgentPlugin):
    def execute(self, input, context):
        try:
            context.storage.set("k", "v" * 10)
        except StorageFull as exc:
            return AgentOutput(response=f"{type(exc).__name__} {exc.code}")
"""

    def handler(call: str, args: dict[str, Any]) -> Any:
        error = PluginError("too big")
        error.code = "storage_full"
        raise error

    assert run_plugin(source, handler=handler).value["response"] == "StorageFull storage_full"
