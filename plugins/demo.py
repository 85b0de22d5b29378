"""Demo content of the plugins area: the example plugins (plugins/examples/) packed, published as
bundled, and the FAQ answerer installed in the demo tenant with an agent made from it. Safe to run
again: a version already published is found by its checksum, an installation by its plugin."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django.db import transaction
from skybot_plugin_sdk.package import pack

from accounts.models import Account
from accounts.principals import Principal
from agents.models import Agent, AgentStatus
from agents.services.agents import agent_create
from core.exceptions import ApplicationError
from plugins.models import PluginInstallation
from plugins.services.installations import plugin_install
from plugins.services.packages import plugin_publish

EXAMPLES = Path(__file__).resolve().parent / "examples"

DEMO_FAQ_CONFIG: dict[str, Any] = {
    "faqs": [
        {
            "question": "What are your opening hours?",
            "answer": "We are open Monday to Friday, 9:00 to 18:00 (Lisbon time).",
            "keywords": ["hours", "open", "opening", "close"],
        },
        {
            "question": "How long does delivery take?",
            "answer": "Orders arrive in 2 to 4 working days; you get a tracking link by email.",
            "keywords": ["delivery", "shipping", "arrive", "tracking"],
        },
        {
            "question": "How do I return an item?",
            "answer": "Reply with your order number and we will send a free return label within a day.",
            "keywords": ["return", "refund", "exchange"],
        },
    ]
}


def publish_examples(*, stdout: Any) -> list[str]:
    """Pack and publish every example plugin; answers their ids."""
    published: list[str] = []
    if not EXAMPLES.is_dir():
        return published
    with tempfile.TemporaryDirectory() as out:
        for directory in sorted(p for p in EXAMPLES.iterdir() if (p / "plugin.json").is_file()):
            result = pack(directory, out_dir=Path(out))
            try:
                version = plugin_publish(data=Path(result.path).read_bytes(), actor=None, bundled=True)
            except ApplicationError as exc:
                stdout.write(f"  plugin {directory.name} not published: {exc.message} {exc.details or ''}")
                continue
            published.append(version.plugin.plugin_id)
            stdout.write(f"  plugin {version.plugin.plugin_id} {version.version} published")
    return published


def seed_demo(account: Account, *, stdout: Any) -> None:
    published = publish_examples(stdout=stdout)
    if "faq-answerer" not in published:
        return
    with transaction.atomic():
        installation = PluginInstallation.objects.filter(account=account, plugin__plugin_id="faq-answerer").first()
        if installation is None:
            installation = plugin_install(
                account=account, plugin_id="faq-answerer", config=DEMO_FAQ_CONFIG, actor=Principal.platform_key()
            )
            stdout.write("  plugin faq-answerer installed in the demo tenant")
        if not Agent.objects.filter(template=installation.template).exclude(status=AgentStatus.DELETED).exists():
            agent_create(
                account=account,
                name="FAQ answerer",
                description="Answers common questions from a list; hands over when it does not know.",
                template=installation.template.key,
                config={},
                actor=Principal.platform_key(),
            )
            stdout.write("  agent 'FAQ answerer' (plugin) created")
