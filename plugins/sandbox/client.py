"""The host's side of the sandbox: `run` one operation of a plugin package in a fresh confined child.

`run` checks the package's checksum, reaches the fork server (starting it if nobody listens), hands
it one end of a socketpair, then talks to the child directly over the other end: it waits for the
child's report of its layers, sends the job, answers capability calls with the caller's `handler`,
collects log lines, and keeps its own deadline in case the fork server could not. Every frame from
the child is hostile input: sizes are capped, shapes are checked, anything else is a `protocol`
error and the child is killed (closing the control connection makes the server SIGKILL it).
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import protocol
from .confine import layers_complete, layers_missing

SANDBOX_DIR = Path(__file__).resolve().parent
#: Log lines kept per run, and characters per line.
MAX_LOG_LINES = 200
MAX_LOG_CHARS = 2_000
#: Extra time the host waits beyond the timeout for the server's verdict before giving up itself.
GRACE_SECONDS = 1.0
START_TIMEOUT_SECONDS = 15.0
#: What `python -I -c` runs: isolated mode puts neither the script dir nor the cwd on sys.path, so
#: the project root comes first in argv. The server imports this package by its full name
#: (`plugins/__init__.py` imports nothing), so no module beside it can shadow a stdlib module
#: (`plugins/selectors.py` would shadow `selectors` if `plugins/` itself were on the path).
BOOT = (
    "import sys; sys.path.insert(0, sys.argv.pop(1)); from plugins.sandbox.forkserver import main; main(sys.argv[1:])"
)
OPS = ("validate", "execute", "on_install", "on_uninstall", "on_activate", "on_deactivate")


@dataclass(frozen=True)
class SandboxConfig:
    timeout_seconds: float = 5.0
    memory_mb: int = 256
    max_output_bytes: int = 256_000
    uid: int = 65534
    #: None: `<tmp>/skybot-sandbox-<uid>/forkserver-<hash of the sandbox and SDK code>.sock`.
    socket_path: str | None = None
    idle_seconds: float = 300.0
    #: Layers switched off by the operator (see `confine.SKIPPABLE_LAYERS`).
    skip_layers: tuple[str, ...] = ()


@dataclass(frozen=True)
class SandboxResult:
    value: Any
    logs: list[dict[str, Any]]
    duration_ms: float
    layers: dict[str, Any]


@dataclass(frozen=True)
class SandboxStatus:
    layers: dict[str, Any]
    complete: bool
    missing: list[str] = field(default_factory=list)


class SandboxError(Exception):
    """A run failed. `code`: timeout, crashed, memory, protocol, checksum_mismatch, load_error,
    plugin_error, invalid_output, sandbox_incomplete, unavailable."""

    def __init__(self, code: str, message: str, logs: list[dict[str, Any]] | None = None, traceback: str = "") -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.logs = logs or []
        self.traceback = traceback


Handler = Callable[[str, dict[str, Any]], Any]


class _ServerGone(Exception):
    """The fork server hung up before starting a child (it was leaving): safe to try again."""


# --- the fork server's address and start ------------------------------------------------------
def _code_hash() -> str:
    digest = hashlib.sha256()
    roots = [SANDBOX_DIR]
    try:
        import skybot_plugin_sdk

        roots.append(Path(skybot_plugin_sdk.__file__).resolve().parent)
    except ImportError:
        pass
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(sys.version.encode())
    return digest.hexdigest()[:12]


_hash_cache: list[str] = []


def socket_path(config: SandboxConfig) -> str:
    """Where the fork server for this code listens (a new deploy gets a new server)."""
    if config.socket_path:
        return config.socket_path
    if not _hash_cache:
        _hash_cache.append(_code_hash())
    directory = Path(tempfile.gettempdir()) / f"skybot-sandbox-{os.geteuid()}"
    return str(directory / f"forkserver-{_hash_cache[0]}.sock")


def _private_dir(directory: Path) -> None:
    """Make (or check) a directory only we can enter: a socket in a shared temp dir could be
    planted by another user to receive our jobs."""
    with contextlib.suppress(FileExistsError):
        directory.mkdir(mode=0o700, parents=False)
    info = os.lstat(directory)
    if not os.path.isdir(directory) or os.path.islink(directory) or info.st_uid != os.geteuid():
        raise SandboxError("unavailable", f"{directory} is not a directory owned by this user")
    if info.st_mode & 0o077:
        os.chmod(directory, 0o700)


def _connect(path: str) -> socket.socket:
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(path)
        _pid, uid, _gid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
        if uid != os.geteuid():
            raise SandboxError("unavailable", f"the fork server at {path} runs as uid {uid}, not {os.geteuid()}")
    except BaseException:
        conn.close()
        raise
    return conn


_start_lock = threading.Lock()


def _start_server(path: str, config: SandboxConfig) -> None:
    """Start the fork server unless another process did first (flock on `<socket>.lock`)."""
    directory = Path(path).parent
    if config.socket_path is None:
        _private_dir(directory)
    lock_fd = os.open(path + ".lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            try:
                fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    message = "timed out waiting for another process to start the sandbox"
                    raise SandboxError("unavailable", message) from None
                time.sleep(0.01)
        try:  # someone else may have started it while we waited
            _connect(path).close()
            return
        except OSError:
            pass
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)  # a stale socket of a server that died
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": os.environ.get("LANG", "C.UTF-8")}
        command = [
            sys.executable,
            "-I",
            "-c",
            BOOT,
            str(SANDBOX_DIR.parent.parent),
            "--socket",
            path,
            "--idle-seconds",
            str(config.idle_seconds),
        ]
        with open(path + ".log", "ab") as log_file:
            os.chmod(path + ".log", 0o600)
            try:
                launcher = subprocess.run(  # noqa: S603 - our own interpreter and code
                    command,
                    env=env,
                    cwd="/",
                    stdin=subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=log_file,
                    start_new_session=True,
                    timeout=START_TIMEOUT_SECONDS,
                    check=False,
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise SandboxError("unavailable", f"the sandbox's fork server did not start: {exc}") from None
        if launcher.returncode != 0:
            raise SandboxError(
                "unavailable", f"the sandbox's fork server did not start (exit {launcher.returncode}); see {path}.log"
            )
    finally:
        os.close(lock_fd)


def ensure_server(config: SandboxConfig) -> socket.socket:
    """A control connection to the fork server, starting it if nobody listens."""
    path = socket_path(config)
    try:
        return _connect(path)
    except (FileNotFoundError, ConnectionRefusedError):
        pass
    except OSError as exc:
        raise SandboxError("unavailable", f"cannot reach the sandbox at {path}: {exc}") from None
    with _start_lock:
        _start_server(path, config)
    try:
        return _connect(path)
    except OSError as exc:
        raise SandboxError("unavailable", f"cannot reach the sandbox at {path}: {exc}") from None


# --- one run ------------------------------------------------------------------------------------
class _Run:
    def __init__(self, config: SandboxConfig, handler: Handler) -> None:
        self.config = config
        self.handler = handler
        self.logs: list[dict[str, Any]] = []
        self.dropped_logs = 0
        self.layers: dict[str, Any] = {}
        self.control: socket.socket | None = None
        self.job: socket.socket | None = None
        self.pid = 0

    def error(self, code: str, message: str, traceback: str = "") -> SandboxError:
        return SandboxError(code, message, self.final_logs(), traceback)

    def final_logs(self) -> list[dict[str, Any]]:
        if self.dropped_logs:
            return [*self.logs, {"level": "warning", "message": f"{self.dropped_logs} more log lines dropped"}]
        return list(self.logs)

    def add_log(self, entry: Any) -> None:
        if not isinstance(entry, dict):
            raise self.error("protocol", "a log line that is not an object")
        if len(self.logs) >= MAX_LOG_LINES:
            self.dropped_logs += 1
            return
        level = str(entry.get("level", "info"))
        self.logs.append(
            {
                "level": level if level in ("debug", "info", "warning", "error") else "info",
                "message": str(entry.get("message", ""))[:MAX_LOG_CHARS],
            }
        )

    def start(self, *, require_complete: bool) -> None:
        """Hand the fork server one end of a new socketpair (it answers on `control` later)."""
        control = ensure_server(self.config)
        host_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        header = {
            "timeout": self.config.timeout_seconds,
            "memory_mb": self.config.memory_mb,
            "uid": self.config.uid,
            "max_output_bytes": self.config.max_output_bytes,
            "require_complete": require_complete,
            "skip_layers": list(self.config.skip_layers),
        }
        try:
            socket.send_fds(control, [protocol.encode(header)], [child_end.fileno()])
        except OSError as exc:
            host_end.close()
            control.close()
            raise _ServerGone(str(exc)) from None
        finally:
            child_end.close()
        control.setblocking(False)
        host_end.setblocking(False)
        self.control, self.job = control, host_end

    def close(self) -> None:
        # Closing the control connection before the child exited makes the server SIGKILL it.
        for sock in (self.job, self.control):
            if sock is not None:
                sock.close()

    def verdict(self, deadline: float) -> dict[str, Any]:
        """The fork server's word on how the child ended ({} if it cannot tell in time)."""
        assert self.control is not None
        while True:
            try:
                answer = protocol.recv(self.control, max_size=4096, deadline=deadline)
            except protocol.Closed:
                return {} if self.pid else {"gone": True}
            except (OSError, protocol.ProtocolError, protocol.DeadlineExceeded):
                return {}
            if isinstance(answer, dict) and "pid" in answer and not self.pid:
                self.pid = int(answer["pid"])
                continue
            return answer if isinstance(answer, dict) else {}

    def failure_from_exit(self, deadline: float) -> SandboxError:
        verdict = self.verdict(deadline)
        if verdict.get("gone") and not self.layers:
            raise _ServerGone("the fork server closed the connection without starting a child")
        if "error" in verdict:
            return self.error("unavailable", f"the sandbox's fork server refused the run: {verdict['error']}")
        if verdict.get("timed_out"):
            return self.error("timeout", f"the plugin ran over its {self.config.timeout_seconds:g} s limit")
        if verdict.get("signal") == 24:  # SIGXCPU: its CPU-seconds limit
            return self.error("timeout", "the plugin used up its CPU time")
        if "signal" in verdict:
            return self.error("crashed", f"the plugin's process was killed by signal {verdict['signal']}")
        if "exit" in verdict:
            return self.error("crashed", f"the plugin's process exited ({verdict['exit']}) without an answer")
        return self.error("crashed", "the plugin's process ended without an answer")

    def receive(self, deadline: float) -> Any:
        assert self.job is not None
        try:
            return protocol.recv(self.job, max_size=self.config.max_output_bytes + 4096, deadline=deadline)
        except protocol.Closed:
            raise self.failure_from_exit(deadline + GRACE_SECONDS) from None
        except protocol.DeadlineExceeded:
            raise self.error("timeout", f"the plugin ran over its {self.config.timeout_seconds:g} s limit") from None
        except protocol.ProtocolError as exc:
            raise self.error("protocol", f"the plugin's process sent a bad message: {exc}") from None
        except ConnectionResetError:
            raise self.failure_from_exit(deadline + GRACE_SECONDS) from None

    def answer_call(self, message: Mapping[str, Any], deadline: float) -> None:
        from skybot_plugin_sdk.errors import PluginError

        assert self.job is not None
        name, args = message.get("call"), message.get("args")
        if not isinstance(name, str) or not isinstance(args, dict):
            raise self.error("protocol", "a capability call without a name and arguments")
        try:
            reply: dict[str, Any] = {"ok": self.handler(name, args)}
        except PluginError as exc:
            reply = {"error": {"type": exc.code, "message": exc.message or str(exc)}}
        try:
            protocol.send(self.job, reply, deadline=deadline)
        except protocol.ProtocolError as exc:
            raise self.error("protocol", f"the answer to {name} cannot be sent: {exc}") from None
        except protocol.DeadlineExceeded:
            raise self.error("timeout", f"the plugin ran over its {self.config.timeout_seconds:g} s limit") from None
        except OSError:
            pass  # the child is gone; the next receive says how

    def converse(self, job: dict[str, Any], deadline: float, *, require_complete: bool) -> Any:
        assert self.job is not None
        # The job goes at once (the child reads it only once confined, after its hello): no round
        # trip waits for the fork server's pid or the child's hello.
        try:
            protocol.send(self.job, {"job": job}, deadline=deadline)
        except protocol.DeadlineExceeded:
            raise self.error("timeout", "the plugin did not take its job in time") from None
        except OSError:
            pass  # the child is gone; the next receive says how
        hello = self.receive(deadline)
        layers = hello.get("hello", {}).get("layers") if isinstance(hello, dict) else None
        if not isinstance(layers, dict):
            raise self.error("protocol", "the sandbox did not report its layers")
        self.layers = layers
        if require_complete and not layers_complete(layers):
            raise self.error("sandbox_incomplete", "missing: " + ", ".join(layers_missing(layers)))
        while True:
            message = self.receive(deadline)
            if not isinstance(message, dict):
                raise self.error("protocol", "a message that is not an object")
            if "log" in message:
                self.add_log(message["log"])
            elif "call" in message:
                self.answer_call(message, deadline)
            elif "result" in message:
                return message["result"]
            elif "error" in message:
                error = message["error"] if isinstance(message["error"], dict) else {}
                code = str(error.get("code", "plugin_error"))
                if code not in ("load_error", "plugin_error", "invalid_output", "sandbox_incomplete"):
                    code = "protocol"
                text = str(error.get("message", ""))[:2000]
                if code == "plugin_error" and text.startswith("MemoryError"):
                    code = "memory"
                raise self.error(code, text, str(error.get("traceback", ""))[:20_000])
            else:
                raise self.error("protocol", "a message of an unknown kind")


