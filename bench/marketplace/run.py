"""Benchmark the marketplace catalogue, `GET /api/v1/plugins`, at a big marketplace in PostgreSQL.

Uses its own database (skybot_bench_marketplace on 127.0.0.1) and Redis database 12. The data set:
1,000 published plugins (and 50 waiting for review, which the catalogue must not show), each with
1-3 published versions (a small real zip per version, its manifest holding `permissions` and
`config_schema`), 10,000 tenants and 100,000 installations of them (each with its tenant-only agent
template, as `plugin_install` makes it), a power-law spread of installs, and reviews from about 8 %
of the installations. The plugin rows carry what the services keep on them: `downloads` is the real
count of installations, `rating_average`/`review_count` the exact figures of the visible reviews,
`published_at` the first publication. Tenants, plugins and versions are inserted with bulk_create,
templates, installations and reviews with COPY, in batches with a progress line; then the figures
are set with one UPDATE each and the tables vacuumed. About 15 s on the reference machine.

The seeded database is kept between runs: when it already holds exactly --plugins published plugins
and --installations installations it is migrated and reused; --reseed drops and seeds it again.

Requests go through django.test.Client in this process (full middleware, a CLIENT_ADMIN signed in
with a real JWT, serialization; no network and no HTTP server in the figures), in rounds of 25
requests of each line in turn, so a slower spell of the machine falls on every line alike. For each line
it prints p50/p99 latency, requests/s of one client in a row, queries per request (which must be 3
on every page: authentication, the page of plugins, their published versions; the run exits 1 and
prints the queries otherwise) and the ratio to a bare Django no-op view (`GET /api/health`, through
the same middleware) measured the same way in the same run. Then the PostgreSQL plan of each line's
list query, in full for the default sort (most installed first, partial index `plugin_by_installs`).

Usage: .venv/bin/python bench/marketplace/run.py [--requests 300] [--reseed]
           [--plugins 1000] [--installations 100000] [--tenants 10000]
Needs: PostgreSQL and Redis on 127.0.0.1 (createdb/dropdb/psql on the PATH).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
import warnings
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.common import percentile  # noqa: E402
from bench.common import psql as psql_on  # noqa: E402

DB_NAME = "skybot_bench_marketplace"
ADMIN_EMAIL = "bench-admin@marketplace.bench.local"
UNPUBLISHED = 50  # plugins with a version still in review: in the table, not in the catalogue
SEARCH_WORD = "invoice"
EXPECTED_QUERIES = 3  # authentication, the page of plugins, their published versions
ENV = {
    "DJANGO_ENV": "development",
    "DEBUG": "false",
    "DJANGO_SETTINGS_MODULE": "skybot_inbox.settings.base",
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
    "REDIS_URL": "redis://127.0.0.1:6379/12",
    # One client sends every request: the per-caller rate limits would measure themselves.
    "THROTTLE_BURST": "100000/s",
    "THROTTLE_SUSTAINED": "1000000/m",
    "THROTTLE_HOURLY": "10000000/h",
    "LOG_LEVEL": "ERROR",  # the slow-query warnings would drown the table
}

# --- the made-up marketplace -------------------------------------------------------------------

PREFIXES = [
    "Lead",
    "Order",
    "Invoice",
    "Ticket",
    "Reply",
    "Sales",
    "Support",
    "Booking",
    "Review",
    "Survey",
    "Refund",
    "Shipping",
    "Stock",
    "Loyalty",
    "Payroll",
    "Leave",
    "Onboarding",
    "Quote",
    "Catalogue",
    "Appointment",
    "Feedback",
    "Churn",
    "Upsell",
    "Handoff",
    "Language",
    "Sentiment",
    "Spam",
    "Warranty",
    "Delivery",
    "Payment",
]
NOUNS = [
    "scorer",
    "router",
    "tracker",
    "assistant",
    "notifier",
    "summariser",
    "translator",
    "tagger",
    "reminder",
    "checker",
    "helper",
    "digest",
    "planner",
    "sync",
    "guard",
]
QUALIFIERS = ["", " Pro", " Lite", " Plus", " 360", " for Shopify", " for WooCommerce"]
CATEGORY_WEIGHTS = {"SALES": 25, "SUPPORT": 30, "INTELLIGENCE": 15, "FINANCE": 10, "HR": 10, "CUSTOM": 10}
SENTENCES = {
    "SALES": [
        "Scores every customer who writes and marks hot leads for your sales team.",
        "Spots buying words and budget questions, then moves the lead along your pipeline.",
        "Sends a quote when a customer asks for prices and follows up two days later.",
    ],
    "SUPPORT": [
        "Answers the questions your customers ask most, from your own FAQ.",
        "Tells a customer where their order is, from your shop's tracking numbers.",
        "Hands the conversation to a person when the customer is upset or asks for one.",
    ],
    "INTELLIGENCE": [
        "Labels each conversation by topic and sentiment so your reports mean something.",
        "Summarises long conversations for the person who takes over.",
        "Detects the customer's language and translates your answers.",
    ],
    "FINANCE": [
        "Sends an invoice copy when a customer asks for one and records that it was sent.",
        "Reminds customers of unpaid invoices, politely, in their own language.",
        "Answers refund questions with your policy and opens a refund request.",
    ],
    "HR": [
        "Answers employees' questions about leave, payslips and benefits.",
        "Walks a new hire through their first week, one message a day.",
        "Collects leave requests and tells the manager.",
    ],
    "CUSTOM": [
        "Calls your own API with what the customer asked and answers with the result.",
        "Keeps a small memory per conversation for your own workflows.",
        "Posts a summary to your webhook when a conversation closes.",
    ],
}
PERMISSION_NAMES = [
    "contacts:read",
    "contacts:write",
    "leads:read",
    "leads:write",
    "conversations:read",
    "conversations:write",
    "messages:send",
    "analytics:read",
    "storage",
]
PRICES = [Decimal("4.99"), Decimal("9.00"), Decimal("19.00"), Decimal("29.00"), Decimal("49.00"), Decimal("99.00")]
ICON = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64">'
    b'<rect width="64" height="64" rx="14" fill="#2563eb"/></svg>\n'
)
PLUGIN_SOURCE = '''"""{name}: answers nothing; the marketplace benchmark only lists it."""

from skybot_plugin_sdk import AgentOutput, AgentPlugin


class Plugin(AgentPlugin):
    def execute(self, input, context):
        return AgentOutput(response=None)
'''
# What `plugin_install` gives the template of an installation (plugins.services.installations).
AGENT_CONFIG_SCHEMA: dict[str, Any] = {"type": "object", "properties": {}, "additionalProperties": False}


@dataclass
class SeedPlugin:
    plugin_id: str
    name: str
    category: str
    description: str
    published_at: datetime
    quality: float  # the mean rating its reviewers give
    pk: int = 0
    versions: list[tuple[int, str, datetime, list[str]]] = field(default_factory=list)  # id, version, published


def config_schema(rng: random.Random) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "greeting": {"type": "string", "title": "Greeting", "default": "Hello!", "maxLength": 200},
        "threshold": {"type": "integer", "title": "Threshold", "minimum": 0, "maximum": 100, "default": 70},
    }
    if rng.random() < 0.4:
        properties["api_token"] = {"type": "string", "title": "API token", "secret": True}
    if rng.random() < 0.3:
        properties["labels"] = {"type": "array", "items": {"type": "string"}, "maxItems": 20, "default": []}
    return {"type": "object", "properties": properties, "required": ["greeting"], "additionalProperties": False}


def package(manifest: dict[str, Any]) -> bytes:
    """The version's zip: its manifest, an icon and an importable entrypoint module."""
    module = manifest["entrypoint"].split(".", 1)[0]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("plugin.json", json.dumps(manifest, indent=2))
        archive.writestr("icon.svg", ICON)
        archive.writestr(f"{module}/__init__.py", "")
        archive.writestr(f"{module}/plugin.py", PLUGIN_SOURCE.format(name=manifest["name"]))
    return buffer.getvalue()


