"""Benchmark what an unauthenticated WhatsApp notification costs the server, beside a genuine one.

PostgreSQL + Redis in the production settings, 1,000 channels of 100 tenants in a throwaway
database (skybot_bench_webhook_forgery; Redis database 13). Requests go through the production WSGI
application in this process (`skybot_inbox.wsgi.application`: the fast path for
`POST /webhooks/whatsapp`, Django with its whole middleware stack for the rest; no network, no
HTTP server in the figures). For each kind of request it prints the CPU time of this process per
request (p50 and mean; PostgreSQL's own CPU is not in it), the wall time p50, the database queries
per request and the status answered:

- a bare Django no-op, `GET /api/health` (the baseline, measured in the same run);
- a genuine notification (one text message, about 700 bytes), signed;
- the same notification with a forged signature;
- a forged 2 MB body naming 25,000 made-up phone number ids;
- a genuine 2 MB notification (5,000 messages for one number), signed: what decoding a body of
  that size costs anyway;
- then, once one tenant's number has an app secret of its own (so the platform's secret alone no
  longer decides and the body must be decoded to see which numbers it names), the two forgeries again.

Usage: .venv/bin/python bench/webhook_forgery/run.py [--requests 200] [--large-requests 20]
Needs: PostgreSQL and Redis on 127.0.0.1 (createdb/dropdb on the PATH).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import io
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DB_NAME = "skybot_bench_webhook_forgery"
APP_SECRET = "bench-app-secret"
PHONE_NUMBER_ID = "106540352242922"
FORGED_NUMBERS = 25_000
ENV = {
    "DJANGO_ENV": "production",
    "DJANGO_SETTINGS_MODULE": "skybot_inbox.settings.base",
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
    "REDIS_URL": "redis://127.0.0.1:6379/13",
    "SECRET_KEY": base64.b64encode(os.urandom(48)).decode(),
    "JWT_SIGNING_KEY": base64.b64encode(os.urandom(48)).decode(),
    "ENCRYPTION_KEY": "bench:" + base64.urlsafe_b64encode(hashlib.sha256(b"skybot-bench").digest()).decode(),
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SECURE_SSL_REDIRECT": "false",
    "WHATSAPP_APP_SECRET": APP_SECRET,
    "LOG_LEVEL": "ERROR",  # one log line per request would be most of this output
}


def prepare() -> None:
    print(f"== creating {DB_NAME}", flush=True)
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", DB_NAME], check=True)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", DB_NAME], check=True)
    subprocess.run(["redis-cli", "-n", "13", "FLUSHDB"], check=True, capture_output=True)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        env={**os.environ, **ENV},
        cwd=ROOT,
        check=True,
    )


def seed() -> None:
    """100 tenants with 10 numbers each; the benchmark's number is one of them."""
    from accounts.models import Account
    from inbox.models import Channel

    for tenant in range(100):
        account = Account.objects.create(name=f"Bench {tenant}", slug=f"bench-{tenant}")
        Channel.objects.bulk_create(
            Channel(
                account=account,
                phone_number_id=PHONE_NUMBER_ID if tenant == number == 0 else f"2{tenant:04d}{number:010d}",
                display_phone_number=f"1555{tenant:03d}{number:04d}",
                access_token="bench-token",
            )
            for number in range(10)
        )


def text_message(index: int, phone_number_id: str = PHONE_NUMBER_ID) -> dict[str, Any]:
    sender = f"1650555{index % 10_000:04d}"
    return {
        "field": "messages",
        "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": phone_number_id},
            "contacts": [{"profile": {"name": f"Customer {sender[-4:]}"}, "wa_id": sender}],
            "messages": [
                {
                    "from": sender,
                    "id": f"wamid.BENCH{index:09d}",
                    "timestamp": str(int(time.time())),
                    "type": "text",
                    "text": {"body": f"Message {index}: does it come in another colour?"},
                }
            ],
        },
    }


def notification(changes: list[dict[str, Any]]) -> bytes:
    payload = {"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": changes}]}
    return json.dumps(payload, separators=(",", ":")).encode()


def forged_numbers_body() -> bytes:
    """25,000 made-up numbers, one bare entry each: just under the 2 MB body cap."""
    entries = [{"changes": [{"value": {"metadata": {"phone_number_id": f"9{n:014d}"}}}]} for n in range(FORGED_NUMBERS)]
    return json.dumps({"object": "whatsapp_business_account", "entry": entries}, separators=(",", ":")).encode()


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def call(application: Any, *, method: str, path: str, body: bytes = b"", signature: str = "") -> str:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if signature:
        environ["HTTP_X_HUB_SIGNATURE_256"] = signature
    answered: list[str] = []
    result = application(environ, lambda status, headers, exc_info=None: answered.append(status))
    b"".join(result)
    if hasattr(result, "close"):
        result.close()
    return answered[0].split()[0]