def run(
    *,
    package: bytes,
    sha256: str,
    entrypoint: str,
    op: str,
    payload: dict[str, Any],
    handler: Handler,
    config: SandboxConfig,
    require_complete: bool = True,
) -> SandboxResult:
    """Run `op` of the package's entrypoint in a fresh sandboxed child and answer its result.

    `handler(call, args)` answers the plugin's capability calls: its return value goes back to the
    plugin, a `PluginError` it raises reaches the plugin as that SDK error, any other exception
    kills the child and propagates. Failures raise `SandboxError` (see its codes).
    """
    started = time.perf_counter()
    if hashlib.sha256(package).hexdigest() != sha256.lower():
        raise SandboxError("checksum_mismatch", "the package's bytes do not match its sha256")
    if op not in OPS:
        raise SandboxError("protocol", f"unknown operation '{op}'")
    job = {"package": base64.b64encode(package).decode(), "entrypoint": entrypoint, "op": op, "payload": payload}
    for attempt in (1, 2):
        state = _Run(config, handler)
        try:
            state.start(require_complete=require_complete)
            deadline = time.monotonic() + config.timeout_seconds + GRACE_SECONDS
            value = state.converse(job, deadline, require_complete=require_complete)
            break
        except _ServerGone as exc:
            # The server was leaving (idle) as we came, before any child started: once more.
            if attempt == 2:
                raise SandboxError("unavailable", f"the sandbox's fork server did not answer: {exc}") from None
        finally:
            state.close()
    return SandboxResult(
        value=value,
        logs=state.final_logs(),
        duration_ms=(time.perf_counter() - started) * 1000,
        layers=state.layers,
    )


