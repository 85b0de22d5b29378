"""The single-use child: confined first, then it reads the job, loads the plugin from memory and runs
one operation.

Conversation with the host over the job socket (frames of `protocol`):
  child -> host  {"hello": {"layers": {...}, "complete": bool}}
  host -> child  {"job": {"package": base64 zip, "entrypoint": "mod:Class", "op": str, "payload": {}}}
  child -> host  {"call": name, "args": {...}}   host -> child {"ok": value} | {"error": {"type", "message"}}
  child -> host  {"log": {"level": str, "message": str}}  (no answer)
  child -> host  {"result": value} | {"error": {"code", "message", "traceback"}}   then the child exits

The plugin's modules are imported from the zip held in memory (nothing touches the disk); an import
outside the allow-list and the plugin's own modules is refused with an ImportError. That refusal is
a courtesy to plugin authors, not the boundary: the kernel layers of `confine` are.
"""

from __future__ import annotations

import base64
import builtins
import importlib
import importlib.abc
import importlib.machinery
import io
import json
import logging
import os
import socket
import sys
import traceback
import types
import zipfile
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from skybot_plugin_sdk.imports import ALLOWED_STDLIB, SDK_PACKAGE

from . import protocol
from .confine import Prepared, confine, layers_complete, layers_missing

#: The standard-library modules a plugin may import are the SDK's list (`skybot_plugin_sdk.imports`,
#: which `skybot-plugin validate` checks against too); the fork server pre-imports them: a confined
#: child can read no file outside the stdlib, and after dropping to its uid often not even that.

#: Loaded with them: submodules and helpers they import lazily, which a confined child could not load.
PRELOAD_EXTRA = (
    "_strptime", "collections.abc", "email.utils", "encodings.ascii", "encodings.cp1252", "encodings.cp437",
    "encodings.utf_8_sig", "encodings.hex_codec", "encodings.base64_codec",
    "encodings.idna", "encodings.latin_1", "encodings.punycode", "encodings.utf_16", "encodings.utf_32",
    "encodings.utf_8", "encodings.unicode_escape", "encodings.raw_unicode_escape", "html.entities",
    "html.parser", "importlib.machinery", "importlib.resources", "importlib.util", "json.decoder",
    "json.encoder", "logging.handlers", "urllib.parse", "zoneinfo._common", "zoneinfo._tzpath",
)  # fmt: skip

#: SDK modules with tooling that has no business in the sandbox (not pre-imported, not allowed).
SDK_EXCLUDED = ("cli", "__main__", "package", "testing")

OPS = ("validate", "execute", "on_install", "on_uninstall", "on_activate", "on_deactivate")
LOG_LEVELS = ("debug", "info", "warning", "error")
PLUGIN_ROOT = "/plugin/"


def preload() -> list[str]:
    """Import the allow-list and the SDK; answer the names that failed (kept out of the sandbox)."""
    failed = []
    for name in (*ALLOWED_STDLIB, *PRELOAD_EXTRA):
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a module this Python lacks is simply not offered
            failed.append(name)
    try:
        sdk = importlib.import_module(SDK_PACKAGE)
        import pkgutil

        for info in pkgutil.iter_modules(sdk.__path__, f"{SDK_PACKAGE}."):
            if info.name.rsplit(".", 1)[-1] not in SDK_EXCLUDED:
                try:
                    importlib.import_module(info.name)
                except Exception:  # noqa: BLE001
                    failed.append(info.name)
    except ImportError:
        failed.append(SDK_PACKAGE)
    return failed


def _allowed(name: str, plugin_modules: frozenset[str]) -> bool:
    top = name.partition(".")[0]
    if top in plugin_modules or (top == SDK_PACKAGE and not _sdk_excluded(name)):
        return True
    if name in PRELOAD_EXTRA:  # e.g. `_strptime`, which datetime.strptime imports in the caller's name
        return True
    for allowed in ALLOWED_STDLIB:
        if name == allowed or name.startswith(allowed + ".") or allowed.startswith(name + "."):
            return True
    return False


