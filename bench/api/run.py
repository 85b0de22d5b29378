"""Benchmark the API and the web pages at a big tenant, beside a bare Django no-op, in the production
layout (gunicorn sync workers, PostgreSQL, Redis) on this machine.

The tenant (slug `scale`) is `manage.py seed_scale --seed 42` at full size: 100,000 contacts and
conversations, 1,000,000 messages (one conversation of 5,000), 50,000 leads, 100 agents, 10,000,000
executions, 60 people; `--small` seeds about 10x fewer rows (still one conversation of 5,000) in its
own database. A database that already holds the tenant at these sizes is reused (and vacuumed if
its big tables never were); one that does not exist is created, migrated, seeded and vacuumed; one
that holds something else is left alone unless `--reseed`. Then, idempotently and through the
services: a CLIENT_ADMIN and 20 people with a known password, the admin's API key (created, or
rotated to learn its secret again), a webhook endpoint with 100,000 deliveries (bulk-inserted with
their events and attempts, about one in ten retried, one in fifty failed) and the example plugins
published and installed.

Each line is measured twice:
- over HTTP: `wrk -t2 -c32 -d10s --latency` after a 2 s warm-up (pages: `-c20`, the requests
  shared out between 20 people's session cookies, each got by signing in through the login form),
  against gunicorn with 4 sync workers; the bare no-op is Django with no apps and no middleware
  (bench/api/settings_noop.py) under the same gunicorn settings, and "throttles off" is the same
  application with `DEFAULT_THROTTLE_CLASSES = []` (bench/api/settings_no_throttles.py). Redis is
  emptied after each warm-up, so every line starts with no rate-limit history. The cold analytics
  lines ask for another window (same length and alignment) on every request, so none is cached.
- in process: django.test.Client (full middleware, no network), up to --requests requests (at least
  5, then until --budget seconds) after 3 to warm up, with the same settings module; p50/p99, and
  the queries of 3 more requests (CaptureQueriesContext). Cold analytics lines clear the cache before
  every request, as bench/analytics does.

It prints one table (req/s, wrk p50/p99, the ratio of the line's req/s to the no-op's, in-process
p50/p99 and queries per request), the load average, and the issue's targets beside the figures.
A line whose endpoint or page is missing or does not answer 200 is shown as failed.

Usage: .venv/bin/python bench/api/run.py [--small] [--reseed] [--seconds 10] [--connections 32]
           [--page-connections 20] [--warmup 2] [--requests 30] [--budget 5] [--only WORD]
Needs: wrk (apt-get install wrk), PostgreSQL and Redis on 127.0.0.1 (createdb/dropdb/psql and
redis-cli on the PATH).
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import math
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from bench.common import percentile, psql, wait_for_http, wrk  # noqa: E402

SLUG = "scale"
SIZES = {
    "contacts": 100_000,
    "conversations": 100_000,
    "messages": 1_000_000,
    "leads": 50_000,
    "agents": 100,
    "executions": 10_000_000,
    "people": 60,
}
SMALL_SIZES = {**{name: size // 10 for name, size in SIZES.items()}, "people": 60}
DATABASES = {False: "skybot_bench_scale", True: "skybot_bench_scale_small"}
SEED_DAYS = 90  # seed_scale's default spread; the cold analytics windows stay inside it
REDIS_DB = 12
PORTS = {"noop": 18793, "app": 18794, "no_throttles": 18795}
SETTINGS = {
    "noop": "bench.api.settings_noop",
    "app": "skybot_inbox.settings.base",
    "no_throttles": "bench.api.settings_no_throttles",
}
WSGI = {"noop": "bench.api.wsgi_noop:application", "app": "skybot_inbox.wsgi:application"}
EMAIL_DOMAIN = "scale.bench-api.local"
ADMIN_EMAIL = f"bench-api-admin@{EMAIL_DOMAIN}"
PASSWORD = "Bench-api-sign-in-7741"  # throwaway people of a benchmark database
KEY_NAME = "bench-api"
ENDPOINT_DESCRIPTION = "bench-api: deliveries to list (switched off, so nothing is sent)"
DELIVERIES = 100_000
SEARCH = "refund"
CONTACTS_PAGE_NAMES = ["contacts_web:list"]  # absent from code before the page existed (a "before" run)


def environment(database: str) -> dict[str, str]:
    return {
        "DJANGO_ENV": "development",
        "DEBUG": "false",
        "DJANGO_SETTINGS_MODULE": SETTINGS["app"],
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
        "REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
        # One client sends every request: the per-caller rate limits would measure themselves.
        "THROTTLE_BURST": "100000/s",
        "THROTTLE_SUSTAINED": "1000000/m",
        "THROTTLE_HOURLY": "10000000/h",
        "LOG_LEVEL": "ERROR",  # the slow-query warnings would drown the table
        # As in production: the console format renders a failed request's traceback with rich, which
        # can keep a worker busy for minutes.
        "LOG_FORMAT": "json",
    }


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], env={**os.environ, **env}, cwd=ROOT, check=True)


# --- the data ------------------------------------------------------------------------------------

HELD_SQL = """
WITH tenant AS (SELECT id FROM accounts_account WHERE slug = '{slug}')
SELECT concat_ws(' ',
  (SELECT count(*) FROM inbox_contact WHERE account_id = (SELECT id FROM tenant)),
  (SELECT count(*) FROM inbox_conversation WHERE account_id = (SELECT id FROM tenant)),
  (SELECT count(*) FROM inbox_message WHERE account_id = (SELECT id FROM tenant)),
  (SELECT count(*) FROM inbox_lead WHERE account_id = (SELECT id FROM tenant)),
  (SELECT count(*) FROM agents_agent WHERE account_id = (SELECT id FROM tenant)),
  (SELECT count(*) FROM agents_agentexecution WHERE account_id = (SELECT id FROM tenant)),
  (SELECT count(*) FROM accounts_user WHERE account_id = (SELECT id FROM tenant)
     AND email NOT LIKE '%@{domain}'))
