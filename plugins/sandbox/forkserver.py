"""The fork server: one long-lived process per host that forks a confined, single-use child per call.

Why a fork server: a forked child of a warm interpreter costs a few milliseconds, a fresh
interpreter ~27 ms. It is started by the first client that cannot connect (`client.ensure_server`),
with a minimal environment and `python -I`, pre-imports the SDK and the stdlib allow-list, builds
the Landlock ruleset and the seccomp program once (`confine.prepare`), moves itself into an empty
network namespace (root), binds its unix socket (0600, in a 0700 directory) and daemonizes: the
launcher exits 0 once the socket accepts, so the client knows it is ready.

A request: the client connects and sends one frame `{"timeout", "memory_mb", "uid",
"max_output_bytes", "require_complete"}` with one end of a socketpair as SCM_RIGHTS. The server
forks a child that inherits that socket (and nothing else: `confine` closes the rest), answers
`{"pid": n}`, kills the child at its wall-clock deadline (pidfd, SIGKILL), reaps it and answers
`{"exit": code}` or `{"signal": n, "timed_out": bool}`. If the client hangs up first, the child is
killed. The server never reads job data: package, config and input go from the host straight to the
child, so nothing of one tenant sits in the memory the next child is forked from.

One thread, one selector loop, any number of children at once (up to `max_children`); it exits
after `idle_seconds` without a request.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import selectors
import signal
import socket
import struct
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from . import protocol
from .child import main as child_main
from .child import preload
from .confine import SKIPPABLE_LAYERS, Prepared, prepare

HEADER_MAX_BYTES = 16_384
#: A connection must send its header within this time.
HEADER_SECONDS = 10.0
MAX_TIMEOUT_SECONDS = 600.0


def log(message: str) -> None:
    print(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} forkserver[{os.getpid()}] {message}", file=sys.stderr, flush=True)  # noqa: T201 - its log file


@dataclass
class Request:
    conn: socket.socket
    buffer: bytearray = field(default_factory=bytearray)
    job_fd: int = -1
    pid: int = 0
    pidfd: int = -1
    deadline: float = 0.0
    timed_out: bool = False
    client_gone: bool = False
    closed: bool = False
    accepted: float = field(default_factory=time.monotonic)


def parse_header(message: Any, *, is_root: bool) -> dict[str, Any]:
    """The request header, checked; ValueError for anything out of bounds."""
    if not isinstance(message, dict):
        raise ValueError("header is not an object")
    timeout = float(message["timeout"])
    memory_mb = int(message["memory_mb"])
    uid = int(message["uid"])
    max_output = int(message["max_output_bytes"])
    if not 0 < timeout <= MAX_TIMEOUT_SECONDS:
        raise ValueError("timeout out of bounds")
    if not 16 <= memory_mb <= 65_536:
        raise ValueError("memory_mb out of bounds")
    if is_root and uid <= 0:
        raise ValueError("the sandbox uid must not be root")
    if not 1 <= max_output <= protocol.MAX_FRAME_BYTES:
        raise ValueError("max_output_bytes out of bounds")
    return {
        "timeout": timeout,
        "memory_mb": memory_mb,
        "uid": uid,
        "max_output_bytes": max_output,
        "require_complete": bool(message.get("require_complete", True)),
        "skip_layers": skip_layers(message.get("skip_layers", [])),
    }


def skip_layers(value: Any) -> list[str]:
    """The layers an operator switched off (PLUGINS_SANDBOX_SKIP_LAYERS), checked against the names."""
    if not isinstance(value, list) or not all(isinstance(name, str) and name in SKIPPABLE_LAYERS for name in value):
        raise ValueError(f"skip_layers must name some of {', '.join(SKIPPABLE_LAYERS)}")
    return sorted(set(value))


class ForkServer:
    def __init__(self, *, socket_path: str, idle_seconds: float, max_children: int, prepared: Prepared) -> None:
        self.socket_path = socket_path
        self.idle_seconds = idle_seconds
        self.max_children = max_children
        self.prepared = prepared
        self.selector = selectors.DefaultSelector()
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.requests: dict[int, Request] = {}  # by control connection fd
        self.running: dict[int, Request] = {}  # by pidfd
        self.last_activity = time.monotonic()
        self.inode = 0
        self.draining = False

    # --- setup ------------------------------------------------------------------------------
    def bind(self) -> None:
        old_umask = os.umask(0o177)
        try:
            self.listener.bind(self.socket_path)
        finally:
            os.umask(old_umask)
        os.chmod(self.socket_path, 0o600)
        self.inode = os.stat(self.socket_path).st_ino
        self.listener.listen(128)
        self.listener.setblocking(False)
        self.selector.register(self.listener, selectors.EVENT_READ, None)

    def unlink(self) -> None:
        with contextlib.suppress(OSError):
            if os.stat(self.socket_path).st_ino == self.inode:
                os.unlink(self.socket_path)

    # --- the loop ---------------------------------------------------------------------------
    def serve_forever(self) -> None:
        while True:
            now = time.monotonic()
            wait = self.idle_seconds - (now - self.last_activity) if not self.running else self.idle_seconds
            deadlines = [req.deadline for req in self.running.values() if not req.timed_out]
            deadlines += [req.accepted + HEADER_SECONDS for req in self.requests.values() if not req.pid]
            if deadlines:
                wait = min(wait, min(deadlines) - now)
            if self.draining:
                wait = 0.0
            events = self.selector.select(max(wait, 0.0))
            for key, _ in events:
                try:
                    self.dispatch(key.data)
                except Exception as exc:  # noqa: BLE001 - one bad request must not end the server
                    log(f"error serving a request: {exc!r}")
                    if isinstance(key.data, Request):
                        self.drop_client(key.data)
            self.kill_overdue()
            self.drop_silent()
            if not self.running and not self.requests:
                if self.draining and not events:
                    return
                if time.monotonic() - self.last_activity >= self.idle_seconds and not self.draining:
                    # Stop taking new connections, then serve those already queued before leaving.
                    log("idle: exiting")
                    self.unlink()
                    self.draining = True

    def dispatch(self, data: Any) -> None:
        if data is None:
            self.accept()
        elif isinstance(data, Request):
            if not data.closed and not data.client_gone:
                self.on_conn(data)
        elif data in self.running:  # a pidfd: the child ended
            self.on_exit(data)

    def accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                log(f"accept failed: {exc}")
                return
            self.last_activity = time.monotonic()
            uid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))[1]
            if uid not in (0, os.geteuid()):
                conn.close()
                continue
            conn.setblocking(False)
            request = Request(conn=conn)
            self.requests[conn.fileno()] = request
            self.selector.register(conn, selectors.EVENT_READ, request)

    def on_conn(self, request: Request) -> None:
        conn = request.conn
        if request.pid:
            # Anything from the client while its child runs means it hung up (or misbehaves).
            with contextlib.suppress(OSError):
                if conn.recv(1):
                    pass
            self.drop_client(request)
            return
        try:
            data, fds, _flags, _addr = socket.recv_fds(conn, HEADER_MAX_BYTES, 2)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data, fds = b"", []
        for fd in fds:
            if request.job_fd < 0:
                request.job_fd = fd
            else:
                os.close(fd)
        if not data:
            self.close_request(request)
            return
        request.buffer += data
        if len(request.buffer) < 4:
            return
        (size,) = protocol.HEADER.unpack(request.buffer[:4])
        if size > HEADER_MAX_BYTES:
            self.refuse(request, "header too large")
            return
        if len(request.buffer) < 4 + size:
            return
        try:
            header = parse_header(protocol.decode(bytes(request.buffer[4 : 4 + size])), is_root=self.prepared.is_root)
        except (protocol.ProtocolError, ValueError, KeyError, TypeError) as exc:
            self.refuse(request, f"bad header: {exc}")
            return
        if request.job_fd < 0:
            self.refuse(request, "no job socket")
            return
        if len(self.running) >= self.max_children:
            self.refuse(request, "busy")
            return
        self.start_child(request, header)

    def start_child(self, request: Request, header: dict[str, Any]) -> None:
        try:
            pid = os.fork()
        except OSError as exc:
            self.refuse(request, f"cannot fork: {exc}")
            return
        if pid == 0:  # the child: never returns
            try:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                child_main(job_fd=request.job_fd, prepared=self.prepared, header=header)
            finally:
                os._exit(70)
        os.close(request.job_fd)
        request.job_fd = -1
        request.pid = pid
        request.pidfd = os.pidfd_open(pid)
        request.deadline = time.monotonic() + header["timeout"]
        self.running[request.pidfd] = request
        self.selector.register(request.pidfd, selectors.EVENT_READ, request.pidfd)
        try:
            request.conn.send(protocol.encode({"pid": pid}))
        except OSError:
            self.drop_client(request)

    def kill_overdue(self) -> None:
        now = time.monotonic()
        for request in self.running.values():
            if not request.timed_out and request.deadline <= now:
                request.timed_out = True
                with contextlib.suppress(ProcessLookupError):
                    signal.pidfd_send_signal(request.pidfd, signal.SIGKILL)

    def drop_silent(self) -> None:
        """A connection that sent no header in time is closed (it would keep the server alive)."""
        limit = time.monotonic() - HEADER_SECONDS
        for request in [req for req in self.requests.values() if not req.pid and req.accepted < limit]:
            self.close_request(request)

    def on_exit(self, pidfd: int) -> None:
        request = self.running.pop(pidfd)
        self.selector.unregister(pidfd)
        _, status = os.waitpid(request.pid, 0)
        os.close(pidfd)
        self.last_activity = time.monotonic()
        if os.WIFSIGNALED(status):
            answer: dict[str, Any] = {"signal": os.WTERMSIG(status), "timed_out": request.timed_out}
        else:
            answer = {"exit": os.WEXITSTATUS(status)}
        if not request.client_gone:
            with contextlib.suppress(OSError):
                request.conn.send(protocol.encode(answer))
        self.close_request(request)

    def drop_client(self, request: Request) -> None:
        """The client went away: its child has nobody to answer to."""
        if request.client_gone:
            return
        request.client_gone = True
        with contextlib.suppress(KeyError, ValueError):
            self.selector.unregister(request.conn)
        if request.pidfd >= 0 and request.pidfd in self.running:
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(request.pidfd, signal.SIGKILL)

    def refuse(self, request: Request, reason: str) -> None:
        with contextlib.suppress(OSError):
            request.conn.send(protocol.encode({"error": reason}))
        self.close_request(request)

    def close_request(self, request: Request) -> None:
        if request.closed:
            return
        request.closed = True
        if request.job_fd >= 0:
            os.close(request.job_fd)
            request.job_fd = -1
        fd = request.conn.fileno()
        if fd >= 0:
            self.requests.pop(fd, None)
            if not request.client_gone:
                with contextlib.suppress(KeyError, ValueError):
                    self.selector.unregister(request.conn)
        request.conn.close()

    def shutdown(self) -> None:
        for request in list(self.running.values()):
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(request.pidfd, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(request.pid, 0)
        self.unlink()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The plugin sandbox's fork server.")
    parser.add_argument("--socket", required=True)
    parser.add_argument("--idle-seconds", type=float, default=300.0)
    parser.add_argument("--max-children", type=int, default=64)
    parser.add_argument("--foreground", action="store_true", help="do not daemonize (for debugging)")
    args = parser.parse_args(argv)

    ready_read, ready_write = os.pipe()
    if not args.foreground and os.fork() != 0:
        # The launcher: exit 0 once the server accepts (the client may go on), 1 if it failed.
        os.close(ready_write)
        os._exit(0 if os.read(ready_read, 1) == b"1" else 1)
    os.close(ready_read)

    failed = preload()
    prepared = prepare()
    server = ForkServer(
        socket_path=args.socket, idle_seconds=args.idle_seconds, max_children=args.max_children, prepared=prepared
    )
    server.bind()
    log(
        f"listening on {args.socket} (landlock ABI {prepared.landlock}, seccomp {prepared.seccomp is not None}, "
        f"own netns {prepared.shared_netns}; not preloaded: {', '.join(failed) or 'none'})"
    )
    # Everything loaded so far is shared by every child: keep the collector off those pages.
    gc.collect()
    gc.freeze()
    os.write(ready_write, b"1")
    os.close(ready_write)

    def stop(signum: int, frame: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever()
    except (SystemExit, KeyboardInterrupt):
        pass
    finally:
        server.shutdown()
    os._exit(0)