def _sdk_excluded(name: str) -> bool:
    parts = name.split(".")
    return len(parts) > 1 and parts[1] in SDK_EXCLUDED


# --- the in-memory importer ---------------------------------------------------------------------
class ZipImporter(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds and loads the plugin's modules from the package zip, in memory; `get_data` serves
    `pkgutil.get_data` for files of the package."""

    def __init__(self, archive: zipfile.ZipFile, root: str) -> None:
        self.archive = archive
        self.root = root
        self.files = {
            info.filename[len(root) :]: info
            for info in archive.infolist()
            if info.filename.startswith(root) and not info.is_dir()
        }
        tops = set()
        for path in self.files:
            head = path.split("/", 1)[0]
            if path.endswith(".py") and "/" not in path:
                tops.add(head[:-3])
            elif "/" in path and f"{head}/__init__.py" in self.files:
                tops.add(head)
        self.top_level = frozenset(name for name in tops if name.isidentifier())

    def _locate(self, fullname: str) -> tuple[str, bool] | None:
        base = fullname.replace(".", "/")
        if f"{base}/__init__.py" in self.files:
            return f"{base}/__init__.py", True
        if f"{base}.py" in self.files:
            return f"{base}.py", False
        return None

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname.partition(".")[0] not in self.top_level:
            return None
        found = self._locate(fullname)
        if found is None:
            return None
        relative, is_package = found
        spec = importlib.machinery.ModuleSpec(fullname, self, origin=PLUGIN_ROOT + relative, is_package=is_package)
        spec.has_location = True
        if is_package:
            spec.submodule_search_locations = [PLUGIN_ROOT + relative.rsplit("/", 1)[0]]
        return spec

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        spec = module.__spec__
        if spec is None or spec.origin is None:
            raise ImportError(f"no spec for {module.__name__}")
        code = compile(self._read(spec.origin), spec.origin, "exec", dont_inherit=True)
        exec(code, module.__dict__)  # noqa: S102 - this is what loading a module is

    def _read(self, path: str) -> bytes:
        relative = path[len(PLUGIN_ROOT) :] if path.startswith(PLUGIN_ROOT) else path
        info = self.files.get(relative.lstrip("/"))
        if info is None:
            raise OSError(2, "No such file in the plugin package", path)
        return self.archive.read(info)

    def get_source(self, fullname: str) -> str | None:
        found = self._locate(fullname)
        return None if found is None else self._read(found[0]).decode("utf-8", "replace")

    def get_data(self, path: str) -> bytes:
        return self._read(path)

    def is_package(self, fullname: str) -> bool:
        found = self._locate(fullname)
        return bool(found and found[1])


class _ImportGuard(importlib.abc.MetaPathFinder):
    """First on sys.meta_path: a module not yet loaded and outside the allow-list is refused."""

    def __init__(self, plugin_modules: frozenset[str]) -> None:
        self.plugin_modules = plugin_modules

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if not _allowed(fullname, self.plugin_modules):
            raise ImportError(_refusal(fullname), name=fullname)
        return None


def _refusal(name: str) -> str:
    return (
        f"import of '{name}' is not allowed in a SkyBot plugin: only the plugin's own modules, "
        f"skybot_plugin_sdk and these standard modules are: {', '.join(ALLOWED_STDLIB)}"
    )


def install_importer(importer: ZipImporter) -> None:
    """Plugin code imports only allowed modules (already loaded ones included) and its own."""
    plugin_modules = importer.top_level
    real_import = builtins.__import__

    def guarded_import(
        name: str,
        globals: Mapping[str, object] | None = None,
        locals: Mapping[str, object] | None = None,
        fromlist: Sequence[str] | None = (),
        level: int = 0,
    ) -> types.ModuleType:
        from_plugin = level == 0 and globals is not None and globals.get("__loader__") is importer
        if from_plugin and not _allowed(name, plugin_modules):
            raise ImportError(_refusal(name), name=name)
        return real_import(name, globals, locals, fromlist, level)

    builtins.__import__ = guarded_import
    sys.path[:] = []  # nothing is found on disk any more (the cache stays: clearing it costs page copies)
    sys.meta_path[:0] = [_ImportGuard(plugin_modules), importer]


def open_package(data: bytes) -> ZipImporter:
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = [name for name in archive.namelist() if name.endswith("plugin.json")]
    root = ""
    if "plugin.json" not in names:
        # A zip made of a folder: plugin.json one level down.
        nested = sorted((name for name in names if name.count("/") == 1), key=len)
        if nested:
            root = nested[0][: -len("plugin.json")]
    importer = ZipImporter(archive, root)
    clashes = sorted(name for name in importer.top_level if name in sys.modules or _allowed(name, frozenset()))
    if clashes:
        raise ImportError(f"the plugin's module names clash with modules of the platform: {', '.join(clashes)}")
    return importer


# --- the context --------------------------------------------------------------------------------
class Channel:
    """The child's end of the job socket: capability calls, log lines, the final answer."""

    def __init__(self, sock: socket.socket, max_output_bytes: int) -> None:
        self.sock = sock
        self.max_output_bytes = max_output_bytes

    def send(self, message: Any) -> None:
        protocol.send(self.sock, message, max_size=self.max_output_bytes + 4096)

    def call(self, name: str, args: dict[str, Any]) -> Any:
        from skybot_plugin_sdk.errors import InvalidRequest, error_for

        try:
            self.send({"call": name, "args": args})
        except protocol.ProtocolError as exc:
            raise InvalidRequest(f"{name}: {exc}") from None
        answer = protocol.recv(self.sock)
        if isinstance(answer, dict) and "ok" in answer:
            return answer["ok"]
        error = answer.get("error") if isinstance(answer, dict) else None
        if isinstance(error, dict):
            raise error_for(str(error.get("type", "plugin_error")), str(error.get("message", "")))
        raise protocol.ProtocolError("unexpected answer to a capability call")

    def log(self, level: str, message: str) -> None:
        self.send({"log": {"level": level, "message": str(message)[:10_000]}})


class _Logger:
    def __init__(self, channel: Channel) -> None:
        self._channel = channel

    def debug(self, message: str) -> None:
        self._channel.log("debug", message)

    def info(self, message: str) -> None:
        self._channel.log("info", message)

    def warning(self, message: str) -> None:
        self._channel.log("warning", message)

    def error(self, message: str) -> None:
        self._channel.log("error", message)


class _Capability:
    def __init__(self, channel: Channel) -> None:
        self._call = channel.call


class _Storage(_Capability):
    def get(self, key: str, default: Any = None) -> Any:
        value = self._call("storage.get", {"key": key})
        return default if value is None else value

    def set(self, key: str, value: Any) -> None:
        self._call("storage.set", {"key": key, "value": value})

    def delete(self, key: str) -> None:
        self._call("storage.delete", {"key": key})

    def keys(self) -> list[str]:
        return list(self._call("storage.keys", {}))


class _Http(_Capability):
    def _request(self, method: str, url: str, **fields: Any) -> Any:
        from skybot_plugin_sdk.types import HttpResponse

        args = {"method": method, "url": url, **{key: value for key, value in fields.items() if value is not None}}
        answer = self._call("http.request", args)
        return HttpResponse(
            status=int(answer["status"]), headers=dict(answer.get("headers") or {}), text=str(answer.get("text", ""))
        )

    def get(
        self, url: str, *, params: Mapping[str, str] | None = None, headers: Mapping[str, str] | None = None
    ) -> Any:
        return self._request("GET", url, params=_plain(params), headers=_plain(headers))

    def post(
        self,
        url: str,
        *,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        return self._request("POST", url, json=json, data=_plain(data), headers=_plain(headers))


def _plain(mapping: Mapping[str, str] | None) -> dict[str, str] | None:
    return None if mapping is None else dict(mapping)


class _Contacts(_Capability):
    def get(self, contact_id: int) -> dict[str, Any]:
        return dict(self._call("contacts.get", {"id": contact_id}))


class _Leads(_Capability):
    def get(self, lead_id: int) -> dict[str, Any]:
        return dict(self._call("leads.get", {"id": lead_id}))

    def for_contact(self, contact_id: int) -> list[dict[str, Any]]:
        return list(self._call("leads.for_contact", {"contact_id": contact_id}))


class _Conversations(_Capability):
    def history(self, conversation_id: int, *, limit: int = 20) -> list[dict[str, Any]]:
        return list(self._call("conversations.history", {"conversation_id": conversation_id, "limit": limit}))


class _Analytics(_Capability):
    def summary(self, *, days: int = 7) -> dict[str, Any]:
        return dict(self._call("analytics.summary", {"days": days}))


class SandboxContext:
    """The `PluginContext` of a sandboxed run: every helper is a capability call to the host."""

    def __init__(self, channel: Channel, data: Mapping[str, Any]) -> None:
        self.account_id = int(data.get("account_id") or 0)
        self.config: Mapping[str, Any] = types.MappingProxyType(dict(data.get("config") or {}))
        self.permissions = tuple(data.get("permissions") or ())
        self.logger = _Logger(channel)
        self.storage = _Storage(channel)
        self.http = _Http(channel)
        self.contacts = _Contacts(channel)
        self.leads = _Leads(channel)
        self.conversations = _Conversations(channel)
        self.analytics = _Analytics(channel)


class _LogWriter(io.TextIOBase):
    """print() and the logging module of a plugin end in its log, not on the platform's output."""

    def __init__(self, channel: Channel, level: str) -> None:
        self._channel, self._level, self._buffer = channel, level, ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._buffer += text
        while "\n" in self._buffer:
            line, self._buffer = self._buffer.split("\n", 1)
            self._channel.log(self._level, line)
        if len(self._buffer) > 10_000:
            self.flush()
        return len(text)

    def flush(self) -> None:
        if self._buffer:
            line, self._buffer = self._buffer, ""
            self._channel.log(self._level, line)


class _LogHandler(logging.Handler):
    def __init__(self, channel: Channel) -> None:
        super().__init__(logging.DEBUG)
        self._channel = channel

    def emit(self, record: logging.LogRecord) -> None:
        level = record.levelname.lower()
        self._channel.log(level if level in LOG_LEVELS else "error", self.format(record))


# --- running one job ----------------------------------------------------------------------------
class Failure(Exception):
    def __init__(self, code: str, message: str, trace: str = "") -> None:
        super().__init__(message)
        self.code, self.message, self.trace = code, message, trace


def _plugin_traceback(exc: BaseException) -> str:
    """The traceback from the plugin's first frame on (the sandbox's own frames say nothing)."""
    tb = exc.__traceback__
    while tb is not None and not tb.tb_frame.f_code.co_filename.startswith(PLUGIN_ROOT):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb if tb is not None else exc.__traceback__))[-20_000:]


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def load_entrypoint(importer: ZipImporter, entrypoint: str) -> type:
    from skybot_plugin_sdk.types import AgentPlugin

    module_name, _, attribute = entrypoint.partition(":")
    if not module_name or not attribute:
        raise Failure("load_error", f"entrypoint '{entrypoint}' is not 'module:Class'")
    try:
        target: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            target = getattr(target, part)
    except BaseException as exc:  # noqa: BLE001 - any failure of plugin code while it loads
        if isinstance(exc, SystemExit | KeyboardInterrupt):
            raise Failure("load_error", f"the plugin exited while loading ({_describe(exc)})") from None
        message = f"entrypoint '{entrypoint}' does not load: {_describe(exc)}"
        raise Failure("load_error", message, _plugin_traceback(exc)) from None
    if not (isinstance(target, type) and issubclass(target, AgentPlugin)):
        raise Failure("load_error", f"entrypoint '{entrypoint}' is not an AgentPlugin subclass")
    return target