"""


def held(database: str) -> dict[str, int] | None:
    """The tenant's row counts in `database`, or None when there is no such database or schema."""
    if psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}'", "postgres") != "1":
        return None
    try:
        counts = psql(HELD_SQL.format(slug=SLUG, domain=EMAIL_DOMAIN), database).split()
    except subprocess.CalledProcessError:
        return {}
    return dict(zip(SIZES, (int(n) for n in counts), strict=True))


def prepare(database: str, sizes: dict[str, int], env: dict[str, str], *, reseed: bool) -> None:
    found = held(database)
    if found == sizes and not reseed:
        print(f"== reusing {database}: tenant '{SLUG}' holds the expected rows", flush=True)
        try:
            manage(env, "migrate", "--no-input", "-v", "0")
        except subprocess.CalledProcessError:
            raise SystemExit(f"Migrating the kept {database} failed; run again with --reseed.") from None
        never = psql(
            "SELECT count(*) FROM pg_stat_user_tables WHERE relname IN ('inbox_message', 'agents_agentexecution') "
            "AND last_vacuum IS NULL AND last_autovacuum IS NULL",
            database,
        )
        if never != "0":
            print("== VACUUM ANALYZE (the big tables were never vacuumed)", flush=True)
            psql("VACUUM ANALYZE", database)
        return
    if found is not None and not reseed:
        raise SystemExit(
            f"{database} exists but does not hold tenant '{SLUG}' at {sizes} (it holds {found or 'no tenant'}); "
            "it may still be seeding. Run again when it is done, or with --reseed to drop and seed it."
        )
    print(f"== creating {database} and seeding tenant '{SLUG}'", flush=True)
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", database], check=True)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", database], check=True)
    manage(env, "migrate", "--no-input", "-v", "0")
    options = [f"--{name}={size}" for name, size in sizes.items()]
    manage(env, "seed_scale", "--seed", "42", "--account-slug", SLUG, *options)
    print("== VACUUM ANALYZE", flush=True)
    psql("VACUUM ANALYZE", database)


