"""`skybot-plugin new NAME`: a working plugin to start from (manifest, code, a test, samples, README)."""

from __future__ import annotations

import json
import re
from pathlib import Path

ID_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,62}[a-z0-9]$")

PLUGIN_SOURCE = '''"""{title}: answers every message with a greeting. Replace this with what your plugin does."""

from skybot_plugin_sdk import AgentInput, AgentOutput, AgentPlugin, PluginContext


class {class_name}(AgentPlugin):
    def execute(self, input: AgentInput, context: PluginContext) -> AgentOutput:
        greeting = context.config.get("greeting", "Hello")
        context.logger.info(f"answering a message of {{len(input.message)}} characters")
        return AgentOutput(response=f"{{greeting}}! You wrote: {{input.message}}")
'''

TEST_SOURCE = '''"""Tests for {plugin_id}; `skybot-plugin test` runs them (with pytest, or unittest without it)."""

import unittest
from pathlib import Path

from skybot_plugin_sdk import PermissionDenied
from skybot_plugin_sdk.testing import FakeContext, run_execute

PLUGIN_DIR = Path(__file__).resolve().parents[1]


class ExecuteTest(unittest.TestCase):
    def test_it_answers_with_the_configured_greeting(self) -> None:
        output = run_execute(PLUGIN_DIR, "Hi there", config={{"greeting": "Welcome"}})
        self.assertEqual(output.response, "Welcome! You wrote: Hi there")
        self.assertEqual(output.actions, [])

    def test_it_cannot_read_contacts_without_asking_for_them(self) -> None:
        context = FakeContext.for_plugin(PLUGIN_DIR)
        with self.assertRaises(PermissionDenied):
            context.contacts.get(1)


if __name__ == "__main__":
    unittest.main()
'''

README = """# {title}

A SkyBot Inbox agent plugin, made with `skybot-plugin new {plugin_id}`.

- `plugin.json` — the manifest: id, version, permissions, the tenant's settings (`config_schema`).
- `{module}/plugin.py` — the `AgentPlugin` subclass the manifest's `entrypoint` names.
- `tests/` — your tests, with the SDK's `FakeContext`.
- `samples.json` — messages `skybot-plugin test` runs the plugin on, with what to expect.

```sh
skybot-plugin test .      # the tests, then every sample
skybot-plugin validate .  # the manifest and files, as the platform checks them
skybot-plugin pack .      # dist/{plugin_id}-0.1.0.zip, ready to publish
```
"""


def class_name_for(plugin_id: str) -> str:
    """`lead-scorer` -> `LeadScorer`."""
    return "".join(part.capitalize() for part in plugin_id.split("-") if part)


def module_name_for(plugin_id: str) -> str:
    """`lead-scorer` -> `lead_scorer`."""
    return plugin_id.replace("-", "_")


def scaffold_files(plugin_id: str) -> dict[str, str]:
    """{relative path: text} of a new plugin called `plugin_id`."""
    module = module_name_for(plugin_id)
    title = plugin_id.replace("-", " ").capitalize()
    class_name = class_name_for(plugin_id)
    manifest = {
        "id": plugin_id,
        "name": title,
        "version": "0.1.0",
        "author": "Your name",
        "description": f"{title} answers customers on WhatsApp. Describe what it does here.",
        "category": "CUSTOM",
        "entrypoint": f"{module}.plugin:{class_name}",
        "config_schema": {
            "type": "object",
            "properties": {
                "greeting": {
                    "type": "string",
                    "title": "Greeting",
                    "description": "The first word of every answer.",
                    "default": "Hello",
                    "maxLength": 50,
                }
            },
            "additionalProperties": False,
        },
        "permissions": ["messages:send"],
        "min_platform_version": "1.0.0",
    }
    samples = {
        "config": {"greeting": "Hello"},
        "samples": [
            {"name": "a greeting", "message": "Hi!", "expect": {"response": "Hello! You wrote: Hi!", "actions": []}},
            {"name": "a question", "message": "What are your opening hours?", "expect": {"response": "opening hours"}},
        ],
    }
    names = {"plugin_id": plugin_id, "module": module, "title": title, "class_name": class_name}
    return {
        "plugin.json": json.dumps(manifest, indent=2) + "\n",
        f"{module}/__init__.py": "",
        f"{module}/plugin.py": PLUGIN_SOURCE.format(**names),
        f"tests/test_{module}.py": TEST_SOURCE.format(**names),
        "samples.json": json.dumps(samples, indent=2) + "\n",
        "README.md": README.format(**names),
    }


def scaffold(plugin_id: str, parent: str | Path) -> Path:
    """Write a new plugin to `parent/plugin_id`; raises ValueError for a bad id or a used directory."""
    if not ID_PATTERN.match(plugin_id):
        raise ValueError(
            f"{plugin_id!r} is not a valid plugin id: lowercase letters, digits and dashes, 3 to 64 characters, "
            "starting with a letter (lead-scorer)."
        )
    root = Path(parent) / plugin_id
    if root.exists() and any(root.iterdir()):
        raise ValueError(f"{root} already exists and is not empty.")
    for name, text in scaffold_files(plugin_id).items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root
