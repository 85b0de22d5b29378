"""Test a plugin on your machine: a `FakeContext` that answers like the platform (permissions, storage
cap, allowed hosts, errors), and `run_execute`, which runs `execute` and refuses what the platform
would refuse.

    ctx = FakeContext.for_plugin(PLUGIN_DIR, config={"threshold": 60}, contacts={7: {...}})
    ctx.http.add("GET", "https://api.example.com/rates", json={"usd": 5.1})
    output = run_execute(PLUGIN_DIR, "How much is it?", context=ctx)
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlencode, urlsplit

from jsonschema import Draft202012Validator

from skybot_plugin_sdk.errors import HttpError, InvalidRequest, NotFound, PermissionDenied, PluginError, StorageFull
from skybot_plugin_sdk.manifest import http_domains, load_manifest
from skybot_plugin_sdk.outputs import output_problems
from skybot_plugin_sdk.types import AgentInput, AgentOutput, AgentPlugin, HttpResponse, PluginContext

STORAGE_LIMIT_BYTES = 64_000  # the platform's default cap per installation (keys + JSON values)
MAX_KEY_LENGTH = 200
MAX_HISTORY = 50
MAX_LEADS_PER_CONTACT = 20
DEFAULT_CHANNEL = {"id": 1, "type": "whatsapp"}


class Refused(InvalidRequest):
    """The platform would refuse this run (its config or its answer); `problems` lists every reason."""

    def __init__(self, what: str, problems: list[str]) -> None:
        super().__init__(f"{what}: " + "; ".join(problems))
        self.problems = problems


def _int_keys(rows: Mapping[Any, Any] | None) -> dict[int, Any]:
    """{1: ...} from {1: ...} or {"1": ...} (samples.json can only have string keys)."""
    return {int(key): value for key, value in (rows or {}).items()}


class FakeLogger:
    def __init__(self, lines: list[str]) -> None:
        self._lines = lines

    def _log(self, level: str, message: str) -> None:
        self._lines.append(f"{level} {message}")

    def debug(self, message: str) -> None:
        self._log("DEBUG", message)

    def info(self, message: str) -> None:
        self._log("INFO", message)

    def warning(self, message: str) -> None:
        self._log("WARNING", message)

    def error(self, message: str) -> None:
        self._log("ERROR", message)


class _Helper:
    def __init__(self, context: FakeContext) -> None:
        self._context = context

    def _need(self, permission: str) -> None:
        self._context.need(permission)


class FakeStorage(_Helper):
    """Per-installation JSON values, capped like the platform's (`StorageFull` past the cap)."""

    def __init__(self, context: FakeContext, data: Mapping[str, Any] | None, limit: int) -> None:
        super().__init__(context)
        self.data: dict[str, Any] = dict(data or {})
        self.limit = limit

    def _key(self, key: object) -> str:
        self._need("storage")
        if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
            raise InvalidRequest(f"A storage key is a string of 1 to {MAX_KEY_LENGTH} characters.")
        return key

    def get(self, key: str, default: Any = None) -> Any:
        value = self.data.get(self._key(key))
        return default if value is None else json.loads(json.dumps(value))

    def set(self, key: str, value: Any) -> None:
        key = self._key(key)
        try:
            encoded = json.dumps(value, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError):
            raise InvalidRequest("A stored value must be JSON (objects, lists, strings, numbers...).") from None
        if self.used(excluding=key) + len(encoded) + len(key) > self.limit:
            raise StorageFull(f"The plugin's storage would exceed {self.limit} bytes in this workspace.")
        self.data[key] = json.loads(encoded)

    def delete(self, key: str) -> None:
        self.data.pop(self._key(key), None)

    def keys(self) -> list[str]:
        self._need("storage")
        return sorted(self.data)

    def used(self, *, excluding: str | None = None) -> int:
        """Bytes counted against the cap, as the platform counts them."""
        return sum(
            len(key) + len(json.dumps(value, separators=(",", ":")))
            for key, value in self.data.items()
            if key != excluding
        )