DELIVERIES_SQL = """
WITH events AS (
  INSERT INTO integrations_webhookevent (account_id, uuid, type, payload, created_at)
  SELECT %(account)s, gen_random_uuid(), kind,
         json_build_object(
           'type', kind,
           'timestamp', to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
           'data', json_build_object('id', n, 'conversation', n %% 100000 + 1,
                                     'text', 'Hello, is my order on its way? It was due yesterday.'))::text,
         at
  FROM (
    SELECT n, now() - n * interval '25 seconds' AS at,
           (ARRAY['message.created', 'conversation.updated', 'lead.created'])[1 + n %% 3] AS kind
    FROM generate_series(%(first)s, %(last)s) AS n
  ) AS source
  RETURNING id, created_at
), deliveries AS (
  INSERT INTO integrations_eventdelivery
    (account_id, endpoint_id, event_id, status, attempt_count, next_attempt_at, created_at, updated_at)
  SELECT %(account)s, %(endpoint)s, id,
         CASE WHEN id %% 50 = 0 THEN 'failed' ELSE 'succeeded' END,
         CASE WHEN id %% 50 = 0 THEN 5 WHEN id %% 10 = 0 THEN 2 ELSE 1 END,
         NULL, created_at, created_at + interval '2 seconds'
  FROM events
  RETURNING id, status, attempt_count, created_at
)
INSERT INTO integrations_eventdeliveryattempt
  (delivery_id, number, status_code, duration_ms, response_excerpt, error, created_at)
SELECT d.id, a.number,
       CASE WHEN a.number < d.attempt_count OR d.status = 'failed' THEN 503 ELSE 200 END,
       80 + (d.id * 7 + a.number * 13) %% 400,
       CASE WHEN a.number < d.attempt_count OR d.status = 'failed' THEN 'Service Unavailable' ELSE 'ok' END,
       '', d.created_at + a.number * interval '30 seconds'
FROM deliveries AS d CROSS JOIN LATERAL generate_series(1, d.attempt_count) AS a(number)
"""


@dataclass
class Tenant:
    """What the lines need to know about the seeded tenant."""

    key: str
    conversation: int
    conversation_messages: int
    agent: int
    endpoint: int
    deliveries: int
    installed: int
    contacts_page: str | None
    people: list[str]
    counts: dict[str, int]


