"""Demo content of the Settings and Developers areas: an integration key, and two weeks of its usage
so the API keys page is not empty and the usage chart has something to show."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from accounts.models import Account, ApiKey, ApiKeyUsageDay, Role, User
from accounts.principals import Principal
from accounts.services.api_keys import api_key_create

DEMO_KEY_NAME = "Zapier (demo)"
USAGE_DAYS = 14
# Requests per day, oldest first: a working week's rhythm, quieter at weekends.
DEMO_REQUESTS = [310, 342, 298, 355, 120, 64, 288, 334, 361, 349, 402, 133, 58, 214]


def seed_demo(account: Account, *, stdout: Any) -> None:
    """Create the demo API key once; its secret is thrown away (rotate it on the page to get one)."""
    key = ApiKey.objects.filter(account=account, name=DEMO_KEY_NAME).first()
    if key is None:
        key = _create_key(account, stdout=stdout)
    if key is not None:
        _seed_usage(key, stdout=stdout)


def _create_key(account: Account, *, stdout: Any) -> ApiKey | None:
    admin = User.objects.filter(account=account, role=Role.CLIENT_ADMIN, is_active=True).order_by("pk").first()
    if admin is None:
        return None
    issued = api_key_create(
        account=account,
        name=DEMO_KEY_NAME,
        scopes=["read", "write", "admin"],  # admin: the Zapier app's instant triggers subscribe hooks
        expires_at=None,
        actor=Principal.for_user(admin),
    )
    stdout.write(f"  created API key '{DEMO_KEY_NAME}' (rotate it in Settings → API keys to see a secret)")
    return issued.api_key


def _seed_usage(key: ApiKey, *, stdout: Any) -> None:
    """The last two weeks of the key's requests, once: a key that already has usage keeps it."""
    if ApiKeyUsageDay.objects.filter(api_key=key).exists():
        return
    today = timezone.localdate()
    rows = []
    for index, requests in enumerate(DEMO_REQUESTS):
        day = today - timedelta(days=USAGE_DAYS - 1 - index)
        client_errors = requests // 40 + (index % 3)  # a few validation errors and rate limits
        server_errors = 2 if index == 9 else 0  # one bad afternoon
        rows.append(
            ApiKeyUsageDay(
                api_key=key,
                account_id=key.account_id,
                day=day,
                requests=requests,
                client_errors=client_errors,
                server_errors=server_errors,
            )
        )
    ApiKeyUsageDay.objects.bulk_create(rows, ignore_conflicts=True)
    a_while_ago = timezone.now() - timedelta(minutes=7)
    ApiKey.objects.filter(pk=key.pk, last_used_at__isnull=True).update(last_used_at=a_while_ago)
    stdout.write(f"  recorded {USAGE_DAYS} days of usage for '{DEMO_KEY_NAME}' (Developers → API keys and usage)")
