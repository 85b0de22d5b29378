"""Benchmark the agent analytics endpoints on 1,000,000 executions in PostgreSQL.

Uses its own database (skybot_bench_analytics on 127.0.0.1) and Redis database 14. The seeded
database is kept between runs: when it already holds exactly --executions executions it is reused
(and its hourly roll-up rebuilt if `rebuild_execution_rollup --check` finds it out of step, e.g. a
database seeded before the roll-up existed), otherwise it is dropped, migrated and seeded with
`manage.py seed_agent_executions` (COPY, then the roll-up back-fill; about 75 s for a million
rows), then vacuumed so index-only scans see an all-visible table.

The endpoints are then called in this process through django.test.Client (full middleware,
authentication with a real JWT, serialization; no network and no HTTP server in the figures):
cold (the cache cleared before every request) and cached. It prints p50/p99 latency, queries per
request, and the PostgreSQL plan of each aggregate query.

Usage: .venv/bin/python bench/analytics/run.py [--executions 1000000] [--requests 50] [--reseed]
Needs: PostgreSQL and Redis on 127.0.0.1 (createdb/dropdb/psql on the PATH).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.common import percentile  # noqa: E402
from bench.common import psql as psql_on  # noqa: E402

DB_NAME = "skybot_bench_analytics"
ACCOUNT = "demo"
ENV = {
    "DJANGO_ENV": "development",
    "DEBUG": "false",
    "DJANGO_SETTINGS_MODULE": "skybot_inbox.settings.base",
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
    "REDIS_URL": "redis://127.0.0.1:6379/14",
    # One client sends every request: the per-caller rate limits would measure themselves.
    "THROTTLE_BURST": "100000/s",
    "THROTTLE_SUSTAINED": "1000000/m",
    "THROTTLE_HOURLY": "10000000/h",
    "LOG_LEVEL": "ERROR",  # the slow-query warnings would drown the table
}


def psql(query: str, database: str = DB_NAME) -> str:
    return psql_on(query, database)


def manage(*args: str) -> None:
    subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "manage.py", *args], env={**os.environ, **ENV}, cwd=ROOT, check=True
    )


def prepare(executions: int, *, reseed: bool) -> None:
    exists = psql(f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}'", "postgres") == "1"
    count = -1
    if exists and not reseed:
        try:
            count = int(psql("SELECT count(*) FROM agents_agentexecution"))
        except (subprocess.CalledProcessError, ValueError):
            count = -1
    if count == executions:
        print(f"== reusing {DB_NAME}: it holds {count:,} executions", flush=True)
        manage("migrate", "--no-input", "-v", "0")
        try:
            manage("rebuild_execution_rollup", "--check")
        except subprocess.CalledProcessError:
            print("== rebuilding the hourly roll-up", flush=True)
            manage("rebuild_execution_rollup")
            psql("VACUUM ANALYZE agents_agentexecutionhourly")
        return
    print(f"== creating {DB_NAME} and seeding {executions:,} executions", flush=True)
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", DB_NAME], check=True)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", DB_NAME], check=True)
    manage("migrate", "--no-input", "-v", "0")
    manage(
        "seed_agent_executions",
        "--executions",
        str(executions),
        "--account",
        ACCOUNT,
        "--days",
        "30",
        "--seed",
        "42",
        "--batch-size",
        "50000",
    )
    print("== VACUUM ANALYZE", flush=True)
    psql("VACUUM ANALYZE agents_agentexecution")
    psql("VACUUM ANALYZE agents_agentexecutionhourly")


def measure(call: Callable[[], Any], *, before: Callable[[], None], count: int) -> list[float]:
    timings = []
    for _ in range(count):
        before()
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def recorder(into: list[tuple[str, Any]]) -> Callable[..., Any]:
    """A database execute wrapper that records every query (and runs it)."""

    def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        into.append((sql, params))
        return execute(sql, params, many, context)

    return wrapper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--executions", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=50, help="requests per endpoint and mode")
    parser.add_argument("--reseed", action="store_true", help="seed again even if the row count matches")
    args = parser.parse_args()

    prepare(args.executions, reseed=args.reseed)
    os.environ.update(ENV)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.cache import cache
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.utils import timezone

    from accounts.models import Account, Role, User
    from accounts.services.auth import auth_tokens_issue
    from agents.models import AgentExecution

    account = Account.objects.get(slug=ACCOUNT)
    viewer, _ = User.objects.get_or_create(
        email="bench-viewer@demo.skybot.local", defaults={"account": account, "role": Role.VIEWER}
    )
    token = auth_tokens_issue(user=viewer).access
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    busiest = (
        AgentExecution.objects.filter(account=account)
        .values("agent_id")
        .order_by()
        .annotate(n=Count("agent_id"))
        .order_by("-n")
        .first()
    )
    assert busiest is not None
    total = AgentExecution.objects.filter(account=account).count()

    endpoints = [
        ("account, last 7 days by day", "/api/v1/agents/analytics"),
        ("busiest agent, last 7 days by day", f"/api/v1/agents/{busiest['agent_id']}/analytics"),
        ("account, last 7 days by hour", "/api/v1/agents/analytics?interval=hour"),
        ("account, last 30 days by day", "/api/v1/agents/analytics?from={month_ago}"),
    ]
    month_ago = (timezone.now() - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")

    print()
    print(f"Agent analytics benchmark: {total:,} executions of tenant '{ACCOUNT}' (30 days), PostgreSQL + Redis")
    print(f"  {args.requests} requests per line; cold = cache cleared before every request; django.test.Client")
    print()
    print(
        f"  {'endpoint':<36} {'cold p50':>9} {'cold p99':>9} {'queries':>8}   "
        f"{'cached p50':>10} {'cached p99':>10} {'queries':>8}"
    )
    plans: list[tuple[str, list[str]]] = []
    for label, url in endpoints:
        url = url.format(month_ago=month_ago)

        def get(url: str = url) -> Any:
            response = client.get(url)
            assert response.status_code == 200, response.content
            return response

        get()  # warm up the connection and the code paths
        cold = measure(get, before=cache.clear, count=args.requests)
        cache.clear()
        cold_queries: list[tuple[str, Any]] = []
        warm_queries: list[tuple[str, Any]] = []
        with connection.execute_wrapper(recorder(cold_queries)):
            get()
        with connection.execute_wrapper(recorder(warm_queries)):
            get()
        warm = measure(get, before=lambda: None, count=args.requests)
        print(
            f"  {label:<36} {statistics.median(cold):>7.1f}ms {percentile(cold, 0.99):>7.1f}ms "
            f"{len(cold_queries):>8}   {statistics.median(warm):>8.2f}ms "
            f"{percentile(warm, 0.99):>8.2f}ms {len(warm_queries):>8}"
        )
        # The roll-up (agents_agentexecutionhourly), the partial hours and the percentiles.
        aggregate_sql = [q for q in cold_queries if "agents_agentexecution" in q[0]]
        for sql, params in aggregate_sql:
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, params)
                plan = [row[0] for row in cursor.fetchall()]
            if "agents_agentexecutionhourly" in sql:
                kind = "roll-up: counts and histogram groups"
                if "GROUP BY" not in sql:
                    kind = "roll-up: histogram bins"
            elif "percentile_cont" in sql:
                kind = "executions: exact percentiles"
            else:
                kind = "executions: partial hours"
            plans.append((f"{label} ({kind})", plan))

    print()
    print("Query plans (cold request of each line):")
    for label, plan in plans:
        print(f"-- {label}")
        for line in plan:
            if any(word in line for word in ("Scan", "Aggregate", "Sort", "Execution Time", "Heap Fetches", "JIT")):
                print(f"   {line if len(line) <= 160 else line[:157] + '...'}")  # the bin edges are long


if __name__ == "__main__":
    main()