def tenant_extras(*, people: int, database: str) -> Tenant:
    """The people, API key, webhook deliveries and plugins the lines read; made once, found after."""
    from django.db import connection, transaction
    from django.urls import NoReverseMatch, reverse

    from accounts.models import Account, ApiKey, Role, User
    from accounts.principals import Principal
    from accounts.services.api_keys import api_key_create, api_key_rotate
    from accounts.services.users import user_create
    from agents.models import Agent
    from core.exceptions import ApplicationError
    from inbox.models import Conversation, Message
    from integrations.models import EventDelivery, WebhookEndpoint
    from integrations.services.webhooks import webhook_endpoint_create
    from plugins.demo import EXAMPLE_CONFIGS, publish_examples
    from plugins.models import PluginInstallation
    from plugins.services.installations import plugin_install

    account = Account.objects.get(slug=SLUG)
    platform = Principal.platform_key()

    def person(email: str, role: str) -> User:
        found = User.objects.filter(email=email).first()
        if found is not None:
            return found
        return user_create(
            account=account, email=email, password=PASSWORD, role=role, full_name=email.split("@")[0], actor=platform
        )

    admin = person(ADMIN_EMAIL, Role.CLIENT_ADMIN)
    emails = [person(f"bench-api-person-{n:02d}@{EMAIL_DOMAIN}", Role.USER).email for n in range(people)]
    actor = Principal.for_user(admin)

    existing = ApiKey.objects.filter(account=account, name=KEY_NAME, is_active=True).first()
    if existing is None:
        issued = api_key_create(
            account=account, name=KEY_NAME, scopes=["read", "write", "admin"], expires_at=None, actor=actor
        )
    else:  # only its hash is stored: a new secret for the same key
        issued = api_key_rotate(api_key=existing, grace_seconds=0, actor=actor)

    endpoint = WebhookEndpoint.objects.filter(account=account, description=ENDPOINT_DESCRIPTION).first()
    if endpoint is None:
        endpoint = webhook_endpoint_create(
            account=account,
            actor=actor,
            url="https://hooks.bench-api.example/skybot",
            events=["message.created", "conversation.updated", "lead.created"],
            description=ENDPOINT_DESCRIPTION,
            is_active=False,
        ).endpoint
    have = EventDelivery.objects.filter(endpoint=endpoint).count()
    if have < DELIVERIES:
        print(f"== inserting {DELIVERIES - have:,} webhook deliveries with their events and attempts", flush=True)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                DELIVERIES_SQL, {"account": account.pk, "endpoint": endpoint.pk, "first": have + 1, "last": DELIVERIES}
            )
        for table in ("integrations_webhookevent", "integrations_eventdelivery", "integrations_eventdeliveryattempt"):
            psql(f"VACUUM ANALYZE {table}", database)

    for plugin_id in publish_examples(stdout=io.StringIO()):
        if PluginInstallation.objects.filter(account=account, plugin__plugin_id=plugin_id).exists():
            continue
        try:
            plugin_install(account=account, plugin_id=plugin_id, config=EXAMPLE_CONFIGS.get(plugin_id, {}), actor=actor)
        except ApplicationError as error:
            print(f"   plugin {plugin_id} not installed: {error.message}", flush=True)

    conversation = Conversation.objects.filter(account=account).order_by("id").first()
    agent = Agent.objects.filter(account=account).order_by("id").first()
    if conversation is None or agent is None:
        raise SystemExit(f"tenant '{SLUG}' has no conversation or no agent")
    contacts_page = None
    for name in CONTACTS_PAGE_NAMES:
        try:
            contacts_page = reverse(name)
            break
        except NoReverseMatch:
            continue
    return Tenant(
        key=issued.key,
        conversation=conversation.pk,
        conversation_messages=Message.objects.filter(conversation=conversation).count(),
        agent=agent.pk,
        endpoint=endpoint.pk,
        deliveries=EventDelivery.objects.filter(endpoint=endpoint).count(),
        installed=PluginInstallation.objects.filter(account=account).count(),
        contacts_page=contacts_page,
        people=emails,
        counts=held(database) or {},
    )