def run_op(importer: ZipImporter, channel: Channel, job: Mapping[str, Any]) -> Any:
    from skybot_plugin_sdk.types import AgentInput, AgentOutput

    op = str(job.get("op"))
    if op not in OPS:
        raise Failure("protocol", f"unknown operation '{op}'")
    plugin_class = load_entrypoint(importer, str(job.get("entrypoint", "")))
    if op == "validate":
        return {"class": plugin_class.__name__}
    payload = job.get("payload") or {}
    context = SandboxContext(channel, payload.get("context") or {})
    try:
        plugin = plugin_class()
        if op == "execute":
            output = plugin.execute(AgentInput.from_dict(payload.get("input") or {}), context)
        else:
            getattr(plugin, op)(context)
            return None
    except MemoryError:
        raise Failure("plugin_error", "MemoryError: the plugin went over its memory limit") from None
    except Exception as exc:  # noqa: BLE001 - an exception in plugin code is the plugin's failure
        raise Failure("plugin_error", _describe(exc), _plugin_traceback(exc)) from None
    except BaseException as exc:  # noqa: BLE001 - SystemExit and friends from plugin code
        raise Failure("plugin_error", f"the plugin stopped: {_describe(exc)}", _plugin_traceback(exc)) from None
    if not isinstance(output, AgentOutput):
        raise Failure("invalid_output", f"execute must return an AgentOutput, not {type(output).__name__}")
    try:
        value = output.to_dict()
        size = len(json.dumps(value, allow_nan=False).encode())
    except (TypeError, ValueError, AttributeError) as exc:
        raise Failure("invalid_output", f"the AgentOutput is not plain JSON: {exc}") from None
    if size > channel.max_output_bytes:
        raise Failure("invalid_output", f"the output is {size} bytes, over the {channel.max_output_bytes}-byte limit")
    return value


