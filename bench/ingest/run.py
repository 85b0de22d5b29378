"""Benchmark the WhatsApp ingest path in the production layout on this machine.

PostgreSQL + Redis, gunicorn sync workers serving HTTP (as the README's production section runs
it), one Celery worker. wrk sends pre-signed unique notifications plus a share of redeliveries
(a Python load generator would eat the CPU being measured), then we wait for processing to finish
and print: acknowledged webhooks/s, ack latency p50/p99, messages processed/s end to end, messages
lost, duplicates created, and a no-op endpoint's requests/s in the same run with the ratio.

Then webhook → WebSocket (`socket_latency.py`): daphne serves `/ws/inbox/` as in production, a
person signed in with their password watches the inbox on `--listeners` sockets, and webhooks
arrive at a steady `--socket-rate` a second for `--socket-seconds`, one new message each. Printed:
p50/p99/max from each POST to the socket's event, messages sent / received / missing, ack p99 at
that rate, where the time goes (web, the drain, the way to the socket) and the production
histogram `skybot_realtime_delivery_seconds` as daphne counted it.

Usage: .venv/bin/python bench/ingest/run.py [--seconds 15] [--connections 32] [--workers 4]
       [--socket-rate 200] [--socket-seconds 20] [--listeners 2] [--socket-only]
Needs: wrk (apt-get install wrk), PostgreSQL and Redis on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.common import percentile, wait_for_http  # noqa: E402
from bench.common import wrk as run_wrk  # noqa: E402
from bench.ingest import socket_latency  # noqa: E402

HERE = Path(__file__).resolve().parent
PHONE_NUMBER_ID = "106540352242922"
APP_SECRET = "bench-app-secret"
PORT = 8791
SOCKET_PORT = 8792
DB_NAME = "skybot_bench"
PERSON_EMAIL = "bench-socket@bench.test"
PASSWORD = "Bench-ingest-sign-in-5903"  # a throwaway person of the benchmark database


def environment(args: argparse.Namespace) -> dict[str, str]:
    # A throwaway database: a fixed key lets you inspect it (or profile against it) afterwards.
    key = base64.urlsafe_b64encode(hashlib.sha256(b"skybot-bench").digest()).decode()
    return {
        **os.environ,
        "DJANGO_ENV": "production",
        "DJANGO_SETTINGS_MODULE": "skybot_inbox.settings.base",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
        "REDIS_URL": "redis://127.0.0.1:6379/15",
        "SECRET_KEY": base64.b64encode(os.urandom(48)).decode(),
        "JWT_SIGNING_KEY": base64.b64encode(os.urandom(48)).decode(),
        "ENCRYPTION_KEY": f"bench:{key}",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "WHATSAPP_APP_SECRET": APP_SECRET,
        "LOG_LEVEL": args.log_level,
        "METRICS_ALLOWED_IPS": "127.0.0.1",
    }


def run(cmd: list[str], env: dict[str, str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, env=env, cwd=ROOT, check=True, text=True, capture_output=True, **kwargs)  # type: ignore[call-overload]


def notification(wamid: str, sender: str, text: str, timestamp: int) -> bytes:
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
                            "contacts": [{"profile": {"name": f"Customer {sender[-4:]}"}, "wa_id": sender}],
                            "messages": [
                                {
                                    "from": sender,
                                    "id": wamid,
                                    "timestamp": str(timestamp),
                                    "type": "text",
                                    "text": {"body": text},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def write_bodies(path: Path, count: int, redelivery_share: float, contacts: int) -> int:
    """Write `count` signed requests; about `redelivery_share` of them repeat an earlier one."""
    rng = random.Random(7)
    sent: list[bytes] = []
    unique = 0
    now = int(time.time())
    with path.open("w") as out:
        for index in range(count):
            if sent and rng.random() < redelivery_share:
                body = rng.choice(sent)
            else:
                sender = f"1650555{rng.randrange(contacts):04d}"
                body = notification(f"wamid.BENCH{index:09d}", sender, f"Message {index}", now)
                sent.append(body)
                unique += 1
            signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
            out.write(f"{signature}\t{body.decode()}\n")
    return unique


def wrk(path: str, *, seconds: int, connections: int, script: list[str] | None = None) -> dict[str, float]:
    return run_wrk(
        f"http://127.0.0.1:{PORT}{path}",
        seconds=seconds,
        connections=connections,
        script=script[0] if script else None,
        script_args=script[1:] if script else (),
    )


def sql(query: str) -> str:
    return subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", DB_NAME, "-tAc", query],
        check=True,
        text=True,
        capture_output=True,
    ).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=15, help="how long wrk sends webhooks")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--concurrency", type=int, default=2, help="processes of the one Celery worker")
    parser.add_argument("--redeliveries", type=float, default=0.1, help="share of requests that repeat a notification")
    parser.add_argument("--log-level", default="WARNING")
    parser.add_argument("--socket-rate", type=float, default=200, help="webhooks/s while sockets listen")
    parser.add_argument("--socket-seconds", type=float, default=20, help="0: no webhook → WebSocket step")
    parser.add_argument("--listeners", type=int, default=2, help="signed-in sockets on the inbox feed")
    parser.add_argument("--socket-only", action="store_true", help="only the webhook → WebSocket step")
    parser.add_argument("--logs", type=Path, help="write each server's output to DIR/<server>.log")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")

    env = environment(args)
    python = str(ROOT / ".venv" / "bin" / "python")
    bindir = ROOT / ".venv" / "bin"
    print("== preparing database and data", flush=True)
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", DB_NAME], check=True)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", DB_NAME], check=True)
    subprocess.run(["redis-cli", "-n", "15", "FLUSHDB"], check=True, capture_output=True)
    run([python, "manage.py", "migrate", "--no-input"], env)
    run(
        [
            python,
            "manage.py",
            "shell",
            "-c",
            "from accounts.models import Account, Role; from accounts.principals import Principal;"
            "from accounts.services.users import user_create; from inbox.models import Channel;"
            "a=Account.objects.create(name='Bench', slug='bench');"
            f"Channel.objects.create(account=a, phone_number_id='{PHONE_NUMBER_ID}',"
            " display_phone_number='15550783881', access_token='x');"
            f"user_create(account=a, email='{PERSON_EMAIL}', password='{PASSWORD}', role=Role.USER,"
            " full_name='Bench agent', actor=Principal.platform_key())",
        ],
        env,
    )
    workdir = Path(tempfile.mkdtemp(prefix="skybot-bench-"))
    bodies = workdir / "bodies.tsv"
    count = max(20000, int(args.seconds * 2500))
    if not args.socket_only:
        unique = write_bodies(bodies, count, args.redeliveries, contacts=2000)
        print(f"   {count} pre-signed requests ({unique} unique notifications)", flush=True)

    procs: list[subprocess.Popen[bytes]] = []
    throughput: dict[str, Any] | None = None
    socket: SocketRun | None = None
    try:
        procs.append(
            subprocess.Popen(
                [
                    str(bindir / "gunicorn"),
                    "skybot_inbox.wsgi:application",
                    "--workers",
                    str(args.workers),
                    "--bind",
                    f"127.0.0.1:{PORT}",
                    "--log-level",
                    "warning",
                ],
                env=env,
                cwd=ROOT,
                stdout=server_log(args, "gunicorn"),
                stderr=subprocess.STDOUT,
            )
        )
        wait_for_http(f"http://127.0.0.1:{PORT}/api/health", seconds=30)
        if args.socket_only:
            procs.append(start_celery(env, args))
        else:
            throughput = throughput_step(env, args, bodies, procs)
        if args.socket_seconds > 0:
            socket = socket_step(env, args, procs)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(workdir, ignore_errors=True)

    if throughput is not None:
        print_throughput(args, **throughput)
    if socket is not None:
        print_socket(args, socket)


def server_log(args: argparse.Namespace, name: str) -> Any:
    """Where a server's output goes: DIR/<name>.log with --logs DIR, else nowhere."""
    if args.logs is None:
        return subprocess.DEVNULL
    args.logs.mkdir(parents=True, exist_ok=True)
    return (args.logs / f"{name}.log").open("ab")