def measure(send: Callable[[], str], count: int) -> dict[str, Any]:
    """Per request: CPU ms of this process, wall ms, queries; and the statuses seen."""
    from django.db import connection

    send()  # warm the code path and the connection
    cpu: list[float] = []
    wall: list[float] = []
    queries: list[int] = []
    statuses: set[str] = set()
    for _ in range(count):
        executed: list[str] = []

        def counter(execute: Callable[..., Any], sql: str, *rest: Any, executed: list[str] = executed) -> Any:
            executed.append(sql)
            return execute(sql, *rest)

        with connection.execute_wrapper(counter):
            started_cpu, started_wall = time.process_time(), time.perf_counter()
            statuses.add(send())
            cpu.append((time.process_time() - started_cpu) * 1000)
            wall.append((time.perf_counter() - started_wall) * 1000)
        queries.append(len(executed))
    return {
        "cpu_p50": statistics.median(cpu),
        "cpu_mean": statistics.fmean(cpu),
        "wall_p50": statistics.median(wall),
        "queries": statistics.fmean(queries),
        "statuses": "/".join(sorted(statuses)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200, help="requests per line for the small bodies")
    parser.add_argument("--large-requests", type=int, default=20, help="requests per line for the 2 MB bodies")
    args = parser.parse_args()

    prepare()
    os.environ.update(ENV)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings

    from inbox.models import Channel, InboundWebhookEvent
    from inbox.services.webhooks import forget_app_secrets
    from skybot_inbox.wsgi import application

    seed()
    genuine = notification([text_message(0)])
    forged_numbers = forged_numbers_body()
    large = notification([text_message(n) for n in range(5_000)])
    while len(large) > settings.MAX_REQUEST_BODY_BYTES:
        large = notification(json.loads(large)["entry"][0]["changes"][:-250])
    large_messages = len(json.loads(large)["entry"][0]["changes"])

    def own_app_secret() -> None:
        """From here on one tenant's number has its own app secret (a second Meta app)."""
        updated = Channel.objects.filter(phone_number_id="200990000000009").update(app_secret="tenant-own-app-secret")
        assert updated == 1
        forget_app_secrets()

    lines: list[tuple[str, int, Callable[[], str]] | Callable[[], None]] = [
        ("bare Django no-op (GET /api/health)", 0, lambda: call(application, method="GET", path="/api/health")),
        (
            "genuine notification, signed",
            len(genuine),
            lambda: call(application, method="POST", path="/webhooks/whatsapp", body=genuine, signature=sign(genuine)),
        ),
        (
            "same notification, forged signature",
            len(genuine),
            lambda: call(
                application, method="POST", path="/webhooks/whatsapp", body=genuine, signature=sign(genuine, "guess")
            ),
        ),
        (
            f"forged, {FORGED_NUMBERS:,} made-up numbers",
            len(forged_numbers),
            lambda: call(
                application,
                method="POST",
                path="/webhooks/whatsapp",
                body=forged_numbers,
                signature=sign(forged_numbers, "guess"),
            ),
        ),
        (
            f"genuine, {large_messages:,} messages, signed",
            len(large),
            lambda: call(application, method="POST", path="/webhooks/whatsapp", body=large, signature=sign(large)),
        ),
        own_app_secret,
        (
            "same notification, forged signature",
            len(genuine),
            lambda: call(
                application, method="POST", path="/webhooks/whatsapp", body=genuine, signature=sign(genuine, "guess")
            ),
        ),
        (
            f"forged, {FORGED_NUMBERS:,} made-up numbers",
            len(forged_numbers),
            lambda: call(
                application,
                method="POST",
                path="/webhooks/whatsapp",
                body=forged_numbers,
                signature=sign(forged_numbers, "guess"),
            ),
        ),
    ]

    print()
    print("WhatsApp webhook: what a forged notification costs beside a genuine one (PostgreSQL + Redis, in process)")
    print(f"  {args.requests} requests per small line, {args.large_requests} per 2 MB line; 1,000 channels")
    print()
    print(f"  {'request':<42} {'bytes':>9} {'CPU p50':>9} {'CPU mean':>9} {'wall p50':>9} {'queries':>8}  status")
    for line in lines:
        if callable(line):
            line()
            print(
                "  -- one number now has its own app secret: bodies the platform's secret does not verify are decoded"
            )
            continue
        label, size, send = line
        count = args.large_requests if size > 100_000 else args.requests
        figures = measure(send, count)
        print(
            f"  {label:<42} {size:>9,} {figures['cpu_p50']:>7.2f}ms {figures['cpu_mean']:>7.2f}ms "
            f"{figures['wall_p50']:>7.2f}ms {figures['queries']:>8.1f}  {figures['statuses']}",
            flush=True,
        )
    print()
    print(f"  deliveries stored: {InboundWebhookEvent.objects.count():,} (the genuine ones only)")


if __name__ == "__main__":
    main()
