"""What a plugin is made of: the `AgentPlugin` base class, its input and output, the actions it may
ask the platform to take, and the `PluginContext` the platform hands it.

Everything crossing the sandbox boundary is plain JSON: `AgentInput.from_dict`, `AgentOutput.to_dict`
and `Action.to_dict` are the wire format (docs/plugins/context.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

# --- permissions --------------------------------------------------------------------------------

#: Every permission a manifest may ask for, besides `http:<domain>`.
PERMISSIONS: dict[str, str] = {
    "contacts:read": "Read the contact who writes, and look up the tenant's contacts.",
    "contacts:write": "Change a contact's name, email and attributes.",
    "leads:read": "Read the tenant's leads.",
    "leads:write": "Change a lead's status, score and details.",
    "conversations:read": "Read the conversation's recent messages and history.",
    "conversations:write": "Label a conversation, set its priority, hand it to the team.",
    "messages:send": "Answer the customer in the conversation.",
    "analytics:read": "Read the tenant's conversation and agent figures.",
    "storage": "Keep its own small key/value data for this tenant.",
}

#: The permission an `http:<domain>` entry grants, in words.
HTTP_PERMISSION_PREFIX = "http:"

#: The permission each action needs.
ACTION_PERMISSIONS: dict[str, str] = {
    "update_lead": "leads:write",
    "update_contact": "contacts:write",
    "add_label": "conversations:write",
    "set_priority": "conversations:write",
    "handoff": "conversations:write",
}

PRIORITIES = ("low", "normal", "high", "urgent")

# --- input and output ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AgentInput:
    """One customer message for the plugin to answer.

    `metadata` holds only what the manifest's permissions allow:
    - always: `conversation_id` (int or None when tried by hand), `channel` (`{"id", "type"}`);
    - `contacts:read`: `contact` (`{"id", "name", "phone", "email", "attributes"}`);
    - `conversations:read`: `recent_messages` (oldest first, up to 20 of
      `{"direction": "in"|"out", "text", "created_at"}`).
    """

    message: str
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AgentInput:
        return cls(message=str(data.get("message", "")), metadata=dict(data.get("metadata") or {}))

    def to_dict(self) -> dict[str, Any]:
        return {"message": self.message, "metadata": dict(self.metadata)}


@dataclass(frozen=True)
class Action:
    """Something the platform does for the plugin after the run, if its permission is granted.

    Build one with the class methods: `Action.update_lead(lead_id, score=80, status="qualified")`.
    """

    type: str
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def permission(self) -> str | None:
        return ACTION_PERMISSIONS.get(self.type)

    @classmethod
    def update_lead(cls, lead_id: int | None = None, **fields: Any) -> Action:
        """Change a lead's `status`, `score` (0-100), `name`, `email`, `company` or `metadata`;
        `lead_id` None means the lead of the contact who writes (created if they have none)."""
        return cls("update_lead", {"lead_id": lead_id, "fields": fields})

    @classmethod
    def update_contact(cls, **fields: Any) -> Action:
        """Change the writing contact's `name`, `email` or `attributes` (merged)."""
        return cls("update_contact", {"fields": fields})

    @classmethod
    def add_label(cls, label: str) -> Action:
        """Put a label (made if the tenant has none of that name) on the conversation."""
        return cls("add_label", {"label": label})

    @classmethod
    def set_priority(cls, priority: str) -> Action:
        """Set the conversation's priority: one of `low`, `normal`, `high`, `urgent`."""
        return cls("set_priority", {"priority": priority})

    @classmethod
    def handoff(cls, reason: str = "") -> Action:
        """Give the conversation to the tenant's team; the plugin stops answering it."""
        return cls("handoff", {"reason": reason})

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "params": dict(self.params)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Action:
        return cls(type=str(data["type"]), params=dict(data.get("params") or {}))


@dataclass(frozen=True)
class AgentOutput:
    """What a run answers: the reply to the customer (None: no reply), actions, and free metadata
    kept with the execution (JSON values only)."""

    response: str | None = None
    actions: list[Action] = field(default_factory=list)
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "response": self.response,
            "actions": [action.to_dict() for action in self.actions],
            "metadata": dict(self.metadata),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AgentOutput:
        response = data.get("response")
        return cls(
            response=None if response is None else str(response),
            actions=[Action.from_dict(item) for item in data.get("actions") or []],
            metadata=dict(data.get("metadata") or {}),
        )


# --- the context --------------------------------------------------------------------------------


@runtime_checkable
class PluginLogger(Protocol):
    """Lines a plugin logs reach its execution log (not the platform's logs)."""

    def debug(self, message: str) -> None: ...
    def info(self, message: str) -> None: ...
    def warning(self, message: str) -> None: ...
    def error(self, message: str) -> None: ...


class Storage(Protocol):
    """Per-installation key/value data (JSON values), size-capped; needs `storage`."""

    def get(self, key: str, default: Any = None) -> Any: ...
    def set(self, key: str, value: Any) -> None: ...
    def delete(self, key: str) -> None: ...
    def keys(self) -> list[str]: ...


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: Mapping[str, str]
    text: str

    def json(self) -> Any:
        import json

        return json.loads(self.text)


class Http(Protocol):
    """Outside calls, only to the manifest's `http:<domain>` entries, through the platform."""

    def get(
        self, url: str, *, params: Mapping[str, str] | None = None, headers: Mapping[str, str] | None = None
    ) -> HttpResponse: ...

    def post(
        self,
        url: str,
        *,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> HttpResponse: ...


class Contacts(Protocol):
    """The tenant's contacts; needs `contacts:read`."""

    def get(self, contact_id: int) -> dict[str, Any]: ...


class Leads(Protocol):
    """The tenant's leads; needs `leads:read`."""

    def get(self, lead_id: int) -> dict[str, Any]: ...
    def for_contact(self, contact_id: int) -> list[dict[str, Any]]: ...


class Conversations(Protocol):
    """Conversation history; needs `conversations:read`."""

    def history(self, conversation_id: int, *, limit: int = 20) -> list[dict[str, Any]]: ...


class Analytics(Protocol):
    """The tenant's figures; needs `analytics:read`."""

    def summary(self, *, days: int = 7) -> dict[str, Any]: ...


@runtime_checkable
class PluginContext(Protocol):
    """What the platform gives a plugin for one call. Every helper but `config` and `logger` is a
    request the platform checks against the manifest's permissions and the tenant."""

    account_id: int
    config: Mapping[str, Any]
    logger: PluginLogger
    storage: Storage
    http: Http
    contacts: Contacts
    leads: Leads
    conversations: Conversations
    analytics: Analytics


# --- the plugin ---------------------------------------------------------------------------------


class AgentPlugin:
    """Subclass this and name the subclass as the manifest's `entrypoint` (`module:Class`).

    The platform makes a new instance for every call (a call's state does not outlive it; keep what
    must last in `context.storage`). Lifecycle hooks default to doing nothing.
    """

    def on_install(self, context: PluginContext) -> None:
        """The tenant installed the plugin (its config is valid)."""

    def on_uninstall(self, context: PluginContext) -> None:
        """The tenant uninstalls it; its storage is removed afterwards."""

    def on_activate(self, context: PluginContext) -> None:
        """An agent made from the plugin starts answering."""

    def on_deactivate(self, context: PluginContext) -> None:
        """An agent made from the plugin stops answering."""

    def execute(self, input: AgentInput, context: PluginContext) -> AgentOutput:
        """Answer one customer message."""
        raise NotImplementedError("A plugin must implement execute(input, context).")