def start_celery(env: dict[str, str], args: argparse.Namespace) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "celery"),
            "-A",
            "skybot_inbox",
            "worker",
            "--concurrency",
            str(args.concurrency),
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        env=env,
        cwd=ROOT,
        stdout=server_log(args, "celery"),
        stderr=subprocess.STDOUT,
    )


def throughput_step(
    env: dict[str, str], args: argparse.Namespace, bodies: Path, procs: list[subprocess.Popen[bytes]]
) -> dict[str, Any]:
    print("== no-op endpoint (/api/health)", flush=True)
    wrk("/api/health", seconds=3, connections=args.connections)  # warm-up
    noop = wrk("/api/health", seconds=10, connections=args.connections)

    print("== webhooks (worker not yet running: the ack path alone)", flush=True)
    hook = wrk(
        "/webhooks/whatsapp",
        seconds=args.seconds,
        connections=args.connections,
        script=[str(HERE / "wrk_webhook.lua"), str(bodies), "2"],
    )
    acked = int(sql("SELECT count(*) FROM inbox_inboundwebhookevent"))

    print("== processing with one Celery worker", flush=True)
    started = time.monotonic()
    procs.append(start_celery(env, args))
    # Processed/s: from the first poll that sees progress until the queue is empty, so the
    # worker's start-up time does not count.
    pending = acked
    first_progress: tuple[float, int] | None = None
    finished = time.monotonic()
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        pending = int(sql("SELECT count(*) FROM inbox_inboundwebhookevent WHERE status = 'pending'"))
        now = time.monotonic()
        if first_progress is None and pending < acked:
            first_progress = (now, pending)
        if pending == 0:
            finished = now
            break
        time.sleep(0.2)
    since, remaining = first_progress or (started, acked)
    wamid_path = "{entry,0,changes,0,value,messages,0,id}"
    return {
        "noop": noop,
        "hook": hook,
        "acked": acked,
        "pending": pending,
        "processing_seconds": max(finished - since, 0.2),
        "drained_count": remaining,
        "sent_wamids": int(
            sql(f"SELECT count(DISTINCT (body::jsonb #>> '{wamid_path}')) FROM inbox_inboundwebhookevent")
        ),
        "messages": int(sql("SELECT count(*) FROM inbox_message")),
        "distinct": int(sql("SELECT count(DISTINCT (channel_id, external_id)) FROM inbox_message")),
    }


