"""`manage.py plugin_publish PATH.zip`: check a plugin package and upload it for review, or publish it
at once with --publish (staff's command line)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.exceptions import ApplicationError
from plugins.models import VersionStatus
from plugins.services.packages import plugin_upload


class Command(BaseCommand):
    help = (
        "Check a plugin package (a zip made by `skybot-plugin pack`) and store it as a new version: the "
        "manifest, the size cap, zip safety and that its entrypoint loads in the sandbox are checked; every "
        "problem is listed and nothing is stored when one is found. The version then waits for staff review "
        "in Django admin (Plugins > Plugin versions), unless --publish publishes it at once. Uploading the "
        "same bytes again is a no-op."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("package", type=Path, help="Path to the plugin's .zip package.")
        parser.add_argument("--changelog", default="", help="What changed in this version (shown to tenants).")
        parser.add_argument(
            "--publish",
            action="store_true",
            help="Publish it now instead of leaving it for review (you reviewed it already).",
        )
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
            version = plugin_upload(
                data=path.read_bytes(),
                actor=None,
                changelog=options["changelog"],
                publish=options["publish"],
                bundled=options["bundled"],
            )
        except ApplicationError as exc:
            problems = (exc.details or {}).get("package") or [exc.message]
            raise CommandError("The package was not stored:\n  - " + "\n  - ".join(problems)) from None
        state = "Published" if version.status == VersionStatus.PUBLISHED else f"Stored ({version.get_status_display()})"
        self.stdout.write(
            self.style.SUCCESS(f"{state}: {version.plugin.plugin_id} {version.version} (sha256 {version.sha256}).")
        )
