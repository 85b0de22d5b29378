"""`manage.py seed_scale`: one tenant at a big customer's scale, for trying pages and queries on it."""

from __future__ import annotations

import math
import random
import secrets
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Account, Plan, Role, User
from agents.management.commands.seed_agent_executions import executions_seed
from agents.models import Agent, AgentCategory, AgentRuntime, AgentStatus, AgentTemplate
from inbox.models import Channel, Contact, Conversation, Lead, Message
from skybot_inbox.management import scale

SIZES = {  # option: (default, what it is)
    "contacts": (100_000, "contacts (customers with a WhatsApp id)"),
    "conversations": (100_000, "conversations (one per contact and channel; more channels when above --contacts)"),
    "messages": (1_000_000, "messages (the first conversation gets 5,000, the rest heavy-tailed)"),
    "leads": (50_000, "leads, each linked to a contact"),
    "agents": (100, "active runner agents"),
    "executions": (10_000_000, "agent executions, with their hourly roll-up"),
    "people": (60, "people (users) of the tenant, with unusable passwords"),
}
ROLE_MIX = [Role.CLIENT_ADMIN] + [Role.USER] * 6 + [Role.VIEWER] * 3


class Command(BaseCommand):
    help = (
        "Fill ONE new tenant (--account-slug, created) with data at a big customer's scale: contacts, "
        "conversations, messages (varied text from a small vocabulary, so full-text search matches; one "
        "conversation of 5,000 messages), leads, people, runner agents and their executions, over the last "
        "--days days. Rows go in set-based, in batches (COPY on PostgreSQL, bulk_create elsewhere), with a "
        "progress line (rows/s) per batch and the time per table at the end; then the conversations' last "
        "message time, last inbound time and unread count are recounted from their messages and the agents' "
        "hourly roll-up from their executions, so every page shows true figures. Refuses a tenant that "
        "already has data unless --force, and production unless --allow-production. The defaults are the "
        "full sizes (minutes on PostgreSQL). Example: manage.py seed_scale --account-slug scale "
        "--conversations 10000 --messages 100000 --contacts 10000 --leads 5000 --executions 1000000"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        for option, (default, what) in SIZES.items():
            parser.add_argument(f"--{option}", type=int, default=default, help=f"How many {what} (default {default}).")
        parser.add_argument(
            "--account-slug", default="scale", help="Slug of the tenant to create and fill (default: scale)."
        )
        parser.add_argument("--days", type=int, default=90, help="Spread rows over this many past days (default 90).")
        parser.add_argument("--batch-size", type=int, default=20_000, help="Rows per insert batch (default 20000).")
        parser.add_argument("--seed", type=int, default=None, help="Random seed, for a repeatable data set.")
        parser.add_argument(
            "--force", action="store_true", help="Add to the tenant even when it already exists with data."
        )
        parser.add_argument("--allow-production", action="store_true", help="Seed even when DJANGO_ENV=production.")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.IS_PRODUCTION and not options["allow_production"]:
            raise CommandError("Refusing to seed scale data in production; pass --allow-production to insist.")
        sizes: dict[str, int] = {option: options[option] for option in SIZES}
        days: int = options["days"]
        batch_size: int = options["batch_size"]
        if min(sizes.values()) < 0 or days < 1 or batch_size < 1:
            raise CommandError("Sizes must be >= 0; --days and --batch-size >= 1.")
        for needs, needed in [
            ("conversations", "contacts"),
            ("leads", "contacts"),
            ("messages", "conversations"),
            ("executions", "agents"),
        ]:
            if sizes[needs] and not sizes[needed]:
                raise CommandError(f"--{needs} needs at least one of --{needed}.")

        account = self._account(options["account_slug"], force=options["force"])
        rng = random.Random(options["seed"])  # noqa: S311 - demo data, not security
        now = timezone.now()
        run = secrets.token_hex(4)
        use_copy = connection.vendor == "postgresql"
        self.stdout.write(
            f"Seeding tenant '{account.slug}' over {days} days ({'COPY' if use_copy else 'bulk_create'}, "
            f"batches of {batch_size:,})."
        )
        timings: list[tuple[str, int, float]] = []

        def step(table: str, rows: int, work: Callable[[], Any]) -> Any:
            self._write(f"{table}: {rows:,} rows")
            started = time.monotonic()
            result = work()
            timings.append((table, rows, time.monotonic() - started))
            return result

        people = step("people", sizes["people"], lambda: self._people(account, sizes["people"], rng=rng, run=run))
        agents = step("agents", sizes["agents"], lambda: self._agents(account, sizes["agents"], run=run))
        channel_count = math.ceil(sizes["conversations"] / sizes["contacts"]) if sizes["contacts"] else 0
        channels = step("channels", max(channel_count, 1), lambda: self._channels(account, max(channel_count, 1)))

        first_number = Contact.objects.filter(account=account).count()
        step(
            "contacts",
            sizes["contacts"],
            lambda: scale.insert_rows(
                Contact,
                scale.CONTACT_COLUMNS,
                scale.contact_rows(rng, account_id=account.pk, first_number=first_number, now=now, days=days),
                total=sizes["contacts"],
                batch_size=batch_size,
                write=self._write,
            ),
        )
        newest = Contact.objects.filter(account=account).order_by("-id").values_list("id", "name", "phone")
        contacts = list(newest[: sizes["contacts"]])[::-1]
        assignees = [p.pk for p in people if p.role != Role.VIEWER]
        step(
            "conversations",
            sizes["conversations"],
            lambda: scale.insert_rows(
                Conversation,
                scale.CONVERSATION_COLUMNS,
                scale.conversation_rows(
                    rng,
                    account_id=account.pk,
                    channel_ids=[c.pk for c in channels],
                    contact_ids=[c[0] for c in contacts],
                    assignee_ids=assignees,
                    now=now,
                ),
                total=sizes["conversations"],
                batch_size=batch_size,
                write=self._write,
            ),
        )
        conversations = list(
            Conversation.objects.filter(channel__in=channels).order_by("id").values_list("id", "channel_id")
        )
        counts = scale.message_counts(rng, conversations=len(conversations), messages=sizes["messages"])
        step(
            "messages",
            sizes["messages"],
            lambda: scale.insert_rows(
                Message,
                scale.MESSAGE_COLUMNS,
                scale.message_rows(
                    rng,
                    account_id=account.pk,
                    conversations=((c, ch, n) for (c, ch), n in zip(conversations, counts, strict=True)),
                    sender_user_ids=assignees,
                    sender_agent_ids=[a.pk for a in agents],
                    now=now,
                    days=days,
                    run=run,
                ),
                total=sizes["messages"],
                batch_size=batch_size,
                write=self._write,
            ),
        )
        step(
            "conversation counters",
            sizes["conversations"],
            lambda: self._write(
                f"  recounted {scale.conversations_recount(account_id=account.pk):,} conversations from their messages"
            ),
        )
        step(
            "leads",
            sizes["leads"],
            lambda: scale.insert_rows(
                Lead,
                scale.LEAD_COLUMNS,
                scale.lead_rows(rng, account_id=account.pk, contacts=contacts, now=now, days=days),
                total=sizes["leads"],
                batch_size=batch_size,
                write=self._write,
            ),
        )
        step(
            "executions + hourly roll-up",
            sizes["executions"],
            lambda: executions_seed(
                account_id=account.pk,
                agent_ids=[a.pk for a in agents],
                total=sizes["executions"],
                days=days,
                batch_size=batch_size,
                rng=rng,
                write=self._write,
            ),
        )
        if use_copy:
            with connection.cursor() as cursor:
                for model in (Contact, Conversation, Message, Lead):
                    cursor.execute(f"ANALYZE {model._meta.db_table}")

        self.stdout.write("")
        self.stdout.write(f"  {'table':<28} {'rows':>12} {'seconds':>9} {'rows/s':>10}")
        for table, rows, seconds in timings:
            self.stdout.write(f"  {table:<28} {rows:>12,} {seconds:>9.1f} {rows / max(seconds, 1e-6):>10,.0f}")
        total = sum(seconds for _, _, seconds in timings)
        self.stdout.write(self.style.SUCCESS(f"Done: tenant '{account.slug}' (id {account.pk}) in {total:.1f} s."))

    def _write(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()

    def _account(self, slug: str, *, force: bool) -> Account:
        account, created = Account.objects.get_or_create(
            slug=slug, defaults={"name": slug.replace("-", " ").title(), "plan": Plan.PRO}
        )
        if created:
            self.stdout.write(f"Created tenant '{slug}'.")
            return account
        has_data = any(
            model.objects.filter(account=account).exists() for model in (User, Channel, Contact, Lead, Agent)
        )
        if has_data and not force:
            raise CommandError(f"Tenant '{slug}' already has data; pass --force to add to it, or pick another slug.")
        return account

    def _people(self, account: Account, count: int, *, rng: random.Random, run: str) -> list[User]:
        people = []
        for index in range(count):
            name = scale.person_name(rng)
            role = ROLE_MIX[0] if index == 0 else rng.choice(ROLE_MIX)  # at least one admin
            people.append(
                User(
                    email=f"{name.lower().replace(' ', '.')}.{run}{index}@{account.slug}.scale.local",
                    full_name=name,
                    account=account,
                    role=role,
                    password=make_password(None),
                )
            )
        return User.objects.bulk_create(people, batch_size=1000)

    def _agents(self, account: Account, count: int, *, run: str) -> list[Agent]:
        template = (
            AgentTemplate.objects.filter(is_active=True, account__isnull=True, runtime=AgentRuntime.RUNNER)
            .order_by("id")
            .first()
        )
        if template is None:
            template, _ = AgentTemplate.objects.get_or_create(
                key="scale-custom",
                account=None,
                defaults={
                    "name": "Scale test agent",
                    "category": AgentCategory.CUSTOM,
                    "description": "A template the scale data set created.",
                    "config_schema": {"type": "object"},
                },
            )
        now = timezone.now()
        agents = [
            Agent(
                account=account,
                name=f"{scale.AGENT_NAMES[index % len(scale.AGENT_NAMES)]} {index + 1}",
                category=template.category,
                template=template,
                status=AgentStatus.ACTIVE,
                skybot_workflow_id=f"scale-{run}-{index + 1}",
                deployed_at=now,
            )
            for index in range(count)
        ]
        with transaction.atomic():
            return Agent.objects.bulk_create(agents, batch_size=1000)

    def _channels(self, account: Account, count: int) -> list[Channel]:
        channels = []
        with transaction.atomic():
            for index in range(count):
                number = f"1555{secrets.randbelow(10**7):07d}"
                channels.append(
                    Channel.objects.create(
                        account=account,
                        name=f"Scale line {index + 1}",
                        phone_number_id=f"{secrets.randbelow(10**15):015d}",
                        display_phone_number=f"+{number}",
                        access_token=secrets.token_urlsafe(24),
                    )
                )
        return channels