def print_throughput(
    args: argparse.Namespace,
    *,
    noop: dict[str, float],
    hook: dict[str, float],
    acked: int,
    pending: int,
    processing_seconds: float,
    drained_count: int,
    sent_wamids: int,
    messages: int,
    distinct: int,
) -> None:
    print()
    print("SkyBot Inbox ingest benchmark (gunicorn", args.workers, "sync workers, PostgreSQL, Redis, 1 Celery worker)")
    print(f"  connections                 {args.connections}")
    requests, non2xx = int(hook["requests"]), int(hook["non2xx"])
    print(f"  acknowledged webhooks/s     {hook['rps']:.0f}  ({requests} requests, {non2xx} non-2xx)")
    print(f"  ack latency p50 / p99       {hook.get('p50', 0):.2f} ms / {hook.get('p99', 0):.2f} ms")
    print(f"  stored deliveries           {acked}")
    rate = drained_count / processing_seconds
    print(f"  messages processed/s        {rate:.0f}  ({drained_count} deliveries in {processing_seconds:.1f} s)")
    print(
        f"  messages lost               {sent_wamids - messages}"
        + ("" if pending == 0 else f"  ({pending} deliveries still pending)")
    )
    print(f"  duplicates created          {messages - distinct}")
    noop_latency = f"p50 {noop.get('p50', 0):.2f} ms, p99 {noop.get('p99', 0):.2f} ms"
    print(f"  no-op (/api/health) req/s   {noop['rps']:.0f}  ({noop_latency})")
    print(f"  ratio webhook / no-op       {hook['rps'] / noop['rps']:.2f}")


