"""`manage.py seed_demo`: the demo tenant with one person per role, safe to run again."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts import demo as accounts_demo
from accounts.models import Account, Plan, Role, User
from agents import demo as agents_demo
from inbox import demo as inbox_demo
from plugins import demo as plugins_demo

DEMO_PASSWORD = "skybot-demo-2026"
DEMO_ACCOUNT = {"slug": "demo", "name": "Demo Company", "plan": Plan.PRO}
DEMO_PEOPLE = [
    ("staff@skybot.local", "Platform Staff", Role.SUPER_ADMIN),
    ("admin@demo.skybot.local", "Ada Admin", Role.CLIENT_ADMIN),
    ("agent@demo.skybot.local", "Sam Support", Role.USER),
    ("viewer@demo.skybot.local", "Vic Viewer", Role.VIEWER),
]


class Command(BaseCommand):
    help = (
        "Create (or bring back to its demo state) the 'demo' tenant with one person per role: "
        "SUPER_ADMIN staff, CLIENT_ADMIN, USER and VIEWER, all with the same demo password, a sandbox "
        "WhatsApp number answered by a plugin agent (try it in the customer simulator), and runner "
        "agents when SKYBOT_API_URL is set. "
        "Running it again changes nothing that is already there except resetting the demo "
        "passwords. Refuses to run in production unless --allow-production is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--password", default=DEMO_PASSWORD, help=f"Password for every demo login (default: {DEMO_PASSWORD})."
        )
        parser.add_argument("--allow-production", action="store_true", help="Seed even when DJANGO_ENV=production.")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.IS_PRODUCTION and not options["allow_production"]:
            raise CommandError("Refusing to seed demo logins in production; pass --allow-production to insist.")
        password: str = options["password"]
        with transaction.atomic():
            account, created = Account.objects.get_or_create(
                slug=DEMO_ACCOUNT["slug"], defaults={"name": DEMO_ACCOUNT["name"], "plan": DEMO_ACCOUNT["plan"]}
            )
            self.stdout.write(f"{'Created' if created else 'Found'} tenant '{account.name}' (slug {account.slug}).")
            for email, name, role in DEMO_PEOPLE:
                is_staff = role == Role.SUPER_ADMIN
                user, made = User.objects.get_or_create(
                    email=email,
                    defaults={
                        "full_name": name,
                        "role": role,
                        "account": None if is_staff else account,
                        "is_staff": is_staff,
                        "is_superuser": is_staff,
                    },
                )
                user.set_password(password)
                user.save(update_fields=["password"])
                self.stdout.write(f"  {'created' if made else 'exists '} {role:<12} {email}")
            accounts_demo.seed_demo(account, stdout=self.stdout)
            inbox_demo.seed_demo(account, stdout=self.stdout)
        # The plugin agent first: the agents' demo gives it the demo number's new conversations.
        plugins_demo.seed_demo(account, stdout=self.stdout)
        agents_demo.seed_demo(account, stdout=self.stdout)

        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Sign in at {settings.SITE_URL}/accounts/login/"))
        self.stdout.write(f"  password for every demo login: {password}")
        for email, _name, role in DEMO_PEOPLE:
            self.stdout.write(f"  {role:<12} {email}")
        self.stdout.write(f"  Django admin: {settings.SITE_URL}/admin/ (staff@skybot.local)")
        self.stdout.write(f"  API reference: {settings.SITE_URL}/api/docs/")
        self.stdout.write(
            f"  Customer simulator: {settings.SITE_URL}/simulator/ (write to the demo's sandbox number as a customer)"
        )