def sign_in(email: str) -> str:
    """Sign in through the login form (CSRF checked, as a browser does); answers the Cookie header."""
    from django.conf import settings
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    form = client.get("/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.content.decode())
    if form.status_code != 200 or token is None:
        raise SystemExit(f"the login page answered {form.status_code} without a CSRF token")
    answer = client.post(
        "/accounts/login/", {"login": email, "password": PASSWORD, "csrfmiddlewaretoken": token.group(1)}
    )
    session = client.cookies.get(settings.SESSION_COOKIE_NAME)
    if answer.status_code != 302 or session is None or not session.value:
        raise SystemExit(f"signing in {email} answered {answer.status_code}: {answer.content[:300]!r}")
    return f"{settings.SESSION_COOKIE_NAME}={session.value}"


# --- the lines -----------------------------------------------------------------------------------


@dataclass
class Line:
    label: str
    kind: str  # noop, health, me, list, search, no_throttles, analytics_cold, analytics_cached, page
    path: str
    server: str = "app"
    auth: str = "key"  # none, key, session
    missing: str = ""  # why there is nothing to measure
    http: dict[str, float] = field(default_factory=dict)
    local: dict[str, Any] = field(default_factory=dict)
    failure: str = ""
    note: str = ""


def lines_for(tenant: Tenant) -> list[Line]:
    page = "page"
    contacts = (
        Line("page: contacts", page, tenant.contacts_page, auth="session")
        if tenant.contacts_page
        else Line("page: contacts", page, "", auth="session", missing="no contacts page in */web/urls.py")
    )
    return [
        Line("bare Django no-op", "noop", "/", server="noop", auth="none"),
        Line("/api/health (full middleware)", "health", "/api/health", auth="none"),
        Line("GET /api/v1/me", "me", "/api/v1/me"),
        Line("conversations", "list", "/api/v1/conversations"),
        Line(
            f"messages of a {tenant.conversation_messages:,}-message conversation",
            "list",
            f"/api/v1/conversations/{tenant.conversation}/messages",
        ),
        Line("contacts", "list", "/api/v1/contacts"),
        Line("leads", "list", "/api/v1/leads"),
        Line("agent executions", "list", f"/api/v1/agents/{tenant.agent}/executions"),
        Line(f"webhook deliveries ({tenant.deliveries:,})", "list", f"/api/v1/webhooks/{tenant.endpoint}/deliveries"),
        Line(f"plugins installed ({tenant.installed})", "list", "/api/v1/plugins/installed"),
        Line("plugins catalogue", "list", "/api/v1/plugins"),
        Line("conversations ?status=open", "filter", "/api/v1/conversations?status=open"),
        Line(f"conversations ?q={SEARCH} (full text)", "search", f"/api/v1/conversations?q={SEARCH}"),
        Line("conversations, throttles off", "no_throttles", "/api/v1/conversations", server="no_throttles"),
        Line("analytics: tenant, 7 days, cold", "analytics_cold", "/api/v1/agents/analytics"),
        Line("analytics: tenant, 7 days, cached", "analytics_cached", "/api/v1/agents/analytics"),
        Line("analytics: one agent, 7 days, cold", "analytics_cold", f"/api/v1/agents/{tenant.agent}/analytics"),
        Line("analytics: one agent, 7 days, cached", "analytics_cached", f"/api/v1/agents/{tenant.agent}/analytics"),
        Line("page: inbox ?status=open", page, "/inbox/?status=open", auth="session"),
        Line(
            f"page: the {tenant.conversation_messages:,}-message conversation",
            page,
            f"/inbox/{tenant.conversation}/",
            auth="session",
        ),
        contacts,
        Line("page: leads", page, "/leads/", auth="session"),
        Line("page: agents", page, "/agents/", auth="session"),
        Line("page: reports (an agent's analytics)", page, f"/agents/{tenant.agent}/", auth="session"),
    ]


# --- in process ----------------------------------------------------------------------------------


def in_process_child(result_path: str) -> None:
    """Measure the lines on stdin with django.test.Client under this process's settings module."""
    spec = json.load(sys.stdin)
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    import django

    django.setup()
    from django.conf import settings
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    has_database = bool(settings.DATABASES)
    results: dict[str, Any] = {}
    for line in spec["lines"]:
        headers = {"HTTP_X_API_KEY": spec["key"]} if line["auth"] == "key" else {}
        client = Client(raise_request_exception=False, **headers)
        if line["auth"] == "session":
            name, _, value = spec["cookie"].partition("=")
            client.cookies[name] = value
        cold = line["kind"] == "analytics_cold"

        def get(client: Any = client, path: str = line["path"], cold: bool = cold) -> int:
            if cold:
                cache.clear()
            return int(client.get(path).status_code)

        if has_database:
            cache.clear()
        status = get()
        if status != 200:
            results[line["label"]] = {"status": status}
            continue
        for _ in range(2):
            get()
        timings: list[float] = []
        deadline = time.perf_counter() + spec["budget"]
        while len(timings) < spec["requests"] and (len(timings) < 5 or time.perf_counter() < deadline):
            started = time.perf_counter()
            get()
            timings.append((time.perf_counter() - started) * 1000)
        queries: list[int] = []
        if has_database:
            for _ in range(3):
                with CaptureQueriesContext(connection) as captured:
                    get()
                queries.append(len(captured))
        results[line["label"]] = {
            "status": 200,
            "p50": statistics.median(timings),
            "p99": percentile(timings, 0.99),
            "count": len(timings),
            "queries": sorted(set(queries)) if queries else [0],
        }
    Path(result_path).write_text(json.dumps(results))


def in_process(
    lines: list[Line], server: str, env: dict[str, str], *, key: str, cookie: str, args: argparse.Namespace
) -> None:
    chosen = [line for line in lines if line.server == server and not line.missing and not line.failure]
    if not chosen:
        return
    spec = {
        "key": key,
        "cookie": cookie,
        "requests": args.requests,
        "budget": args.budget,
        "lines": [{"label": line.label, "kind": line.kind, "path": line.path, "auth": line.auth} for line in chosen],
    }
    with tempfile.NamedTemporaryFile(suffix=".json") as result:
        child = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--in-process", result.name],
            input=json.dumps(spec),
            text=True,
            env={**os.environ, **env, "DJANGO_SETTINGS_MODULE": SETTINGS[server]},
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        found = json.loads(Path(result.name).read_text() or "{}") if child.returncode == 0 else {}
    if child.returncode != 0:
        print(f"   in-process measurement under {SETTINGS[server]} failed:\n{child.stderr[-2000:]}", flush=True)
    for line in chosen:
        figures = found.get(line.label)
        if figures is None:
            line.failure = line.failure or "in process: no answer"
        elif figures["status"] != 200:
            line.failure = f"in process: {figures['status']}"
        else:
            line.local = figures


# --- over HTTP -----------------------------------------------------------------------------------


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def start_server(server: str, env: dict[str, str], workers: int, log: Path) -> subprocess.Popen[bytes]:
    """gunicorn in its own process group (so stopping it stops its workers too), its log in `log`."""
    port = PORTS[server]
    if not port_free(port):
        raise SystemExit(f"port {port} is taken: another benchmark running?")
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            WSGI.get(server, WSGI["app"]),
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--chdir",
            str(ROOT),
            "--timeout",
            "120",
            "--log-level",
            "warning",
        ],
        env={**os.environ, **env, "DJANGO_SETTINGS_MODULE": SETTINGS[server]},
        cwd=ROOT,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    wait_for_http(f"http://127.0.0.1:{port}/", seconds=90)
    return proc


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def probe(port: int, path: str, headers: dict[str, str]) -> int:
    """The status of one GET, redirects not followed (a page that sends you to sign in fails)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request("GET", path, headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()


def flush_redis() -> None:
    subprocess.run(["redis-cli", "-n", str(REDIS_DB), "FLUSHDB"], check=True, capture_output=True)


def over_http(
    line: Line, *, key: str, cookies: list[str], windows: tuple[int, int, int, int], args: argparse.Namespace
) -> None:
    port = PORTS[line.server]
    url = f"http://127.0.0.1:{port}{line.path}"
    headers = [f"X-API-Key: {key}"] if line.auth == "key" else []
    connections = args.page_connections if line.kind == "page" else args.connections
    script: str | None = None
    script_args: list[str] = []
    first_path = line.path
    if line.auth == "session":
        script, script_args = str(HERE / "wrk_sessions.lua"), cookies
    if line.kind == "analytics_cold":
        first_end, count, step, span = windows
        script = str(HERE / "wrk_windows.lua")
        script_args = [line.path, str(first_end), str(count), str(step), str(span), "2"]
        first_path = f"{line.path}?from={iso(first_end - span)}&to={iso(first_end)}"
    status = probe(port, first_path, dict(h.split(": ", 1) for h in headers) | _cookie(line, cookies))
    if status != 200:
        line.failure = f"HTTP {status}"
        return
    common: dict[str, Any] = {
        "connections": connections,
        "headers": headers,
        "script": script,
        "script_args": script_args,
        "timeout": "30s",
    }
    if args.warmup > 0:
        wrk(url, seconds=args.warmup, **common)
    flush_redis()  # no rate-limit history from earlier lines; the next GET fills the caches again
    if line.kind != "analytics_cold":
        probe(port, first_path, dict(h.split(": ", 1) for h in headers) | _cookie(line, cookies))
    line.http = wrk(url, seconds=args.seconds, **common)
    if not line.http["requests"]:
        line.http = {}
        line.failure = f"no answer within {args.seconds} s"
        return
    if line.kind == "analytics_cold" and line.http["requests"] > windows[1]:
        line.note = f"{int(line.http['requests']):,} requests > {windows[1]:,} windows: some were cached"
    bad = int(line.http["non2xx"] + line.http["errors"])
    if bad:
        line.note = f"{bad:,} of {int(line.http['requests']):,} answers not 2xx/3xx or socket errors"


def _cookie(line: Line, cookies: list[str]) -> dict[str, str]:
    return {"Cookie": cookies[0]} if line.auth == "session" else {}


def iso(epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


# --- the report ----------------------------------------------------------------------------------


def ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" if value < 10 else f"{value:.1f}" if value < 100 else f"{value:,.0f}"


def table(lines: list[Line], noop_rps: float) -> None:
    print(
        f"  {'line':<46} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'x no-op':>8}   "
        f"{'in-process p50':>14} {'p99':>7} {'queries':>8}"
    )
    for line in lines:
        if line.missing or (line.failure and not line.http and not line.local):
            reason = line.missing or line.failure
            print(f"  {line.label:<46} {'FAILED' if line.failure else 'n/a':>7}   ({reason})")
            continue
        rps = line.http.get("rps")
        ratio = f"{rps / noop_rps:.3f}" if rps and noop_rps else "-"
        queries = "/".join(str(n) for n in line.local.get("queries", [])) or "-"
        print(
            f"  {line.label:<46} {f'{rps:,.0f}' if rps else '-':>7} {ms(line.http.get('p50')):>8} "
            f"{ms(line.http.get('p99')):>8} {ratio:>8}   {ms(line.local.get('p50')):>11} ms "
            f"{ms(line.local.get('p99')):>7} {queries:>8}"
        )
        for note in (line.failure, line.note):
            if note:
                print(f"  {'':<46} ^ {note}")


TARGETS = [  # (kinds, the target as the issue states it)
    (("list",), "list endpoints: >= 0.25 x the no-op's req/s, and p50 <= 10 ms in process"),
    (("me",), "GET /api/v1/me: >= 0.4 x the no-op's req/s"),
    (("page",), "pages, 20 signed-in people: p99 < 150 ms"),
    (("search",), "full-text search: p99 < 200 ms"),
    (("analytics_cold",), "analytics, cold: p99 < 100 ms in process"),
    (("analytics_cached",), "analytics, cached: p99 < 5 ms in process"),
]


def judged(line: Line, noop_rps: float) -> tuple[str, bool | None]:
    """The line's figure for its target, and whether it meets it (None: nothing measured)."""
    rps, wrk_p99 = line.http.get("rps"), line.http.get("p99")
    local_p50, local_p99 = line.local.get("p50"), line.local.get("p99")
    ratio = rps / noop_rps if rps and noop_rps else None
    if line.missing:
        return line.missing, None
    if line.kind == "list":
        if ratio is None or local_p50 is None:
            return "failed", None
        return f"{ratio:.3f} x, p50 {ms(local_p50)} ms", ratio >= 0.25 and local_p50 <= 10
    if line.kind == "me":
        return (f"{ratio:.3f} x", ratio >= 0.4) if ratio is not None else ("failed", None)
    if line.kind in ("page", "search"):
        limit = 150 if line.kind == "page" else 200
        return (f"p99 {ms(wrk_p99)} ms", wrk_p99 < limit) if wrk_p99 is not None else ("failed", None)
    limit = 100 if line.kind == "analytics_cold" else 5
    if local_p99 is None:
        return "failed", None
    return f"p99 {ms(local_p99)} ms (over HTTP {ms(wrk_p99)} ms)", local_p99 < limit