# --- webhook → WebSocket ---------------------------------------------------------------------------


@dataclass
class SocketRun:
    figures: socket_latency.Figures
    stages: dict[str, list[float]]  # stage → milliseconds per message
    batches: int  # drain batches that processed the run's deliveries
    histogram: dict[str, float]  # daphne's skybot_realtime_delivery_seconds: le → cumulative count
    load: tuple[float, float]  # load average (1 min) before and after
    cpu: dict[str, float]  # CPU seconds each of our servers used during the step
    busy: float  # share of the machine's CPU time that was busy during the step


def socket_step(env: dict[str, str], args: argparse.Namespace, procs: list[subprocess.Popen[bytes]]) -> SocketRun:
    print("== webhook → WebSocket (daphne, signed-in sockets, paced webhooks)", flush=True)
    procs.append(
        subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "daphne"),
                "-b",
                "127.0.0.1",
                "-p",
                str(SOCKET_PORT),
                "skybot_inbox.asgi:application",
            ],
            env=env,
            cwd=ROOT,
            stdout=server_log(args, "daphne"),
            stderr=subprocess.STDOUT,
        )
    )
    wait_for_http(f"http://127.0.0.1:{SOCKET_PORT}/api/health", seconds=30)
    cookie = session_cookie(env)
    last_event = int(sql("SELECT coalesce(max(id), 0) FROM inbox_inboundwebhookevent"))
    load_before = os.getloadavg()[0]
    ours = {"gunicorn (4 workers)": procs[0].pid, "celery worker": procs[1].pid, "daphne": procs[-1].pid}
    cpu_before = {name: cpu_seconds(pid) for name, pid in ours.items()}
    machine_before = machine_cpu()
    figures = socket_latency.measure(
        http_port=PORT,
        socket_port=SOCKET_PORT,
        cookie=cookie,
        rate=args.socket_rate,
        seconds=args.socket_seconds,
        listeners=args.listeners,
        secret=APP_SECRET,
        build=notification,
    )
    load_after = os.getloadavg()[0]
    machine_after = machine_cpu()
    cpu = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in ours.items()}
    busy = (machine_after[0] - machine_before[0]) / max(machine_after[1] - machine_before[1], 1)

    # Where the time goes, per message: the POST until its row was stored (received_at), until its
    # drain batch stamped it processed (processed_at: the batch's work done, before its commit),
    # and from there to the first socket.
    wamid_path = "{entry,0,changes,0,value,messages,0,id}"
    rows = sql(
        f"SELECT body::jsonb #>> '{wamid_path}', extract(epoch FROM received_at), extract(epoch FROM processed_at)"
        f" FROM inbox_inboundwebhookevent WHERE id > {last_event} AND processed_at IS NOT NULL"
    )
    first_arrival: dict[str, float] = {}
    for arrivals in figures.arrivals:
        for wamid, arrived in arrivals.items():
            first_arrival[wamid] = min(arrived, first_arrival.get(wamid, arrived))
    stages: dict[str, list[float]] = {"web": [], "drain": [], "socket": []}
    batches = set()
    for line in rows.splitlines():
        wamid, received, processed = line.split("|")
        if wamid not in figures.sent_at:
            continue
        batches.add(processed)
        stages["web"].append((float(received) - figures.sent_at[wamid]) * 1000)
        stages["drain"].append((float(processed) - float(received)) * 1000)
        if wamid in first_arrival:
            stages["socket"].append((first_arrival[wamid] - float(processed)) * 1000)
    return SocketRun(figures, stages, len(batches), delivery_histogram(), (load_before, load_after), cpu, busy)


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its descendants so far, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total = (int(fields[11]) + int(fields[12])) / ticks
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                total += cpu_seconds(int(child))
    except (FileNotFoundError, ProcessLookupError):
        pass
    return total