class FakeHttp(_Helper):
    """Answers from responses the test registers; refuses hosts the manifest does not list."""

    def __init__(self, context: FakeContext) -> None:
        super().__init__(context)
        self._responses: dict[tuple[str, str], HttpResponse] = {}
        self.requests: list[dict[str, Any]] = []

    def add(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        text: str = "",
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Register the answer to `method url` (matched with its query string, else without it)."""
        all_headers = dict(headers or {})
        if json is not None:
            text = _json_dumps(json)
            all_headers.setdefault("content-type", "application/json")
        self._responses[(method.upper(), url)] = HttpResponse(status=status, headers=all_headers, text=text)

    def get(
        self, url: str, *, params: Mapping[str, str] | None = None, headers: Mapping[str, str] | None = None
    ) -> HttpResponse:
        return self.request("GET", url, params=params, headers=headers)

    def post(
        self,
        url: str,
        *,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> HttpResponse:
        return self.request("POST", url, json=json, data=data, headers=headers)

    def request(self, method: str, url: str, **args: Any) -> HttpResponse:
        method = method.upper()
        if method not in ("GET", "POST"):
            raise InvalidRequest("Only GET and POST are allowed.")
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.scheme not in ("http", "https") or not host:
            raise InvalidRequest("url must be an absolute http(s) URL.")
        if host not in self._context.http_domains:
            raise PermissionDenied(f"The plugin's manifest does not ask for http:{host}.")
        if params := args.get("params"):
            url = f"{url}{'&' if parts.query else '?'}{urlencode({str(k): str(v) for k, v in params.items()})}"
        self.requests.append({"method": method, "url": url, **{k: v for k, v in args.items() if v is not None}})
        answer = self._responses.get((method, url)) or self._responses.get((method, url.split("?", 1)[0]))
        if answer is None:
            raise HttpError(f"No fake response for {method} {url}: register one with ctx.http.add(...).")
        return answer


class FakeContacts(_Helper):
    def __init__(self, context: FakeContext, rows: Mapping[Any, dict[str, Any]] | None) -> None:
        super().__init__(context)
        self.rows = _int_keys(rows)

    def get(self, contact_id: int) -> dict[str, Any]:
        self._need("contacts:read")
        if contact_id not in self.rows:
            raise NotFound("No such contact.")
        return {"id": contact_id, **self.rows[contact_id]}


class FakeLeads(_Helper):
    def __init__(self, context: FakeContext, rows: Mapping[Any, dict[str, Any]] | None) -> None:
        super().__init__(context)
        self.rows = _int_keys(rows)

    def get(self, lead_id: int) -> dict[str, Any]:
        self._need("leads:read")
        if lead_id not in self.rows:
            raise NotFound("No such lead.")
        return {"id": lead_id, **self.rows[lead_id]}

    def for_contact(self, contact_id: int) -> list[dict[str, Any]]:
        self._need("leads:read")
        found = [
            self.get(lead_id) for lead_id in sorted(self.rows) if self.rows[lead_id].get("contact_id") == contact_id
        ]
        return found[:MAX_LEADS_PER_CONTACT]


class FakeConversations(_Helper):
    def __init__(self, context: FakeContext, rows: Mapping[Any, list[dict[str, Any]]] | None) -> None:
        super().__init__(context)
        self.rows = _int_keys(rows)

    def history(self, conversation_id: int, *, limit: int = 20) -> list[dict[str, Any]]:
        self._need("conversations:read")
        if not isinstance(limit, int) or not 1 <= limit <= MAX_HISTORY:
            raise InvalidRequest(f"limit must be between 1 and {MAX_HISTORY}.")
        if conversation_id not in self.rows:
            raise NotFound("No such conversation.")
        return list(self.rows[conversation_id][-limit:])


class FakeAnalytics(_Helper):
    def __init__(self, context: FakeContext, figures: Mapping[str, Any] | None) -> None:
        super().__init__(context)
        self.figures = dict(figures or {})

    def summary(self, *, days: int = 7) -> dict[str, Any]:
        self._need("analytics:read")
        if not isinstance(days, int) or not 1 <= days <= 90:
            raise InvalidRequest("days must be between 1 and 90.")
        return {"days": days, "conversations_started": 0, "inbound": 0, "outbound": 0, **self.figures}


class FakeContext:
    """A `PluginContext` for tests: every helper checks `permissions` as the platform does.

    `contacts` and `leads` are {id: row}, `conversations` is {id: [message, ...]} (oldest first),
    `analytics` the figures `analytics.summary` answers, `storage` the initial stored values."""

    def __init__(
        self,
        *,
        config: Mapping[str, Any] | None = None,
        permissions: Iterable[str] = (),
        account_id: int = 1,
        storage: Mapping[str, Any] | None = None,
        contacts: Mapping[Any, dict[str, Any]] | None = None,
        leads: Mapping[Any, dict[str, Any]] | None = None,
        conversations: Mapping[Any, list[dict[str, Any]]] | None = None,
        analytics: Mapping[str, Any] | None = None,
        storage_limit: int = STORAGE_LIMIT_BYTES,
    ) -> None:
        self.account_id = account_id
        self.config: Mapping[str, Any] = dict(config or {})
        self.permissions = list(permissions)
        self.http_domains = set(http_domains(self.permissions))
        self.log_lines: list[str] = []
        self.logger = FakeLogger(self.log_lines)
        self.storage = FakeStorage(self, storage, storage_limit)
        self.http = FakeHttp(self)
        self.contacts = FakeContacts(self, contacts)
        self.leads = FakeLeads(self, leads)
        self.conversations = FakeConversations(self, conversations)
        self.analytics = FakeAnalytics(self, analytics)

    @classmethod
    def for_plugin(cls, plugin_dir: str | Path, **kwargs: Any) -> FakeContext:
        """A context with the permissions the plugin's manifest asks for (and `kwargs`)."""
        kwargs.setdefault("permissions", load_manifest(plugin_dir)["permissions"])
        return cls(**kwargs)

    def need(self, permission: str) -> None:
        if permission not in self.permissions:
            raise PermissionDenied(f"The plugin's manifest does not ask for {permission}.")


# --- loading and running a plugin -------------------------------------------------------------------


def load_plugin(plugin_dir: str | Path) -> AgentPlugin:
    """A new instance of the manifest's entrypoint, imported from `plugin_dir`. The module stays
    imported (a test may patch its class); one of the same name imported from another directory is
    replaced, so several plugins can be tested in one run."""
    root = Path(plugin_dir).resolve()
    manifest = load_manifest(root)
    module_name, attribute = str(manifest["entrypoint"]).split(":", 1)
    _forget_foreign_modules(module_name.split(".", 1)[0], root)
    sys.path.insert(0, str(root))
    try:
        module = importlib.import_module(module_name)
    finally:
        sys.path.remove(str(root))
    plugin_class = getattr(module, attribute, None)
    if not (isinstance(plugin_class, type) and issubclass(plugin_class, AgentPlugin)):
        raise PluginError(f"entrypoint: {manifest['entrypoint']} is not an AgentPlugin subclass.")
    return plugin_class()


def _forget_foreign_modules(top_level: str, root: Path) -> None:
    loaded = sys.modules.get(top_level)
    origin = getattr(loaded, "__file__", None) or next(iter(getattr(loaded, "__path__", [])), None)
    if loaded is None or (origin is not None and Path(origin).resolve().is_relative_to(root)):
        return
    for name in [name for name in sys.modules if name == top_level or name.startswith(top_level + ".")]:
        del sys.modules[name]


def config_problems(plugin_dir: str | Path, config: Mapping[str, Any]) -> list[str]:
    """What the platform would say installing the plugin with `config` (its config_schema)."""
    schema = load_manifest(plugin_dir)["config_schema"]
    errors = sorted(Draft202012Validator(schema).iter_errors(dict(config)), key=lambda e: list(map(str, e.path)))
    return [f"config{''.join(f'.{part}' for part in error.absolute_path)}: {error.message}" for error in errors]


def run_execute(
    plugin_dir: str | Path,
    message: str,
    metadata: Mapping[str, Any] | None = None,
    config: Mapping[str, Any] | None = None,
    context: FakeContext | None = None,
) -> AgentOutput:
    """Run the plugin's `execute` once as the platform would, with a `FakeContext` (the manifest's
    permissions and `config`, unless `context` is given). The metadata gets the platform's defaults
    and loses what the permissions do not allow. Raises `Refused` for a config the schema refuses or
    an answer the platform would refuse, listing every problem."""
    if context is None:
        context = FakeContext.for_plugin(plugin_dir, config=config or {})
    elif config is not None:
        raise TypeError("Give the config to the FakeContext (FakeContext.for_plugin(dir, config=...)).")
    if problems := config_problems(plugin_dir, context.config):
        raise Refused("The config does not match the manifest's config_schema", problems)
    plugin = load_plugin(plugin_dir)
    agent_input = AgentInput.from_dict(
        json.loads(_json_dumps({"message": message, "metadata": _metadata(metadata, context)}))
    )
    # FakeContext's helpers are richer than the protocol's (http.add...), which mypy's invariance refuses.
    output = plugin.execute(agent_input, cast(PluginContext, context))
    if not isinstance(output, AgentOutput):
        raise Refused(
            "The platform would refuse this answer",
            [f"execute must return an AgentOutput (got {type(output).__name__})."],
        )
    answer = output.to_dict()
    if problems := output_problems(answer, permissions=context.permissions):
        raise Refused("The platform would refuse this answer", problems)
    return AgentOutput.from_dict(json.loads(_json_dumps(answer)))


HOOKS = ("on_install", "on_uninstall", "on_activate", "on_deactivate")


def run_hook(
    plugin_dir: str | Path,
    hook: str,
    config: Mapping[str, Any] | None = None,
    context: FakeContext | None = None,
) -> None:
    """Run a lifecycle hook (`on_install`...) as the platform would: the config is checked against the
    schema first (`Refused`), and whatever the hook raises reaches the caller (a PluginError from
    `on_install` refuses the installation)."""
    if hook not in HOOKS:
        raise ValueError(f"{hook!r} is not one of {', '.join(HOOKS)}.")
    if context is None:
        context = FakeContext.for_plugin(plugin_dir, config=config or {})
    elif config is not None:
        raise TypeError("Give the config to the FakeContext (FakeContext.for_plugin(dir, config=...)).")
    if problems := config_problems(plugin_dir, context.config):
        raise Refused("The config does not match the manifest's config_schema", problems)
    getattr(load_plugin(plugin_dir), hook)(cast(PluginContext, context))


def _metadata(metadata: Mapping[str, Any] | None, context: FakeContext) -> dict[str, Any]:
    full = {"conversation_id": 1, "channel": dict(DEFAULT_CHANNEL), **(metadata or {})}
    if "contacts:read" not in context.permissions:
        full.pop("contact", None)
    if "conversations:read" not in context.permissions:
        full.pop("recent_messages", None)
    return full


def _json_dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)
