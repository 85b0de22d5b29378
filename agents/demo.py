"""Demo content of the agents area: who answers the demo number, and a week of executions so the
agents pages and their analytics have something to show. Safe to run again.

The demo's plugin agent (the FAQ answerer `plugins.demo` installs, run by the platform itself)
answers new conversations on the demo's sandbox number, so a person writing in the customer
simulator gets an answer on a bare `make run`. Runner agents are made only when a SkyBot runner is
configured (SKYBOT_API_URL): the support agent shown as deployed earlier (active, with a workflow
id), the sales agent as a draft waiting to be deployed. Without a runner the week of executions goes
to the plugin agent. Executions are inserted directly, the way the agents' reports would have left
them.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from accounts.principals import Principal
from agents.cache import analytics_invalidate
from agents.management.commands.seed_agent_executions import COLUMNS, _rows
from agents.models import Agent, AgentExecution, AgentRuntime, AgentStatus, AgentTemplate
from agents.services.agents import config_validate
from agents.services.rollup import hourly_rebuild
from inbox.demo import DEMO_PHONE_NUMBER_ID
from inbox.models import Channel
from inbox.services.channels import channel_update

DEMO_EXECUTIONS = 320
DEMO_DAYS = 7
DEMO_AGENTS: list[dict[str, Any]] = [
    {
        "name": "Support desk",
        "template": "support-agent",
        "description": "Answers order and delivery questions, hands over on request.",
        "status": AgentStatus.ACTIVE,
        "workflow_id": "demo-support-desk",
        "executions": DEMO_EXECUTIONS,
        "config": {
            "greeting": "Hi! I'm the Demo Company assistant. How can I help?",
            "language": "en",
            "knowledge_base_url": "https://demo.skybot.local/help",
            "escalation_keywords": ["human", "agent", "complaint"],
            "business_hours": {
                "timezone": "Europe/Lisbon",
                "days": ["mon", "tue", "wed", "thu", "fri"],
                "open": "09:00",
                "close": "18:00",
            },
        },
    },
    {
        "name": "Sales assistant",
        "template": "sales-assistant",
        "description": "Qualifies leads from the catalogue; not deployed yet.",
        "status": AgentStatus.DRAFT,
        "workflow_id": "",
        "executions": 0,
        "config": {
            "greeting": "Hello! Looking for something in particular?",
            "product_catalog_url": "https://demo.skybot.local/catalogue.json",
            "max_discount_percent": 10,
            "currency": "EUR",
            "qualifying_questions": ["What is your budget?", "When do you need it?"],
        },
    },
]


def seed_demo(account: Account, *, stdout: Any) -> None:
    """Make sure the demo number has its plugin agent, the runner agents exist when a runner is
    configured, and one active agent has a week of executions."""
    now = timezone.now()
    seeded = False
    runner = bool(settings.SKYBOT_API_URL)
    with transaction.atomic():
        if not runner:
            stdout.write("  agents: no SkyBot runner configured (SKYBOT_API_URL), so no runner agents")
        for spec in DEMO_AGENTS if runner else []:
            template = AgentTemplate.objects.filter(key=spec["template"], is_active=True).first()
            if template is None:
                stdout.write(f"  agents: template {spec['template']} is missing; '{spec['name']}' skipped")
                continue
            config_validate(schema=template.config_schema, config=spec["config"])
            agent = Agent.objects.filter(account=account, name=spec["name"]).exclude(status=AgentStatus.DELETED).first()
            if agent is None:
                agent = Agent.objects.create(
                    account=account,
                    name=spec["name"],
                    description=spec["description"],
                    category=template.category,
                    template=template,
                    config=spec["config"],
                    status=spec["status"],
                    skybot_workflow_id=spec["workflow_id"],
                    deployed_at=now if spec["workflow_id"] else None,
                )
                stdout.write(f"  agents: created '{agent.name}' ({agent.status})")
            seeded |= _executions(account, agent, spec["executions"], now=now, stdout=stdout)
        plugin_agent = _plugin_agent(account)
        if plugin_agent is not None:
            _answers_the_demo_number(account, plugin_agent, stdout=stdout)
            if not runner:
                seeded |= _executions(account, plugin_agent, DEMO_EXECUTIONS, now=now, stdout=stdout)
    if seeded:
        # Bulk-created executions bypass the writer that keeps the hourly roll-up in step.
        hourly_rebuild(account_id=account.pk, date_from=now - timedelta(days=DEMO_DAYS + 1))
    analytics_invalidate(account.pk)


def _executions(account: Account, agent: Agent, count: int, *, now: Any, stdout: Any) -> bool:
    """A week of executions for `agent`, once: whether they were added now."""
    if not count or AgentExecution.objects.filter(agent=agent).exists():
        return False
    rows = _rows(
        rng=random.Random(2026),  # noqa: S311 - demo data, not security
        account_id=account.pk,
        agent_ids=[agent.pk],
        now=now,
        days=DEMO_DAYS,
        run=f"demo{agent.pk}",
        total=count,
    )
    AgentExecution.objects.bulk_create([AgentExecution(**dict(zip(COLUMNS, row, strict=True))) for row in rows])
    stdout.write(f"  agents: {count} executions over {DEMO_DAYS} days for '{agent.name}'")
    return True


def _plugin_agent(account: Account) -> Agent | None:
    """The demo's active plugin agent: the FAQ answerer when there is one."""
    agents = Agent.objects.filter(
        account=account, template__runtime=AgentRuntime.PLUGIN, status=AgentStatus.ACTIVE
    ).order_by("pk")
    return agents.filter(name="FAQ answerer").first() or agents.first()


def _answers_the_demo_number(account: Account, agent: Agent, *, stdout: Any) -> None:
    """New conversations on the demo number go to `agent`, unless an active agent already has them."""
    channel = (
        Channel.objects.filter(account=account, phone_number_id=DEMO_PHONE_NUMBER_ID)
        .select_related("default_agent")
        .first()
    )
    if channel is None:
        return
    agent.channels.add(channel)
    current = channel.default_agent
    if current is not None and current.status == AgentStatus.ACTIVE:
        return
    channel_update(channel=channel, actor=Principal.platform_key(), default_agent=agent)
    stdout.write(f"  agents: '{agent.name}' answers new conversations on the demo number")
