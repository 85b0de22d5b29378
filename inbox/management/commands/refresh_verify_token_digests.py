"""`manage.py refresh_verify_token_digests`: rewrite the keyed digests of the channels' own verify
tokens under the current SECRET_KEY.

Meta's subscription check finds a channel by its verify token's digest, keyed with SECRET_KEY (and,
while a rotation is under way, SECRET_KEY_FALLBACKS). Run this after putting a new SECRET_KEY in
place and before removing the old one from SECRET_KEY_FALLBACKS.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from inbox.services.channels import channel_verify_token_digests_refresh


class Command(BaseCommand):
    help = "Rewrite the digests of the channels' own verify tokens under the current SECRET_KEY."

    def handle(self, *args: Any, **options: Any) -> None:
        changed = channel_verify_token_digests_refresh()
        self.stdout.write(f"{changed} verify token digest(s) rewritten.")
