"""Webhook → WebSocket: how long after Meta's POST a signed-in browser's socket gets the message.

`listeners` sockets of a signed-in person's session open `/ws/inbox/` on the ASGI server (daphne, as
production runs it) with the session cookie and the site's Origin, in a process of their own.
Meanwhile this process POSTs signed webhooks at a steady rate, one new message per webhook, each
with a unique WhatsApp message id, and notes when it sent each one. A message's latency, for each
socket, is the time from its POST to the socket's `message.created` event naming its id; both ends
read the same machine's clock.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import multiprocessing
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.sharedctypes import SynchronizedArray
from multiprocessing.synchronize import Event
from typing import Any

from websockets.asyncio.client import connect
from websockets.typing import Origin

MessageBuilder = Callable[[str, str, str, int], bytes]


@dataclass
class Figures:
    prefix: str = ""  # every WhatsApp message id of the run starts with it
    sent: int = 0
    acked: int = 0
    non2xx: int = 0
    errors: int = 0
    send_seconds: float = 0.0
    ack_ms: list[float] = field(default_factory=list)
    latency_ms: list[float] = field(default_factory=list)  # one per (socket, message) delivered
    received: list[int] = field(default_factory=list)  # messages each socket got
    sent_at: dict[str, float] = field(default_factory=dict)  # wamid → when its POST started
    arrivals: list[dict[str, float]] = field(default_factory=list)  # per socket: wamid → arrival


# --- the listening process -------------------------------------------------------------------------


async def _listen(
    index: int, url: str, cookie: str, origin: str, prefix: str, ready: Any, stop: Event, counts: SynchronizedArray
) -> dict[str, float]:
    arrivals: dict[str, float] = {}
    async with connect(url, additional_headers={"Cookie": cookie}, origin=Origin(origin), max_size=None) as socket:
        first = json.loads(await socket.recv())
        if first.get("event") != "ready":
            raise SystemExit(f"socket {index} was not let in: {first}")
        ready.release()
        while not stop.is_set():
            try:
                raw = await asyncio.wait_for(socket.recv(), timeout=0.2)
            except TimeoutError:
                continue
            arrived = time.time()
            event = json.loads(raw)
            if event.get("event") == "message.created":
                external_id = str(event["data"].get("external_id") or "")
                if external_id.startswith(prefix) and external_id not in arrivals:
                    arrivals[external_id] = arrived
                    counts[index] += 1
    return arrivals


def _listening_process(
    url: str,
    cookie: str,
    origin: str,
    prefix: str,
    listeners: int,
    ready: Any,
    stop: Event,
    counts: SynchronizedArray,
    results: Any,
) -> None:
    async def all_sockets() -> list[dict[str, float]]:
        return await asyncio.gather(
            *(_listen(i, url, cookie, origin, prefix, ready, stop, counts) for i in range(listeners))
        )

    results.put(asyncio.run(all_sockets()))


# --- the sending side ------------------------------------------------------------------------------


async def _post(host: str, port: int, request: bytes) -> tuple[int, float]:
    """Send one prepared request on a new connection (gunicorn's sync workers close each one)."""
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(request)
    await writer.drain()
    answer = await reader.read()
    writer.close()
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0
    return status, (time.perf_counter() - started) * 1000


def _requests(
    *, host: str, prefix: str, count: int, contacts: int, secret: str, build: MessageBuilder
) -> list[tuple[str, bytes]]:
    now = int(time.time())
    prepared = []
    for index in range(count):
        wamid = f"{prefix}{index:07d}"
        body = build(wamid, f"1650666{index % contacts:04d}", f"Socket message {index}", now)
        signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        head = (
            "POST /webhooks/whatsapp HTTP/1.1\r\n"
            f"Host: {host}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"X-Hub-Signature-256: {signature}\r\nConnection: close\r\n\r\n"
        )
        prepared.append((wamid, head.encode() + body))
    return prepared


async def _send_paced(host: str, port: int, requests: list[tuple[str, bytes]], rate: float, figures: Figures) -> None:
    loop = asyncio.get_running_loop()

    async def one(wamid: str, request: bytes) -> None:
        figures.sent_at[wamid] = time.time()
        try:
            status, ack_ms = await _post(host, port, request)
        except OSError:
            figures.errors += 1
            return
        figures.ack_ms.append(ack_ms)
        if status == 200:
            figures.acked += 1
        else:
            figures.non2xx += 1

    tasks = []
    started = loop.time()
    for index, (wamid, request) in enumerate(requests):
        delay = started + index / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(wamid, request)))
    figures.send_seconds = loop.time() - started
    await asyncio.gather(*tasks)
    figures.sent = len(requests)


def measure(
    *,
    http_port: int,
    socket_port: int,
    cookie: str,
    rate: float,
    seconds: float,
    listeners: int,
    secret: str,
    build: MessageBuilder,
    contacts: int = 500,
    wait_seconds: float = 30.0,
) -> Figures:
    """Send `rate` webhooks a second for `seconds` while `listeners` signed-in sockets watch the inbox."""
    host = "127.0.0.1"
    prefix = f"wamid.SOCKET{int(time.time())}x"
    requests = _requests(
        host=host, prefix=prefix, count=int(rate * seconds), contacts=contacts, secret=secret, build=build
    )
    ready = multiprocessing.Semaphore(0)
    stop = multiprocessing.Event()
    counts: SynchronizedArray = multiprocessing.Array("i", listeners)
    results: Any = multiprocessing.Queue()
    listening = multiprocessing.Process(
        target=_listening_process,
        args=(
            f"ws://{host}:{socket_port}/ws/inbox/",
            cookie,
            f"http://{host}:{http_port}",
            prefix,
            listeners,
            ready,
            stop,
            counts,
            results,
        ),
    )
    listening.start()
    figures = Figures(prefix=prefix)
    try:
        for _ in range(listeners):
            if not ready.acquire(timeout=30):
                raise SystemExit("the signed-in sockets did not open within 30 s")
        asyncio.run(_send_paced(host, http_port, requests, rate, figures))
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline and min(counts[:]) < figures.acked:
            time.sleep(0.1)
        stop.set()
        figures.arrivals = results.get(timeout=30)
    finally:
        stop.set()
        listening.join(timeout=10)
        if listening.is_alive():
            listening.kill()
    figures.received = [len(arrivals) for arrivals in figures.arrivals]
    for arrivals in figures.arrivals:
        figures.latency_ms += [(arrived - figures.sent_at[w]) * 1000 for w, arrived in arrivals.items()]
    return figures
