"""`manage.py plugin_publish PATH.zip`: check a plugin package and publish it (staff's command line)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.exceptions import ApplicationError
from plugins.services.packages import plugin_publish


class Command(BaseCommand):
    help = (
        "Check a plugin package (a zip made by `skybot-plugin pack`) and publish it: the manifest, the size "
        "cap, zip safety and that its entrypoint loads in the sandbox are checked; every problem is listed "
        "and nothing is stored when one is found. Publishing the same bytes again is a no-op."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("package", type=Path, help="Path to the plugin's .zip package.")
        parser.add_argument("--changelog", default="", help="What changed in this version (shown to tenants).")
        parser.add_argument(
            "--bundled",
            action="store_true",
            help="Mark it as shipped with the platform (runs even where the sandbox lacks a layer).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["package"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            version = plugin_publish(
                data=path.read_bytes(), actor=None, changelog=options["changelog"], bundled=options["bundled"]
            )
        except ApplicationError as exc:
            problems = (exc.details or {}).get("package") or [exc.message]
            raise CommandError("The package was not published:\n  - " + "\n  - ".join(problems)) from None
        self.stdout.write(
            self.style.SUCCESS(f"Published {version.plugin.plugin_id} {version.version} (sha256 {version.sha256}).")
        )
