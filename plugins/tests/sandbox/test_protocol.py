"""The frame format: 4-byte big-endian length + UTF-8 JSON; bad input raises, never hangs."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from plugins.sandbox import protocol


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    left, right = socket.socketpair()
    yield left, right
    left.close()
    right.close()


def test_a_frame_round_trips(pair: tuple[socket.socket, socket.socket]) -> None:
    left, right = pair
    protocol.send(left, {"call": "storage.get", "args": {"key": "é"}})
    assert protocol.recv(right) == {"call": "storage.get", "args": {"key": "é"}}
    assert protocol.encode([1])[:4] == b"\x00\x00\x00\x03"


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"\x00\x00\x00\x05{{{{{", "not UTF-8 JSON"),
        (b"\x00\x00\x00\x02\xff\xfe", "not UTF-8 JSON"),
        (b"\x7f\xff\xff\xff", "over the 1000-byte limit"),
        (b"\x00\x00\x00\x10{}", "stream ended inside a frame"),
        (b"\x00\x00", "stream ended inside a frame"),
    ],
)
def test_bad_frames_raise_a_protocol_error(pair: tuple[socket.socket, socket.socket], data: bytes, error: str) -> None:
    left, right = pair
    left.sendall(data)
    left.close()
    with pytest.raises(protocol.ProtocolError, match=error):
        protocol.recv(right, max_size=1000)


def test_a_clean_end_between_frames_is_closed(pair: tuple[socket.socket, socket.socket]) -> None:
    left, right = pair
    left.close()
    with pytest.raises(protocol.Closed):
        protocol.recv(right)


def test_recv_keeps_its_deadline(pair: tuple[socket.socket, socket.socket]) -> None:
    _left, right = pair
    right.setblocking(False)
    started = time.monotonic()
    with pytest.raises(protocol.DeadlineExceeded):
        protocol.recv(right, deadline=time.monotonic() + 0.1)
    assert time.monotonic() - started < 0.5


def test_encode_refuses_what_is_not_json_or_too_large() -> None:
    with pytest.raises(protocol.ProtocolError):
        protocol.encode({"x": object()})
    with pytest.raises(protocol.ProtocolError):
        protocol.encode(float("nan"))
    with pytest.raises(protocol.ProtocolError):
        protocol.encode("x" * 100, max_size=50)
