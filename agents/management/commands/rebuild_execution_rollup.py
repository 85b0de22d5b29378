"""`manage.py rebuild_execution_rollup`: recount the hourly analytics roll-up from the executions."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from accounts.models import Account
from agents.cache import analytics_invalidate
from agents.management.progress import progress_line
from agents.services.rollup import hourly_accounts, hourly_rebuild


class Command(BaseCommand):
    help = (
        "Recount the hourly analytics roll-up (agents_agentexecutionhourly: per agent and UTC hour, "
        "executions by status and a duration histogram) from the stored executions, which the "
        "agent analytics read instead of the executions. Run it once after upgrading to the release "
        "that introduced the roll-up (executions stored before it are missing from the analytics "
        "until then), after loading executions by other means than the runner webhook, or when "
        "--check reports differences. Safe while the site runs: each tenant is recounted a day at a "
        "time, each day in its own transaction, during which runner events of that tenant's "
        "executions wait (they do not fail). Prints a progress line per day and how many rows "
        "differed; refreshes the tenants' cached analytics."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--account", action="append", default=[], help="Slug of a tenant to rebuild (repeatable; default: all)."
        )
        parser.add_argument(
            "--days", type=int, default=None, help="Only the last N days (default: every execution's hour)."
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="Only compare the roll-up with the executions; exit with status 1 when they differ.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days: int | None = options["days"]
        if days is not None and days < 1:
            raise CommandError("--days must be at least 1.")
        if options["account"]:
            accounts = list(Account.objects.filter(slug__in=options["account"]).order_by("id"))
            missing = set(options["account"]) - {account.slug for account in accounts}
            if missing:
                raise CommandError(f"No tenant with slug {', '.join(sorted(missing))}.")
        else:
            accounts = list(Account.objects.filter(pk__in=hourly_accounts()).order_by("id"))
        date_from = date_to = None
        if days is not None:
            date_to = timezone.now() + timedelta(microseconds=1)
            date_from = date_to - timedelta(days=days)
        dry_run: bool = options["check"]
        differing = 0
        for account in accounts:
            self.stdout.write(f"{'Checking' if dry_run else 'Rebuilding'} '{account.slug}', a day per step.")
            started = time.monotonic()

            def report(done: int, total: int, started: float = started) -> None:
                if done:
                    elapsed = max(time.monotonic() - started, 1e-6)
                    self.stdout.write(progress_line(done, total, rate=f"{done / elapsed:>8,.1f} days/s"))
                    self.stdout.flush()

            result = hourly_rebuild(
                account_id=account.pk, date_from=date_from, date_to=date_to, progress=report, dry_run=dry_run
            )
            differing += result.changed
            verb = "differ" if dry_run else "were rewritten"
            self.stdout.write(f"  {result.rows:,} hourly rows; {result.changed:,} {verb}.")
            if not dry_run and result.changed:
                analytics_invalidate(account.pk)
        if dry_run and differing:
            self.stderr.write(f"{differing:,} hourly rows differ from the executions: run without --check.")
            raise SystemExit(1)
        self.stdout.write(self.style.SUCCESS(f"Done: {len(accounts)} tenant(s)."))