def targets(lines: list[Line], noop_rps: float) -> None:
    print()
    print("Targets (issue 15)")
    for kinds, target in TARGETS:
        print(f"  {target}")
        for line in (line for line in lines if line.kind in kinds):
            figure, ok = judged(line, noop_rps)
            verdict = "-" if ok is None else "met" if ok else "NOT met"
            print(f"    {line.label:<44} {figure:<38} {verdict}")


# --- main ----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="about 10x fewer rows, in its own database")
    parser.add_argument("--reseed", action="store_true", help="drop the database and seed it again")
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per line")
    parser.add_argument("--warmup", type=int, default=2, help="wrk warm-up per line, seconds (0: none)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections of the API lines")
    parser.add_argument("--page-connections", type=int, default=20, help="wrk connections (= people) of the pages")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--requests", type=int, default=30, help="in-process requests per line, at most")
    parser.add_argument("--budget", type=float, default=5.0, help="in-process seconds per line after 5 requests")
    parser.add_argument("--only", default="", help="measure only the lines whose label contains this (and the no-op)")
    parser.add_argument("--in-process", metavar="RESULT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.in_process:
        in_process_child(args.in_process)
        return
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")

    database = DATABASES[args.small]
    sizes = SMALL_SIZES if args.small else SIZES
    env = environment(database)
    started = time.monotonic()
    prepare(database, sizes, env, reseed=args.reseed)
    os.environ.update(env)
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)  # no collectstatic here
    import django

    django.setup()
    from django.db import connection, connections

    print("== people, API key, webhook deliveries and plugins", flush=True)
    tenant = tenant_extras(people=args.page_connections, database=database)
    print(f"== signing {len(tenant.people)} people in through the login form", flush=True)
    cookies = [sign_in(email) for email in tenant.people]
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        server_version = cursor.fetchone()[0].split(" on ")[0]
    connections.close_all()
    prepared = time.monotonic()

    lines = lines_for(tenant)
    if args.only:
        lines = [line for line in lines if line.kind == "noop" or args.only in line.label]
    # Windows of the cold analytics lines: the default window (7 days ending at the next 5 minutes),
    # then the same window ending 5 minutes earlier each time, as far back as the seeded data goes.
    step, span = 300, 7 * 86400
    first_end = math.ceil(time.time() / step) * step
    windows = (first_end, (SEED_DAYS - 7) * 86400 // step, step, span)

    load_before = os.getloadavg()
    print("== in process (django.test.Client)", flush=True)
    for server in PORTS:
        in_process(lines, server, env, key=tenant.key, cookie=cookies[0], args=args)
    print("== over HTTP (wrk)", flush=True)
    load_during: list[float] = []
    logs = Path(tempfile.mkdtemp(prefix="skybot-bench-api-"))
    for server in PORTS:
        chosen = [line for line in lines if line.server == server and not line.missing]
        if not chosen:
            continue
        proc = start_server(server, env, args.workers, logs / f"gunicorn-{server}.log")
        try:
            for line in chosen:
                print(f"   {line.label}", flush=True)
                try:
                    over_http(line, key=tenant.key, cookies=cookies, windows=windows, args=args)
                except (subprocess.CalledProcessError, RuntimeError, OSError) as error:
                    line.failure = f"wrk: {error}"
                load_during.append(os.getloadavg()[0])
        finally:
            stop_server(proc)
    load_after = os.getloadavg()

    noop_rps = next((line.http.get("rps", 0.0) for line in lines if line.kind == "noop"), 0.0)
    counts = tenant.counts
    print()
    print(
        f"API and pages at a big tenant: '{SLUG}' with {counts.get('contacts', 0):,} contacts, "
        f"{counts.get('conversations', 0):,} conversations, {counts.get('messages', 0):,} messages, "
        f"{counts.get('leads', 0):,} leads, {counts.get('agents', 0):,} agents, "
        f"{counts.get('executions', 0):,} executions, {counts.get('people', 0):,} people"
    )
    print(
        f"  {server_version}, Redis; gunicorn {args.workers} sync workers; wrk -t2 -c{args.connections} "
        f"-d{args.seconds}s --latency after a {args.warmup} s warm-up (pages: -c{args.page_connections}, "
        f"{len(cookies)} signed-in people); API lines with an API key (scopes read, write, admin)"
    )
    print(
        f"  in process: django.test.Client, up to {args.requests} requests per line; queries per request "
        "(CaptureQueriesContext); x no-op: the line's req/s over the bare no-op's"
    )
    print(
        f"  {os.cpu_count()} CPUs; load average before {load_before[0]:.2f} {load_before[1]:.2f} "
        f"{load_before[2]:.2f}, during wrk {min(load_during, default=0):.2f}-{max(load_during, default=0):.2f}, "
        f"after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}"
    )
    print()
    table(lines, noop_rps)
    targets(lines, noop_rps)
    print()
    print(
        f"Prepared in {prepared - started:.0f} s, measured in {time.monotonic() - prepared:.0f} s "
        f"(code: {ROOT}, database: {database}, server logs: {logs})"
    )


if __name__ == "__main__":
    main()
