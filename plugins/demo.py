"""Demo content of the plugins area: the example plugins (plugins/examples/) packed, published as
bundled and verified, the FAQ answerer installed in the demo tenant with an agent made from it, and a
few neighbouring demo businesses that installed and reviewed the examples, so the marketplace shows
ratings and installs. Safe to run again: a version already published is found by its checksum, an
installation by its plugin, a neighbour by its slug, a review by its tenant."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django.db import transaction
from skybot_plugin_sdk.package import pack

from accounts.models import Account, Role, User
from accounts.principals import Principal
from agents.models import Agent, AgentStatus
from agents.services.agents import agent_create
from core.exceptions import ApplicationError
from plugins.models import Plugin, PluginInstallation, PluginReview
from plugins.services.installations import plugin_install
from plugins.services.packages import plugin_upload
from plugins.services.reviews import review_create
from plugins.services.versions import plugin_verify

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


DEMO_LEAD_SCORER_CONFIG: dict[str, Any] = {"threshold": 60}
DEMO_AFTER_HOURS_CONFIG: dict[str, Any] = {
    "timezone": "Europe/Lisbon",
    "hours": {day: {"open": "09:00", "close": "18:00"} for day in ("mon", "tue", "wed", "thu", "fri")},
}
EXAMPLE_CONFIGS = {
    "faq-answerer": DEMO_FAQ_CONFIG,
    "lead-scorer": DEMO_LEAD_SCORER_CONFIG,
    "after-hours": DEMO_AFTER_HOURS_CONFIG,
}
# Other businesses on the platform that use the examples: (slug, name, reviewer, {plugin: (stars, text)}).
NEIGHBOURS: list[tuple[str, str, str, dict[str, tuple[int, str]]]] = [
    (
        "demo-lisbon-smiles",
        "Lisbon Smiles Dental",
        "Marta Ribeiro",
        {
            "faq-answerer": (5, "Answers half of our WhatsApp questions before we open. Set-up took ten minutes."),
            "after-hours": (4, "Patients know we will call back in the morning. Wish it knew public holidays."),
        },
    ),
    (
        "demo-porto-bikes",
        "Porto Bike Rentals",
        "Tiago Costa",
        {
            "lead-scorer": (5, "Group bookings jump to the top of the list; we answer those first."),
            "faq-answerer": (4, "Good for opening hours and prices. Keywords need some thought."),
        },
    ),
    (
        "demo-casa-verde",
        "Casa Verde Café",
        "Inês Duarte",
        {"faq-answerer": (3, "Does what it says; our customers mostly ask things that are not in the list.")},
    ),
]


def publish_examples(*, stdout: Any) -> list[str]:
    """Pack and publish every example plugin; answers their ids."""
    published: list[str] = []
    if not EXAMPLES.is_dir():
        return published
    with tempfile.TemporaryDirectory() as out:
        for directory in sorted(p for p in EXAMPLES.iterdir() if (p / "plugin.json").is_file()):
            result = pack(directory, out_dir=Path(out))
            try:
                version = plugin_upload(
                    data=Path(result.path).read_bytes(),
                    actor=None,
                    publish=True,
                    bundled=True,
                    changelog="First release, shipped with SkyBot Inbox.",
                )
            except ApplicationError as exc:
                stdout.write(f"  plugin {directory.name} not published: {exc.message} {exc.details or ''}")
                continue
            plugin_verify(plugin=version.plugin, verified=True, actor=None)
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

    seed_neighbours(published, stdout=stdout)


def seed_neighbours(published: list[str], *, stdout: Any) -> None:
    """Demo businesses that installed the examples and reviewed them (their admins cannot sign in)."""
    for slug, name, reviewer, reviews in NEIGHBOURS:
        with transaction.atomic():
            account, created = Account.objects.get_or_create(slug=slug, defaults={"name": name})
            admin = User.objects.filter(account=account, role=Role.CLIENT_ADMIN).first()
            if admin is None:
                admin = User(email=f"admin@{slug}.example", full_name=reviewer, role=Role.CLIENT_ADMIN, account=account)
                admin.set_unusable_password()
                admin.save()
            for plugin_id, (stars, text) in reviews.items():
                if plugin_id not in published:
                    continue
                if not PluginInstallation.objects.filter(account=account, plugin__plugin_id=plugin_id).exists():
                    plugin_install(
                        account=account,
                        plugin_id=plugin_id,
                        config=EXAMPLE_CONFIGS[plugin_id],
                        actor=Principal.platform_key(),
                    )
                plugin = Plugin.objects.get(plugin_id=plugin_id)
                if not PluginReview.objects.filter(account=account, plugin=plugin).exists():
                    review_create(
                        account=account, plugin=plugin, rating=stars, text=text, actor=Principal.for_user(admin)
                    )
        if created:
            stdout.write(f"  demo business '{name}' installed and reviewed {', '.join(reviews)}")