def install_counts(rng: random.Random, plugins: list[SeedPlugin], total: int, tenants: int, now: datetime) -> list[int]:
    """Installs per plugin, summing to `total`: a power law over a random popularity rank, smaller
    for plugins published in the last six months, at most one per tenant."""
    if total > len(plugins) * tenants:
        raise SystemExit(f"{total:,} installations need more than {tenants:,} tenants x {len(plugins):,} plugins")
    ranks = list(range(1, len(plugins) + 1))
    rng.shuffle(ranks)
    weights = [
        rank**-0.8 * rng.lognormvariate(0, 0.3) * min(1.0, (now - plugin.published_at).days / 180 + 0.05)
        for rank, plugin in zip(ranks, plugins, strict=True)
    ]
    scale = total / sum(weights)
    counts = [min(tenants, int(weight * scale)) for weight in weights]
    by_share = sorted(range(len(plugins)), key=lambda i: weights[i] * scale - counts[i], reverse=True)
    while (missing := total - sum(counts)) > 0:
        open_plugins = [index for index in by_share if counts[index] < tenants]
        for index in open_plugins[:missing]:
            counts[index] += 1
    return counts


# --- the database --------------------------------------------------------------------------------


def psql(query: str, database: str = DB_NAME) -> str:
    return psql_on(query, database)