# --- what this host's sandbox applies -----------------------------------------------------------
_PROBE_SOURCE = b"from skybot_plugin_sdk import AgentPlugin\n\n\nclass Probe(AgentPlugin):\n    pass\n"
_status_cache: dict[tuple[Any, ...], SandboxStatus] = {}


def _probe_package() -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("plugin.json", '{"entrypoint": "skybot_sandbox_probe:Probe"}')
        archive.writestr("skybot_sandbox_probe.py", _PROBE_SOURCE)
    return buffer.getvalue()


def sandbox_status(config: SandboxConfig) -> SandboxStatus:
    """The layers a real child gets on this host (a built-in no-op runs once per process and
    config); raises SandboxError("unavailable") if the sandbox cannot start."""
    key = (config.uid, config.memory_mb, config.skip_layers, socket_path(config))
    cached = _status_cache.get(key)
    if cached is not None:
        return cached
    package = _probe_package()
    result = run(
        package=package,
        sha256=hashlib.sha256(package).hexdigest(),
        entrypoint="skybot_sandbox_probe:Probe",
        op="validate",
        payload={},
        handler=_refuse,
        config=config,
        require_complete=False,
    )
    status = SandboxStatus(
        layers=result.layers, complete=layers_complete(result.layers), missing=layers_missing(result.layers)
    )
    _status_cache[key] = status
    return status


def _refuse(call: str, args: dict[str, Any]) -> Any:
    from skybot_plugin_sdk.errors import PermissionDenied

    raise PermissionDenied(f"{call} is not available here")
