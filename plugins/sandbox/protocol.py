"""The wire format between the host, the fork server and a sandboxed child.

A frame is a 4-byte big-endian length followed by that many bytes of UTF-8 JSON. Every reader
names the largest frame it accepts: garbage, an oversize length or a stream that ends inside a
frame raise `ProtocolError`; a stream that ends cleanly between frames raises `Closed`.

Deadlines are absolute `time.monotonic()` values and need a non-blocking socket (the host side);
without one (`deadline=None`) the socket is used as it is (the child blocks, the fork server kills
it at its deadline).
"""

from __future__ import annotations

import json
import select
import socket
import struct
import time
from typing import Any

HEADER = struct.Struct(">I")
#: The largest frame anyone accepts unless told otherwise (a job carries the package, base64).
MAX_FRAME_BYTES = 16 * 1024 * 1024


class ProtocolError(Exception):
    """The peer sent something that is not a frame we accept."""


class Closed(ProtocolError):
    """The peer closed the stream between two frames."""


class DeadlineExceeded(TimeoutError):
    """The deadline passed before the frame was sent or received whole."""


def encode(message: Any, *, max_size: int = MAX_FRAME_BYTES) -> bytes:
    """One frame for `message` (JSON values only); ProtocolError if it is too large or not JSON."""
    try:
        body = json.dumps(message, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
    except (TypeError, ValueError) as exc:
        raise ProtocolError(f"not a JSON value: {exc}") from None
    if len(body) > max_size:
        raise ProtocolError(f"frame of {len(body)} bytes is over the {max_size}-byte limit")
    return HEADER.pack(len(body)) + body


def decode(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ProtocolError("frame is not UTF-8 JSON") from None


def _wait(sock: socket.socket, event: int, deadline: float | None) -> None:
    if deadline is None:
        return
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise DeadlineExceeded("deadline passed")
    poller = select.poll()
    poller.register(sock, event)
    if not poller.poll(max(1, int(remaining * 1000 + 0.5))) and time.monotonic() >= deadline:
        raise DeadlineExceeded("deadline passed")


def send(sock: socket.socket, message: Any, *, deadline: float | None = None, max_size: int = MAX_FRAME_BYTES) -> None:
    """Send one frame; raises ProtocolError (too large), DeadlineExceeded or OSError."""
    send_bytes(sock, encode(message, max_size=max_size), deadline=deadline)


def send_bytes(sock: socket.socket, data: bytes, *, deadline: float | None = None) -> None:
    view = memoryview(data)
    while view:
        try:
            sent = sock.send(view)
        except BlockingIOError:
            _wait(sock, select.POLLOUT, deadline)
            continue
        view = view[sent:]


def _recv_exactly(sock: socket.socket, size: int, deadline: float | None, *, at_boundary: bool) -> bytes:
    buffer = bytearray(size)
    view = memoryview(buffer)
    got = 0
    while got < size:
        try:
            count = sock.recv_into(view[got:], size - got)
        except BlockingIOError:
            _wait(sock, select.POLLIN, deadline)
            continue
        if count == 0:
            if at_boundary and got == 0:
                raise Closed("peer closed the stream")
            raise ProtocolError(f"stream ended inside a frame ({got} of {size} bytes)")
        got += count
    return bytes(buffer)


def recv(sock: socket.socket, *, max_size: int = MAX_FRAME_BYTES, deadline: float | None = None) -> Any:
    """Receive one frame and answer its JSON value.

    Raises Closed (clean end of stream), ProtocolError (garbage, oversize, truncated),
    DeadlineExceeded or OSError.
    """
    (size,) = HEADER.unpack(_recv_exactly(sock, HEADER.size, deadline, at_boundary=True))
    if size > max_size:
        raise ProtocolError(f"frame of {size} bytes is over the {max_size}-byte limit")
    return decode(_recv_exactly(sock, size, deadline, at_boundary=False))
