"""FakeContext answers like the platform: permissions, storage cap, allowed hosts, rows, log lines."""

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from skybot_plugin_sdk import (
    AgentInput,
    AgentOutput,
    HttpError,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    PluginContext,
    StorageFull,
)
from skybot_plugin_sdk.scaffold import scaffold
from skybot_plugin_sdk.testing import FakeContext, Refused, load_plugin, run_execute

EVERYTHING = [
    "contacts:read",
    "leads:read",
    "conversations:read",
    "analytics:read",
    "storage",
    "http:api.example.com",
]


def test_it_is_a_plugin_context() -> None:
    assert isinstance(FakeContext(), PluginContext)


@pytest.mark.parametrize(
    ("call", "permission"),
    [
        (lambda ctx: ctx.storage.get("k"), "storage"),
        (lambda ctx: ctx.storage.set("k", 1), "storage"),
        (lambda ctx: ctx.storage.delete("k"), "storage"),
        (lambda ctx: ctx.storage.keys(), "storage"),
        (lambda ctx: ctx.contacts.get(1), "contacts:read"),
        (lambda ctx: ctx.leads.get(1), "leads:read"),
        (lambda ctx: ctx.leads.for_contact(1), "leads:read"),
        (lambda ctx: ctx.conversations.history(1), "conversations:read"),
        (lambda ctx: ctx.analytics.summary(), "analytics:read"),
        (lambda ctx: ctx.http.get("https://api.example.com/x"), "http:api.example.com"),
    ],
)
def test_every_helper_needs_its_permission(call: Callable[[FakeContext], object], permission: str) -> None:
    with pytest.raises(PermissionDenied, match=permission):
        call(FakeContext(permissions=[p for p in EVERYTHING if p != permission]))


def test_rows_come_from_the_constructor() -> None:
    ctx = FakeContext(
        permissions=EVERYTHING,
        contacts={"7": {"name": "Ana"}},
        leads={3: {"status": "new", "contact_id": 7}, 4: {"status": "won", "contact_id": 8}},
        conversations={1: [{"direction": "in", "text": str(n)} for n in range(30)]},
        analytics={"inbound": 12},
    )
    assert ctx.contacts.get(7) == {"id": 7, "name": "Ana"}
    assert ctx.leads.get(3)["status"] == "new"
    assert [lead["id"] for lead in ctx.leads.for_contact(7)] == [3]
    assert [m["text"] for m in ctx.conversations.history(1, limit=2)] == ["28", "29"]
    assert ctx.analytics.summary(days=30) == {"days": 30, "conversations_started": 0, "inbound": 12, "outbound": 0}
    for missing in (lambda: ctx.contacts.get(8), lambda: ctx.leads.get(1), lambda: ctx.conversations.history(2)):
        with pytest.raises(NotFound):
            missing()
    with pytest.raises(InvalidRequest):
        ctx.conversations.history(1, limit=51)
    with pytest.raises(InvalidRequest):
        ctx.analytics.summary(days=91)


def test_storage_keeps_json_and_refuses_past_its_cap() -> None:
    ctx = FakeContext(permissions=["storage"], storage_limit=100)
    ctx.storage.set("a", {"n": 1})
    assert ctx.storage.get("a") == {"n": 1}
    assert ctx.storage.get("missing", "default") == "default"
    assert ctx.storage.keys() == ["a"]
    with pytest.raises(StorageFull):
        ctx.storage.set("b", "x" * 100)
    ctx.storage.set("a", "x" * 90)  # replacing a value counts only the new one
    with pytest.raises(InvalidRequest):
        ctx.storage.set("c", object())
    with pytest.raises(InvalidRequest):
        ctx.storage.set("", 1)
    ctx.storage.delete("a")
    assert ctx.storage.keys() == []


def test_http_answers_registered_responses_and_refuses_other_hosts() -> None:
    ctx = FakeContext(permissions=["http:api.example.com"])
    ctx.http.add("GET", "https://api.example.com/rates", json={"usd": 5.1})
    ctx.http.add("POST", "https://api.example.com/leads", text="created", status=201)
    reply = ctx.http.get("https://api.example.com/rates", params={"day": "today"})
    assert (reply.status, reply.json()) == (200, {"usd": 5.1})
    assert ctx.http.post("https://api.example.com/leads", json={"a": 1}).status == 201
    assert [r["url"] for r in ctx.http.requests] == [
        "https://api.example.com/rates?day=today",
        "https://api.example.com/leads",
    ]
    with pytest.raises(HttpError, match=r"ctx\.http\.add"):
        ctx.http.get("https://api.example.com/other")
    with pytest.raises(PermissionDenied, match=r"http:evil\.example\.com"):
        ctx.http.get("https://evil.example.com/rates")
    with pytest.raises(InvalidRequest):
        ctx.http.get("ftp://api.example.com/x")


