"""`manage.py startplugin NAME`: scaffold a new plugin with the SDK (`skybot-plugin new`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from skybot_plugin_sdk.cli import main as sdk_main


class Command(BaseCommand):
    help = (
        "Create a new plugin directory NAME with a manifest, an AgentPlugin subclass, a test and sample "
        "inputs (the same as the SDK's `skybot-plugin new NAME`). Then: `skybot-plugin test NAME`, "
        "`skybot-plugin pack NAME`, `manage.py plugin_publish NAME/dist/<zip>`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="The plugin's id: lowercase letters, digits and dashes (lead-scorer).")
        parser.add_argument("--dir", type=Path, default=Path.cwd(), help="Where to create it (default: here).")

    def handle(self, *args: Any, **options: Any) -> None:
        code = sdk_main(["new", options["name"], "--dir", str(options["dir"])])
        if code:
            raise CommandError("The plugin was not created (see above).")
