"""`manage.py seed_agent_executions`: a demo tenant's agents and any number of executions."""

from __future__ import annotations

import math
import random
import secrets
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Account, Plan
from agents.cache import analytics_invalidate
from agents.management.progress import progress_line
from agents.models import (
    Agent,
    AgentCategory,
    AgentExecution,
    AgentStatus,
    AgentTemplate,
    ExecutionStatus,
)
from agents.services.rollup import hourly_rebuild

DEMO_AGENT_NAMES = [
    "Sales qualifier",
    "Support triage",
    "Order tracker",
    "Invoice helper",
    "HR onboarding",
    "Lead enricher",
    "FAQ answerer",
    "Appointment booker",
]
# Status mix of finished executions; executions started in the last few minutes may still run.
FAILED_SHARE = 0.08
RUNNING_WINDOW = timedelta(minutes=5)
ERRORS = [
    "Runner timeout after 30000 ms",
    "Upstream API answered 502",
    "Invalid tool output: missing field 'answer'",
    "Rate limited by the language model provider",
]
COLUMNS = [
    "account_id",
    "agent_id",
    "external_id",
    "status",
    "started_at",
    "finished_at",
    "duration_ms",
    "input_summary",
    "output_summary",
    "error",
    "created_at",
]


class Command(BaseCommand):
    help = (
        "Seed a demo data set for agent analytics: make sure the tenant (--account, created if missing) "
        "has --agents active agents, then insert --executions executions spread over the last --days days "
        "(about 92% succeeded, 8% failed, the most recent few minutes partly still running; log-normal "
        "durations around 1.2 s, failures either fast or 30 s timeouts). Rows are inserted in batches "
        "(COPY on PostgreSQL, bulk_create elsewhere) with a progress line per batch; then the hourly "
        "analytics roll-up of those days is recounted from the executions (a progress line per day). Example: "
        "manage.py seed_agent_executions --executions 1000000 --account demo --days 30"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--executions", type=int, default=10_000, help="How many executions to add (default 10000)."
        )
        parser.add_argument("--account", default="demo", help="Slug of the tenant to seed (default: demo).")
        parser.add_argument(
            "--days", type=int, default=30, help="Spread executions over this many past days (default 30)."
        )
        parser.add_argument("--agents", type=int, default=8, help="Agents the tenant should have at least (default 8).")
        parser.add_argument("--batch-size", type=int, default=20_000, help="Rows per insert batch (default 20000).")
        parser.add_argument("--seed", type=int, default=None, help="Random seed, for a repeatable data set.")
        parser.add_argument("--allow-production", action="store_true", help="Seed even when DJANGO_ENV=production.")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.IS_PRODUCTION and not options["allow_production"]:
            raise CommandError("Refusing to seed demo data in production; pass --allow-production to insist.")
        total: int = options["executions"]
        days: int = options["days"]
        batch_size: int = options["batch_size"]
        if total < 0 or days < 1 or options["agents"] < 1 or batch_size < 1:
            raise CommandError("--executions must be >= 0; --days, --agents and --batch-size >= 1.")

        account, agents = self._agents(options["account"], options["agents"])
        use_copy = connection.vendor == "postgresql"
        self.stdout.write(
            f"Seeding {total:,} executions for {len(agents)} agents of '{account.slug}' over {days} days "
            f"({'COPY' if use_copy else 'bulk_create'}, batches of {batch_size:,})."
        )
        started = time.monotonic()
        hourly_rows = executions_seed(
            account_id=account.pk,
            agent_ids=[a.pk for a in agents],
            total=total,
            days=days,
            batch_size=batch_size,
            rng=random.Random(options["seed"]),  # noqa: S311 - demo data, not security
            write=self._write,
        )
        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(f"Done: {total:,} executions, {hourly_rows:,} hourly rows in {elapsed:.1f} s.")
        )

    def _write(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()

    def _agents(self, slug: str, wanted: int) -> tuple[Account, list[Agent]]:
        with transaction.atomic():
            account, created = Account.objects.get_or_create(
                slug=slug, defaults={"name": slug.replace("-", " ").title(), "plan": Plan.PRO}
            )
            if created:
                self.stdout.write(f"Created tenant '{account.slug}'.")
            template = AgentTemplate.objects.filter(is_active=True).order_by("id").first()
            if template is None:
                template, _ = AgentTemplate.objects.get_or_create(
                    key="demo-custom",
                    defaults={
                        "name": "Demo agent",
                        "category": AgentCategory.CUSTOM,
                        "description": "A template the demo data set created.",
                        "config_schema": {"type": "object"},
                    },
                )
            agents = list(Agent.objects.filter(account=account).exclude(status=AgentStatus.DELETED).order_by("id"))
            for index in range(len(agents), wanted):
                agents.append(
                    Agent.objects.create(
                        account=account,
                        name=DEMO_AGENT_NAMES[index % len(DEMO_AGENT_NAMES)]
                        + ("" if index < len(DEMO_AGENT_NAMES) else f" {index // len(DEMO_AGENT_NAMES) + 1}"),
                        category=template.category,
                        template=template,
                        status=AgentStatus.ACTIVE,
                        skybot_workflow_id=f"demo-{secrets.token_hex(6)}",
                        deployed_at=timezone.now(),
                    )
                )
                self.stdout.write(f"Created agent '{agents[-1].name}'.")
            return account, agents[:wanted]


def executions_seed(
    *,
    account_id: int,
    agent_ids: list[int],
    total: int,
    days: int,
    batch_size: int,
    rng: random.Random,
    write: Callable[[str], None],
) -> int:
    """Insert `total` executions of these agents over the last `days` days in batches (COPY on
    PostgreSQL, bulk_create elsewhere), a progress line per batch, then recount the hourly roll-up of
    those days from the executions (COPY bypasses the writer). Returns the roll-up rows written."""
    now = timezone.now()
    run = secrets.token_hex(4)
    use_copy = connection.vendor == "postgresql"
    started = time.monotonic()
    done = 0
    rows = _rows(rng=rng, account_id=account_id, agent_ids=agent_ids, now=now, days=days, run=run, total=total)
    while done < total:
        size = min(batch_size, total - done)
        batch = [next(rows) for _ in range(size)]
        with transaction.atomic():
            if use_copy:
                _copy(batch)
            else:
                AgentExecution.objects.bulk_create(
                    [AgentExecution(**dict(zip(COLUMNS, row, strict=True))) for row in batch], batch_size=2000
                )
        done += size
        elapsed = max(time.monotonic() - started, 1e-6)
        write(progress_line(done, total, rate=f"{done / elapsed:>10,.0f} rows/s"))
    if not total:
        return 0
    write("Back-filling the hourly analytics roll-up, a day per step.")
    started = time.monotonic()

    def report(done: int, total: int) -> None:
        if done:
            elapsed = max(time.monotonic() - started, 1e-6)
            write(progress_line(done, total, rate=f"{done / elapsed:>8,.1f} days/s"))

    hourly_rows = hourly_rebuild(
        account_id=account_id,
        date_from=now - timedelta(days=days),
        date_to=now + timedelta(microseconds=1),
        progress=report,
    ).rows
    if use_copy:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE agents_agentexecution")
            cursor.execute("ANALYZE agents_agentexecutionhourly")
    analytics_invalidate(account_id)
    return hourly_rows


def _rows(
    *, rng: random.Random, account_id: int, agent_ids: list[int], now: datetime, days: int, run: str, total: int
) -> Iterator[tuple[Any, ...]]:
    """`total` executions, oldest first as a live table stores them (a day's rows together, in time
    order): busier agents first, busier during the day, realistic durations."""
    weights = [1.0 / (rank + 1) for rank in range(len(agent_ids))]  # a few agents do most of the work
    first = now - timedelta(days=days)
    index = 0
    for day in range(days):
        count = total // days + (1 if day < total % days else 0)
        starts = sorted(_day_start(rng, first + timedelta(days=day)) for _ in range(count))
        for started in starts:
            yield _row(rng, account_id, rng.choices(agent_ids, weights)[0], started, now, run, index := index + 1)


def _day_start(rng: random.Random, day_start: datetime) -> datetime:
    """A start time within the day beginning at `day_start`, half as likely at night."""
    started = day_start + timedelta(seconds=rng.random() * 86400)
    if not 7 <= started.hour <= 20 and rng.random() < 0.5:  # quieter at night
        started = day_start + timedelta(seconds=rng.random() * 86400)
    return started


def _row(
    rng: random.Random, account_id: int, agent_id: int, started: datetime, now: datetime, run: str, index: int
) -> tuple[Any, ...]:
    failed = rng.random() < FAILED_SHARE
    if now - started < RUNNING_WINDOW and rng.random() < 0.5:
        status, duration, finished, error = ExecutionStatus.RUNNING, None, None, ""
    elif failed:
        duration = 30_000 if rng.random() < 0.3 else int(rng.lognormvariate(math.log(400), 0.5))
        status, error = ExecutionStatus.FAILED, rng.choice(ERRORS)
        finished = started + timedelta(milliseconds=duration)
    else:
        duration = max(50, int(rng.lognormvariate(math.log(1200), 0.6)))
        status, error = ExecutionStatus.SUCCEEDED, ""
        finished = started + timedelta(milliseconds=duration)
    return (
        account_id,
        agent_id,
        f"seed-{run}-{index}",
        status,
        started,
        finished,
        duration,
        "Customer asked about an order" if status != ExecutionStatus.RUNNING else "Customer message",
        "Answered with the order status" if status == ExecutionStatus.SUCCEEDED else "",
        error,
        now,
    )


def _copy(batch: list[tuple[Any, ...]]) -> None:
    """PostgreSQL COPY: several times faster than INSERTs for a million rows."""
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(f"COPY agents_agentexecution ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in batch:
                copy.write_row(row)