def manage(*args: str) -> None:
    subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "manage.py", *args], env={**os.environ, **ENV}, cwd=ROOT, check=True
    )


def prepare(*, plugins: int, installations: int, reseed: bool) -> bool:
    """Make the database ready; True when it must be seeded."""
    exists = psql(f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}'", "postgres") == "1"
    held = ""
    if exists and not reseed:
        try:
            held = psql(
                "SELECT (SELECT count(*) FROM plugins_plugin WHERE is_published) || ' ' || "
                "(SELECT count(*) FROM plugins_plugininstallation)"
            )
        except subprocess.CalledProcessError:
            held = ""
    if held == f"{plugins} {installations}":
        print(f"== reusing {DB_NAME}: {plugins:,} published plugins, {installations:,} installations", flush=True)
        try:
            manage("migrate", "--no-input", "-v", "0")
        except subprocess.CalledProcessError:
            raise SystemExit(f"Migrating the kept {DB_NAME} failed; run again with --reseed.") from None
        return False
    print(f"== creating {DB_NAME}", flush=True)
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", DB_NAME], check=True)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", DB_NAME], check=True)
    manage("migrate", "--no-input", "-v", "0")
    return True


def check_columns(table: str, columns: list[str]) -> None:
    """COPY names its columns: stop clearly if the schema grew one that needs a value."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s AND is_nullable = 'NO' "
            "AND column_default IS NULL AND is_identity = 'NO'",
            [table],
        )
        missing = sorted({row[0] for row in cursor.fetchall()} - set(columns))
    if missing:
        raise SystemExit(f"{table} has new required columns the seed does not fill: {', '.join(missing)}")


def copy_rows(table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    from django.db import connection

    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def reserve_ids(table: str, count: int) -> list[int]:
    """`count` ids from the table's own sequence, for rows COPY inserts and others point at."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count])
        return [row[0] for row in cursor.fetchall()]


TEMPLATE_COLUMNS = [
    "id",
    "key",
    "account_id",
    "runtime",
    "name",
    "category",
    "description",
    "config_schema",
    "workflow",
    "is_active",
    "created_at",
    "updated_at",
]
INSTALLATION_COLUMNS = [
    "account_id",
    "plugin_id",
    "version_id",
    "uuid",
    "config",
    "secret_config",
    "granted_permissions",
    "template_id",
    "is_active",
    "disabled_reason",
    "disabled_at",
    "consecutive_failures",
    "installed_by_id",
    "created_at",
    "updated_at",
]
REVIEW_COLUMNS = ["account_id", "plugin_id", "author_id", "version", "rating", "text", "is_hidden", "created_at"]
REVIEW_TEXTS = ["", "", "Does what it says.", "Saved us hours a week.", "Setup was confusing.", "Works well."]


