"""Benchmark the WhatsApp ingest path in the production layout on this machine.

PostgreSQL + Redis, gunicorn sync workers serving HTTP (as the README's production section runs
it), one Celery worker. wrk sends pre-signed unique notifications plus a share of redeliveries
(a Python load generator would eat the CPU being measured), then we wait for processing to finish
and print: acknowledged webhooks/s, ack latency p50/p99, messages processed/s end to end, messages
lost, duplicates created, and a no-op endpoint's requests/s in the same run with the ratio.

Usage: .venv/bin/python bench/ingest/run.py [--seconds 15] [--connections 32] [--workers 4]
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PHONE_NUMBER_ID = "106540352242922"
APP_SECRET = "bench-app-secret"
PORT = 8791
DB_NAME = "skybot_bench"


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
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", f"http://127.0.0.1:{PORT}{path}"]
    if script:
        cmd[1:1] = ["-s", script[0]]
        cmd += ["--", *script[1:]]
    out = subprocess.run(cmd, check=True, text=True, capture_output=True).stdout
    figures = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}
    for label, key in (("50%", "p50"), ("99%", "p99")):
        match = re.search(rf"^\s+{re.escape(label)}\s+([\d.]+)(us|ms|s)", out, re.MULTILINE)
        if match:
            value, unit = float(match.group(1)), match.group(2)
            figures[key] = value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    figures["non2xx"] = float(non2xx.group(1)) if non2xx else 0.0
    figures["requests"] = float(re.search(r"(\d+) requests in", out).group(1))
    return figures


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
            "from accounts.models import Account; from inbox.models import Channel;"
            "a=Account.objects.create(name='Bench', slug='bench');"
            f"Channel.objects.create(account=a, phone_number_id='{PHONE_NUMBER_ID}',"
            " display_phone_number='15550783881', access_token='x')",
        ],
        env,
    )
    workdir = Path(tempfile.mkdtemp(prefix="skybot-bench-"))
    bodies = workdir / "bodies.tsv"
    count = max(20000, int(args.seconds * 2500))
    unique = write_bodies(bodies, count, args.redeliveries, contacts=2000)
    print(f"   {count} pre-signed requests ({unique} unique notifications)", flush=True)

    procs: list[subprocess.Popen[bytes]] = []
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
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        for _ in range(60):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{PORT}/api/health", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
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
        procs.append(
            subprocess.Popen(
                [
                    str(bindir / "celery"),
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
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
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
        processing_seconds = max(finished - since, 0.2)
        drained_count = remaining
        wamid_path = "{entry,0,changes,0,value,messages,0,id}"
        sent_wamids = int(
            sql(f"SELECT count(DISTINCT (body::jsonb #>> '{wamid_path}')) FROM inbox_inboundwebhookevent")
        )
        messages = int(sql("SELECT count(*) FROM inbox_message"))
        distinct = int(sql("SELECT count(DISTINCT (channel_id, external_id)) FROM inbox_message"))
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(workdir, ignore_errors=True)

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


if __name__ == "__main__":
    main()