def test_the_logger_collects_lines() -> None:
    ctx = FakeContext()
    ctx.logger.info("one")
    ctx.logger.warning("two")
    assert ctx.log_lines == ["INFO one", "WARNING two"]


# --- load_plugin and run_execute ---------------------------------------------------------------------


@pytest.fixture
def plugin_dir(tmp_path: Path) -> Path:
    return scaffold("hello-bot", tmp_path)


def write_plugin(root: Path, body: str, permissions: Sequence[str] = ("messages:send",)) -> None:
    (root / "hello_bot" / "plugin.py").write_text(
        "from skybot_plugin_sdk import *\n\nclass HelloBot(AgentPlugin):\n"
        "    def execute(self, input, context):\n" + "".join(f"        {line}\n" for line in body.splitlines())
    )
    manifest = json.loads((root / "plugin.json").read_text())
    (root / "plugin.json").write_text(json.dumps({**manifest, "permissions": list(permissions)}))


def test_run_execute_runs_the_entrypoint_with_the_manifests_permissions(plugin_dir: Path) -> None:
    output = run_execute(plugin_dir, "Hi", config={"greeting": "Hey"})
    assert output == AgentOutput(response="Hey! You wrote: Hi")
    assert type(load_plugin(plugin_dir)).__name__ == "HelloBot"


def test_run_execute_gives_metadata_as_the_platform_does(plugin_dir: Path) -> None:
    write_plugin(plugin_dir, "return AgentOutput(metadata=dict(input.metadata))", permissions=["contacts:read"])
    metadata = {"contact": {"id": 1}, "recent_messages": [{"text": "x"}]}
    seen = run_execute(plugin_dir, "Hi", metadata).metadata
    assert seen == {"conversation_id": 1, "channel": {"id": 1, "type": "whatsapp"}, "contact": {"id": 1}}


def test_run_execute_refuses_what_the_platform_refuses(plugin_dir: Path) -> None:
    write_plugin(plugin_dir, "return AgentOutput(response='x', actions=[Action.add_label('')])", permissions=[])
    with pytest.raises(Refused) as caught:
        run_execute(plugin_dir, "Hi")
    assert len(caught.value.problems) == 3  # the label, its permission, the reply's permission


def test_run_execute_wants_an_agent_output(plugin_dir: Path) -> None:
    write_plugin(plugin_dir, "return {'response': None}")
    with pytest.raises(Refused, match="must return an AgentOutput"):
        run_execute(plugin_dir, "Hi")


def test_run_execute_checks_the_config_against_the_schema(plugin_dir: Path) -> None:
    with pytest.raises(Refused, match=r"config\.greeting"):
        run_execute(plugin_dir, "Hi", config={"greeting": 5})
    with pytest.raises(Refused, match="unexpected"):
        run_execute(plugin_dir, "Hi", config={"surprise": 5})


def test_a_plugin_error_reaches_the_test(plugin_dir: Path) -> None:
    write_plugin(plugin_dir, "context.contacts.get(1)")
    with pytest.raises(PermissionDenied):
        run_execute(plugin_dir, "Hi")


def test_two_plugins_with_the_same_module_name_load_side_by_side(tmp_path: Path) -> None:
    first = scaffold("hello-bot", tmp_path / "a")
    second = scaffold("hello-bot", tmp_path / "b")
    write_plugin(second, "return AgentOutput(response='second')")
    assert run_execute(first, "x").response == "Hello! You wrote: x"
    assert run_execute(second, "x").response == "second"


def test_load_plugin_refuses_a_class_that_is_not_a_plugin(plugin_dir: Path) -> None:
    (plugin_dir / "hello_bot" / "plugin.py").write_text("class HelloBot:\n    pass\n")
    with pytest.raises(Exception, match="not an AgentPlugin subclass"):
        load_plugin(plugin_dir)


def test_agent_input_round_trip() -> None:
    assert AgentInput.from_dict({"message": "m", "metadata": {"a": 1}}).to_dict() == {
        "message": "m",
        "metadata": {"a": 1},
    }