def main(*, job_fd: int, prepared: Prepared, header: Mapping[str, Any]) -> None:
    """The child's whole life after the fork; never returns."""
    code = 0
    try:
        sock = socket.socket(fileno=job_fd)
        sock.setblocking(True)  # set now: after seccomp even ioctl(FIONBIO) is refused
        timeout = float(header.get("timeout", 5.0))
        max_output = int(header.get("max_output_bytes", 256_000))
        layers = confine(
            job_fd=job_fd,
            prepared=prepared,
            timeout=timeout,
            memory_mb=int(header.get("memory_mb", 256)),
            uid=int(header.get("uid", 65534)),
            skip=header.get("skip_layers", ()),
        )
        complete = layers_complete(layers)
        channel = Channel(sock, max_output)
        channel.send({"hello": {"layers": layers, "complete": complete}})
        if header.get("require_complete", True) and not complete:
            missing = ", ".join(layers_missing(layers))
            channel.send({"error": {"code": "sandbox_incomplete", "message": f"missing: {missing}", "traceback": ""}})
            os._exit(0)
        code = _serve(channel)
    except BaseException:  # noqa: BLE001 - a child must never fall back into the server's loop
        code = 70
    finally:
        os._exit(code)


def _serve(channel: Channel) -> int:
    message = protocol.recv(channel.sock)
    job = message.get("job") if isinstance(message, dict) else None
    if not isinstance(job, dict):
        return 65
    try:
        try:
            importer = open_package(base64.b64decode(str(job.get("package", "")), validate=True))
        except Exception as exc:  # noqa: BLE001 - a broken package is the package's failure
            raise Failure("load_error", f"the package cannot be opened: {_describe(exc)}") from None
        install_importer(importer)
        sys.stdout = _LogWriter(channel, "info")
        sys.stderr = _LogWriter(channel, "error")
        logging.root.handlers[:] = [_LogHandler(channel)]
        logging.root.setLevel(logging.DEBUG)
        value = run_op(importer, channel, job)
        _flush_output()
        channel.send({"result": value})
    except Failure as failure:
        _flush_output()
        channel.send({"error": {"code": failure.code, "message": failure.message[:2000], "traceback": failure.trace}})
    return 0


def _flush_output() -> None:
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, _LogWriter):
            stream.flush()


def entry(prepared: Prepared) -> Callable[[int, Mapping[str, Any]], None]:
    """What the fork server calls in a new child (kept tiny for the fork path)."""

    def start(job_fd: int, header: Mapping[str, Any]) -> None:
        main(job_fd=job_fd, prepared=prepared, header=header)

    return start