def machine_cpu() -> tuple[int, int]:
    """Busy and total CPU ticks of the whole machine so far (every process, ours or not)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def session_cookie(env: dict[str, str]) -> str:
    """Sign the bench person in with their password (Django's test client: the authentication
    backends and `login()`, a session stored as any browser's is) and answer its Cookie header."""
    code = (
        "from django.conf import settings; from django.test import Client; c = Client();"
        f"assert c.login(email='{PERSON_EMAIL}', password='{PASSWORD}'), 'the bench person could not sign in';"
        "print(settings.SESSION_COOKIE_NAME + '=' + c.cookies[settings.SESSION_COOKIE_NAME].value)"
    )
    python = str(ROOT / ".venv" / "bin" / "python")
    return run([python, "manage.py", "shell", "-c", code], env).stdout.strip().splitlines()[-1]


def delivery_histogram() -> dict[str, float]:
    """daphne's own `skybot_realtime_delivery_seconds{feed="inbox"}` buckets, from its /metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{SOCKET_PORT}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    found = {}
    for match in re.finditer(
        r'^skybot_realtime_delivery_seconds_(bucket|count|sum)\{(?:feed="inbox",le="([^"]+)"|feed="inbox")\} (\S+)$',
        text,
        re.MULTILINE,
    ):
        kind, le, value = match.groups()
        found[le if kind == "bucket" else kind] = float(value)
    return found


def _ms(values: list[float]) -> str:
    if not values:
        return "n/a"
    return f"{percentile(values, 0.5):.0f} / {percentile(values, 0.99):.0f} / {max(values):.0f} ms"


def print_socket(args: argparse.Namespace, run: SocketRun) -> None:
    figures = run.figures
    print()
    print(
        f"Webhook → WebSocket (daphne, {args.listeners} signed-in sockets, {args.socket_rate:.0f} webhooks/s"
        f" for {args.socket_seconds:.0f} s, one new message each)"
    )
    rate = figures.sent / figures.send_seconds if figures.send_seconds else 0.0
    print(
        f"  webhooks sent               {figures.sent}  ({rate:.0f}/s achieved; {figures.acked} acknowledged,"
        f" {figures.non2xx} non-2xx, {figures.errors} socket errors)"
    )
    print(
        f"  ack latency p50 / p99       {percentile(figures.ack_ms, 0.5):.1f} ms"
        f" / {percentile(figures.ack_ms, 0.99):.1f} ms"
    )
    received = " / ".join(str(n) for n in figures.received)
    missing = sum(figures.acked - n for n in figures.received)
    print(f"  received on each socket     {received}  (missing {missing})")
    print(f"  POST → socket p50/p99/max   {_ms(figures.latency_ms)}  (target p99 < 200 ms)")
    print("  where the time goes (p50 / p99 / max per message):")
    print(f"    POST → stored             {_ms(run.stages['web'])}")
    print(
        f"    stored → batch processed  {_ms(run.stages['drain'])}  ({run.batches} drain batches,"
        f" {len(run.stages['drain']) / max(run.batches, 1):.0f} deliveries each)"
    )
    print(f"    processed → first socket  {_ms(run.stages['socket'])}  (commit, publish, channel layer, consumer)")
    histogram = run.histogram
    count = histogram.get("count", 0.0)
    if count:
        within = histogram.get("0.2", 0.0) / count
        print(
            f"  skybot_realtime_delivery_seconds (daphne's /metrics): {count:.0f} observations,"
            f" mean {histogram.get('sum', 0.0) / count * 1000:.0f} ms, {within:.1%} within 0.2 s"
        )
    print("  CPU used in the step (sending and the wait after):")
    for name, seconds in run.cpu.items():
        print(f"    {name:<24}{seconds:.1f} s  ({seconds / max(figures.acked, 1) * 1000:.2f} ms per message)")
    print(f"  machine CPU busy            {run.busy:.0%}")
    print(f"  load average (1 min)        {run.load[0]:.2f} before, {run.load[1]:.2f} after  (2 cores)")


if __name__ == "__main__":
    main()