def seed(*, plugin_count: int, installation_count: int, tenant_count: int, random_seed: int) -> None:
    from django.db import connection, transaction
    from django.utils import timezone
    from psycopg.types.json import Jsonb

    from accounts.models import Account, Plan, Role, User
    from agents.management.progress import progress_line
    from plugins.models import Plugin, PluginVersion, VersionStatus

    rng = random.Random(random_seed)  # made-up data, not security
    now = timezone.now()
    started = time.monotonic()

    def step(title: str) -> None:
        print(f"== {title} ({time.monotonic() - started:.1f} s)", flush=True)

    def progress(done: int, total: int, unit: str) -> None:
        elapsed = max(time.monotonic() - started, 1e-6)
        print(progress_line(done, total, rate=f"{unit}  {elapsed:6.1f} s"), flush=True)

    step(f"seeding {tenant_count:,} tenants")
    plans = [Plan.FREE, Plan.FREE, Plan.STARTER, Plan.PRO, Plan.ENTERPRISE]
    accounts: list[int] = []
    for first in range(0, tenant_count, 2_500):
        batch = [
            Account(name=f"Market tenant {n:05d}", slug=f"market-{n:05d}", plan=rng.choice(plans))
            for n in range(first, min(tenant_count, first + 2_500))
        ]
        accounts.extend(a.pk for a in Account.objects.bulk_create(batch))
        progress(len(accounts), tenant_count, "tenants")
    User.objects.create_user(ADMIN_EMAIL, account_id=accounts[0], role=Role.CLIENT_ADMIN, full_name="Bench admin")

    step(f"seeding {plugin_count:,} published plugins and {UNPUBLISHED} waiting for review, with their versions")
    names = [f"{p} {n}{q}" for p in PREFIXES for n in NOUNS for q in QUALIFIERS]
    rng.shuffle(names)
    total_plugins = plugin_count + UNPUBLISHED
    if total_plugins > len(names):
        raise SystemExit(f"at most {len(names) - UNPUBLISHED:,} plugins: the name list is that long")
    authors = [f"{word} Labs" for word in ("Acme", "Northwind", "Globex", "Initech", "Umbrella", "Stark")] + [
        f"Studio {n:03d}" for n in range(120)
    ]
    verified_authors = set(rng.sample(authors, len(authors) // 4))
    categories = list(CATEGORY_WEIGHTS)
    seeds: list[SeedPlugin] = []
    rows: list[Plugin] = []
    for index, name in enumerate(names[:total_plugins]):
        category = rng.choices(categories, list(CATEGORY_WEIGHTS.values()))[0]
        author = rng.choice(authors)
        sentences = rng.sample(SENTENCES[category], 2)
        description = f"**{name}** for your WhatsApp inbox. " + " ".join(sentences)
        plugin_id = name.lower().replace(" ", "-")
        published = index < plugin_count
        first_published = now - timedelta(days=rng.uniform(1, 3 * 365)) if published else None
        seeds.append(
            SeedPlugin(
                plugin_id=plugin_id,
                name=name,
                category=category,
                description=description,
                published_at=first_published or now,
                quality=rng.uniform(2.6, 4.9),
            )
        )
        rows.append(
            Plugin(
                plugin_id=plugin_id,
                name=name,
                author=author,
                description=description,
                category=category,
                homepage=f"https://{author.lower().replace(' ', '')}.example/{plugin_id}",
                icon="icon.svg",
                is_published=published,
                published_at=first_published,
                is_verified=author in verified_authors,
                price=None if rng.random() < 0.7 else rng.choice(PRICES),
                is_enabled=rng.random() > 0.01,
            )
        )
    with transaction.atomic():
        for plugin, seed_plugin in zip(Plugin.objects.bulk_create(rows, batch_size=500), seeds, strict=True):
            seed_plugin.pk = plugin.pk
    versions: list[PluginVersion] = []
    described: list[tuple[SeedPlugin, str, datetime | None, list[str]]] = []
    for index, seed_plugin in enumerate(seeds):
        published = index < plugin_count
        count = rng.choice([1, 1, 2, 2, 3]) if published else 1
        when = seed_plugin.published_at
        for number in range(count):
            version = ["1.0.0", "1.1.0", "1.2.0", "2.0.0"][number] if number < 3 else f"2.{number}.0"
            permissions = sorted(rng.sample(PERMISSION_NAMES, rng.randint(1, 4)))
            if rng.random() < 0.2:
                permissions.append(f"http:api.{seed_plugin.plugin_id}.example")
            manifest = {
                "id": seed_plugin.plugin_id,
                "name": seed_plugin.name,
                "version": version,
                "author": rows[index].author,
                "description": seed_plugin.description,
                "icon": "icon.svg",
                "category": seed_plugin.category,
                "entrypoint": f"{seed_plugin.plugin_id.replace('-', '_')}.plugin:Plugin",
                "config_schema": config_schema(rng),
                "permissions": permissions,
                "min_platform_version": "1.0.0",
            }
            data = package(manifest)
            versions.append(
                PluginVersion(
                    plugin_id=seed_plugin.pk,
                    version=version,
                    manifest=manifest,
                    package=data,
                    sha256=hashlib.sha256(data).hexdigest(),
                    size=len(data),
                    changelog=f"## {version}\n\n- Faster answers.\n- Fixes." if number else "First release.",
                    status=VersionStatus.PUBLISHED if published else VersionStatus.PENDING_REVIEW,
                    validation={"problems": []},
                    published_at=when if published else None,
                    status_changed_at=when if published else None,
                )
            )
            described.append((seed_plugin, version, when if published else None, permissions))
            when = min(now, when + timedelta(days=rng.uniform(10, 200)))
    with transaction.atomic():
        for version_row, (owner, label, published_at, asked) in zip(
            PluginVersion.objects.bulk_create(versions, batch_size=250), described, strict=True
        ):
            if published_at is not None:
                owner.versions.append((version_row.pk, label, published_at, asked))
    progress(len(versions), len(versions), "versions")

    published_plugins = seeds[:plugin_count]
    step(f"seeding {installation_count:,} installations of {tenant_count:,} tenants, each with its agent template")
    check_columns("agents_agenttemplate", TEMPLATE_COLUMNS)
    check_columns("plugins_plugininstallation", INSTALLATION_COLUMNS)
    check_columns("plugins_pluginreview", REVIEW_COLUMNS)
    counts = install_counts(rng, published_plugins, installation_count, tenant_count, now)
    pairs = [
        (plugin_index, account) for plugin_index, count in enumerate(counts) for account in rng.sample(accounts, count)
    ]
    rng.shuffle(pairs)

    def installation_rows(
        batch: list[tuple[int, int]], template_ids: list[int]
    ) -> Iterator[tuple[tuple[Any, ...], tuple[Any, ...], tuple[Any, ...] | None]]:
        for (plugin_index, account), template_id in zip(batch, template_ids, strict=True):
            seed_plugin = published_plugins[plugin_index]
            created = seed_plugin.published_at + (now - seed_plugin.published_at) * rng.random()
            available = [v for v in seed_plugin.versions if v[2] <= created] or seed_plugin.versions[:1]
            version_id, number, _, permissions = available[-1] if rng.random() < 0.85 else rng.choice(available)
            template = (
                template_id,
                f"plugin-{seed_plugin.plugin_id}"[:64],
                account,
                "plugin",
                seed_plugin.name,
                seed_plugin.category,
                seed_plugin.description,
                Jsonb(AGENT_CONFIG_SCHEMA),
                Jsonb({}),
                True,
                created,
                created,
            )
            active = rng.random() > 0.03
            installation = (
                account,
                seed_plugin.pk,
                version_id,
                uuid.uuid4(),
                Jsonb({"greeting": "Hello!", "threshold": rng.randint(40, 90)}),
                "",
                Jsonb(permissions),
                template_id,
                active,
                "" if active else "manual",
                None if active else created,
                0,
                None,
                created,
                created,
            )
            review = None
            if rng.random() < 0.08:
                rating = min(5, max(1, round(rng.gauss(seed_plugin.quality, 1.0))))
                review = (
                    account,
                    seed_plugin.pk,
                    None,
                    number,
                    rating,
                    rng.choice(REVIEW_TEXTS),
                    rng.random() < 0.01,
                    created + (now - created) * rng.random(),
                )
            yield template, installation, review

    batch_size = 10_000
    done = 0
    reviews = 0
    for first in range(0, len(pairs), batch_size):
        chunk = pairs[first : first + batch_size]
        with transaction.atomic():
            template_ids = reserve_ids("agents_agenttemplate", len(chunk))
            templates, installs, review_rows = [], [], []
            for template, installation, review in installation_rows(chunk, template_ids):
                templates.append(template)
                installs.append(installation)
                if review is not None:
                    review_rows.append(review)
            copy_rows("agents_agenttemplate", TEMPLATE_COLUMNS, templates)
            copy_rows("plugins_plugininstallation", INSTALLATION_COLUMNS, installs)
            copy_rows("plugins_pluginreview", REVIEW_COLUMNS, review_rows)
        done += len(chunk)
        reviews += len(review_rows)
        progress(done, len(pairs), f"installations, {reviews:,} reviews")

    step("setting each plugin's installs, rating and review count from its rows")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE plugins_plugin AS p SET downloads = i.n FROM (SELECT plugin_id, count(*) AS n "
            "FROM plugins_plugininstallation GROUP BY plugin_id) AS i WHERE i.plugin_id = p.id"
        )
        cursor.execute(
            "UPDATE plugins_plugin AS p SET rating_average = round(r.average, 2), review_count = r.n FROM "
            "(SELECT plugin_id, avg(rating) AS average, count(*) AS n FROM plugins_pluginreview "
            "WHERE NOT is_hidden GROUP BY plugin_id) AS r WHERE r.plugin_id = p.id"
        )
    step("VACUUM ANALYZE")
    for table in (
        "accounts_account",
        "plugins_plugin",
        "plugins_pluginversion",
        "agents_agenttemplate",
        "plugins_plugininstallation",
        "plugins_pluginreview",
    ):
        psql(f"VACUUM ANALYZE {table}")
    step("seeded")


# --- the measurements ----------------------------------------------------------------------------


def recorder(into: list[tuple[str, Any]]) -> Callable[..., Any]:
    """A database execute wrapper that records every query (and runs it)."""

    def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        into.append((sql, params))
        return execute(sql, params, many, context)

    return wrapper


@dataclass
class Line:
    label: str
    url: str
    timings: list[float] = field(default_factory=list)
    queries: list[list[tuple[str, Any]]] = field(default_factory=list)
    results: int = 0

    @property
    def p50(self) -> float:
        return statistics.median(self.timings)

    @property
    def p99(self) -> float:
        return percentile(self.timings, 0.99)

    @property
    def per_second(self) -> float:
        return 1000 / statistics.fmean(self.timings)

    @property
    def query_counts(self) -> set[int]:
        return {len(q) for q in self.queries}

    def list_query(self) -> tuple[str, Any] | None:
        """The page of plugins: the query on plugins_plugin with the sort order."""
        for sql, params in self.queries[0]:
            if 'FROM "plugins_plugin"' in sql and "ORDER BY" in sql:
                return sql, params
        return None


def measure(client: Any, lines: list[Line], count: int, *, block: int = 25, warm_up: int = 10) -> None:
    """`count` requests per line, in rounds of `block` requests of each line in turn: a slower spell
    of the machine (other processes, a busy host) then falls on every line alike instead of on one
    of them, while each line still mostly pays for its own garbage collection."""
    from django.db import connection

    def get(line: Line) -> Any:
        response = client.get(line.url)
        if response.status_code != 200:
            raise SystemExit(f"{line.url} answered {response.status_code}: {response.content[:500]!r}")
        return response

    for line in lines:
        for _ in range(warm_up):
            body = get(line).json()
        line.results = len(body["results"]) if isinstance(body, dict) and "results" in body else 0
    done = 0
    while done < count:
        size = min(block, count - done)
        for line in lines:
            for _ in range(size):
                executed: list[tuple[str, Any]] = []
                with connection.execute_wrapper(recorder(executed)):
                    started = time.perf_counter()
                    get(line)
                    line.timings.append((time.perf_counter() - started) * 1000)
                line.queries.append(executed)
        done += size
        print(f"  {done:>5}/{count} requests per line", flush=True)


def explain(sql: str, params: Any) -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        return [row[0] for row in cursor.fetchall()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300, help="timed requests per line")
    parser.add_argument("--plugins", type=int, default=1_000, help="published plugins")
    parser.add_argument("--installations", type=int, default=100_000)
    parser.add_argument("--tenants", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=42, help="random seed of the data set")
    parser.add_argument("--reseed", action="store_true", help="seed again even if the row counts match")
    args = parser.parse_args()

    must_seed = prepare(plugins=args.plugins, installations=args.installations, reseed=args.reseed)
    os.environ.update(ENV)
    sys.path.insert(0, str(ROOT))
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)  # no collectstatic here
    import django

    django.setup()
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client

    from accounts.models import User
    from accounts.services.auth import auth_tokens_issue
    from plugins.models import Plugin, PluginInstallation, PluginReview, PluginVersion

    if must_seed:
        seed(
            plugin_count=args.plugins,
            installation_count=args.installations,
            tenant_count=args.tenants,
            random_seed=args.seed,
        )
    cache.clear()  # Redis database 12: rate-limit counters and cached sign-in state of an earlier run

    admin = User.objects.select_related("account").get(email=ADMIN_EMAIL)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {auth_tokens_issue(user=admin).access}")
    first_page = client.get("/api/v1/plugins")
    assert first_page.status_code == 200, first_page.content
    next_url = first_page.json()["next"]
    assert next_url, "the default sort has a single page"
    parts = urlsplit(next_url)
    second_page = f"{parts.path}?{parts.query}"

    lines = [
        Line("bare Django no-op (GET /api/health)", "/api/health"),
        Line("sort=installs (default)", "/api/v1/plugins"),
        Line("sort=rating", "/api/v1/plugins?sort=rating"),
        Line("sort=newest", "/api/v1/plugins?sort=newest"),
        Line("sort=name", "/api/v1/plugins?sort=name"),
        Line("category=SALES&verified=true", "/api/v1/plugins?category=SALES&verified=true"),
        Line(f"q={SEARCH_WORD}", f"/api/v1/plugins?q={SEARCH_WORD}"),
        Line("page 2 (next cursor, default sort)", second_page),
    ]
    published = Plugin.objects.filter(is_published=True).count()
    installs = sorted(Plugin.objects.filter(is_published=True).values_list("downloads", flat=True))
    tenants = PluginInstallation.objects.values("account").distinct().count()
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        server = cursor.fetchone()[0].split(" on ")[0]

    print()
    print(
        f"Marketplace catalogue benchmark: {published:,} published plugins "
        f"({PluginVersion.objects.count():,} versions), {PluginInstallation.objects.count():,} installations, "
        f"{PluginReview.objects.count():,} reviews; {server}, Redis"
    )
    print(
        f"  installations in {tenants:,} tenants; installs per plugin: most {installs[-1]:,}, "
        f"median {statistics.median(installs):,.0f}, fewest {installs[0]:,}"
    )
    print(
        f"  {args.requests} requests per line, in rounds of 25 of each line in turn, after 10 to warm up; "
        f"django.test.Client (full middleware), a CLIENT_ADMIN's JWT; {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.2f} before"
    )
    print()
    measure(client, lines, args.requests)
    print()
    print(f"  {'request':<38} {'p50':>8} {'p99':>8} {'req/s':>7} {'queries':>8} {'vs no-op':>9} {'results':>8}")
    for line in lines:
        counts = "/".join(str(n) for n in sorted(line.query_counts))
        ratio = line.per_second / lines[0].per_second
        print(
            f"  {line.label:<38} {line.p50:>6.2f}ms {line.p99:>6.2f}ms {line.per_second:>7,.0f} {counts:>8} "
            f"{ratio:>9.3f} {line.results if line is not lines[0] else '':>8}",
            flush=True,
        )
    print(f"  (vs no-op: the line's requests/s / the no-op's; load average {os.getloadavg()[0]:.2f} after)")

    print()
    print("Query plans of the list query (the page of plugins), EXPLAIN ANALYZE:")
    for line in lines[1:]:
        found = line.list_query()
        if found is None:
            print(f"-- {line.label}: no list query recorded")
            continue
        plan = explain(*found)
        if line is lines[1]:
            print(f"-- {line.label}, in full:")
            print(f"   {found[0]}")
            for row in plan:
                print(f"   {row}")
            index_used = any("plugin_by_installs" in row for row in plan)
            seq_scan = any("Seq Scan on plugins_plugin" in row for row in plan)
            print(
                f"   => partial index plugin_by_installs {'used' if index_used else 'NOT used'}; "
                f"{'a Seq Scan on plugins_plugin' if seq_scan else 'no Seq Scan on plugins_plugin'}"
            )
            continue
        print(f"-- {line.label}:")
        for row in plan:
            if any(word in row for word in ("Scan", "Sort", "Filter", "Index Cond", "Execution Time")):
                print(f"   {row}")

    wrong = [line for line in lines[1:] if line.query_counts != {EXPECTED_QUERIES}]
    if wrong:
        print()
        for line in wrong:
            bad = next(q for q in line.queries if len(q) != EXPECTED_QUERIES)
            print(f"FAIL: {line.label}: {len(bad)} queries per request, not {EXPECTED_QUERIES}:")
            for sql, _ in bad:
                print(f"   {sql}")
        sys.exit(1)
    print()
    print(f"Every catalogue page took {EXPECTED_QUERIES} queries.")


if __name__ == "__main__":
    main()
