"""Fixtures for plugin tests: packages built from source in the test, published through the real
checks (the sandbox loads each), installed in a tenant, and a conversation a plugin agent holds.

The code under test runs in the real sandbox (plugins/sandbox): nothing of ours is mocked."""

from __future__ import annotations

import io
import json
import textwrap
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import Account
from accounts.principals import Principal
from agents.models import Agent
from agents.services.agents import agent_create
from agents.tests.conftest import _catalogue, channel, conversation, post_webhook, sample  # noqa: F401
from inbox.models import Conversation, ConversationStatus
from inbox.tests.conftest import _whatsapp_settings  # noqa: F401
from plugins.models import PluginInstallation, PluginVersion
from plugins.services.installations import plugin_install
from plugins.services.packages import plugin_upload

# A plugin that does what the customer's message says, so one package covers every path.
ECHO_SOURCE = """
from skybot_plugin_sdk import Action, AgentOutput, AgentPlugin, PluginError


class Echo(AgentPlugin):
    def on_install(self, context):
        if context.config.get("refuse_install"):
            raise PluginError("not today")
        if "storage" in context.config.get("mode", ""):
            context.storage.set("installed", True)

    def execute(self, input, context):
        words = input.message.split()
        command = words[0] if words else ""
        context.logger.info(f"got {input.message!r}")
        if command == "fail":
            raise PluginError("the plugin failed on purpose")
        if command == "garbage":
            return {"not": "an AgentOutput"}
        if command == "lead":
            return AgentOutput(response="Scored.", actions=[Action.update_lead(score=90, status="qualified")])
        if command == "label":
            return AgentOutput(actions=[Action.add_label("vip")])
        if command == "handoff":
            return AgentOutput(response="A person will answer.", actions=[Action.handoff("asked for a person")])
        if command == "contact":
            try:
                return AgentOutput(response=context.contacts.get(int(words[1]))["name"])
            except PluginError as exc:
                return AgentOutput(response=f"{exc.code}: {exc.message}")
        if command == "store":
            context.storage.set(words[1], words[2])
            return AgentOutput(response="stored")
        if command == "read":
            return AgentOutput(response=repr(context.storage.get(words[1])))
        if command == "get":
            try:
                reply = context.http.get(words[1])
                return AgentOutput(response=f"{reply.status} {reply.text}", metadata={"headers": dict(reply.headers)})
            except PluginError as exc:
                return AgentOutput(response=f"{exc.code}: {exc.message}")
        if command == "secret":
            return AgentOutput(response=f"token={context.config.get('token')}")
        return AgentOutput(response=f"echo: {input.message}", metadata={"seen": dict(input.metadata)})
"""

ECHO_PERMISSIONS = ["messages:send", "contacts:read", "leads:write", "conversations:write", "storage", "http:localhost"]

CONFIG_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "greeting": {"type": "string", "title": "Greeting", "default": "Hello"},
        "token": {"type": "string", "title": "API token", "secret": True},
        "threshold": {"type": "integer", "minimum": 0, "maximum": 100},
        "refuse_install": {"type": "boolean"},
        "mode": {"type": "string"},
    },
    "required": ["greeting"],
    "additionalProperties": False,
}


def manifest(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "echo",
        "name": "Echo",
        "version": "1.0.0",
        "author": "Test Author",
        "description": "Does what the message says.",
        "category": "SUPPORT",
        "entrypoint": "echo_plugin:Echo",
        "config_schema": CONFIG_SCHEMA,
        "permissions": ECHO_PERMISSIONS,
        "min_platform_version": "1.0.0",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def build_package(manifest_data: dict[str, Any] | None = None, files: dict[str, str] | None = None) -> bytes:
    """A plugin zip from a manifest and {path: source}; defaults to the echo plugin."""
    files = {"echo_plugin.py": ECHO_SOURCE} if files is None else files
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("plugin.json", json.dumps(manifest_data or manifest()))
        for name, source in files.items():
            archive.writestr(name, textwrap.dedent(source))
    return buffer.getvalue()


@pytest.fixture
def publish() -> Callable[..., PluginVersion]:
    def publish(manifest_data: dict[str, Any] | None = None, files: dict[str, str] | None = None) -> PluginVersion:
        return plugin_upload(data=build_package(manifest_data, files), actor=None, publish=True)

    return publish


@pytest.fixture
def echo_version(db: None, publish: Callable[..., PluginVersion]) -> PluginVersion:
    return publish()


@pytest.fixture
def install(client_admin: Any) -> Callable[..., PluginInstallation]:
    def install(account: Account, plugin_id: str = "echo", config: dict[str, Any] | None = None) -> PluginInstallation:
        return plugin_install(
            account=account,
            plugin_id=plugin_id,
            config={"greeting": "Hi"} if config is None else config,
            actor=Principal.platform_key(),
        )

    return install


@pytest.fixture
def echo_installation(account: Account, echo_version: PluginVersion, install: Any) -> PluginInstallation:
    return install(account, config={"greeting": "Hi", "token": "s3cret-token-value"})


@pytest.fixture
def plugin_agent(account: Account, echo_installation: PluginInstallation, client_admin: Any) -> Agent:
    return agent_create(
        account=account,
        name="Echo agent",
        template=echo_installation.template.key,
        config={},
        actor=Principal.for_user(client_admin),
    )


@pytest.fixture
def held_by_plugin(conversation: Conversation, plugin_agent: Agent) -> Conversation:  # noqa: F811
    Conversation.objects.filter(pk=conversation.pk).update(
        agent=plugin_agent, status=ConversationStatus.PENDING, awaiting_agent_since=timezone.now()
    )
    conversation.refresh_from_db()
    return conversation
