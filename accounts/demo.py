"""Demo content of the Settings area: an integration key, so the API keys page is not empty."""

from __future__ import annotations

from typing import Any

from accounts.models import Account, ApiKey, Role, User
from accounts.services.api_keys import api_key_create
from core.principals import Principal

DEMO_KEY_NAME = "Zapier (demo)"


def seed_demo(account: Account, *, stdout: Any) -> None:
    """Create the demo API key once; its secret is thrown away (rotate it on the page to get one)."""
    if ApiKey.objects.filter(account=account, name=DEMO_KEY_NAME).exists():
        return
    admin = User.objects.filter(account=account, role=Role.CLIENT_ADMIN, is_active=True).order_by("pk").first()
    if admin is None:
        return
    api_key_create(
        account=account,
        name=DEMO_KEY_NAME,
        scopes=["read", "write"],
        expires_at=None,
        actor=Principal.for_user(admin),
    )
    stdout.write(f"  created API key '{DEMO_KEY_NAME}' (rotate it in Settings → API keys to see a secret)")
