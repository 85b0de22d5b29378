"""Demo content of the agents area: two agents made from the template catalogue and a week of
executions, so the agents pages and their analytics have something to show. Safe to run again.

No SkyBot runner is needed: the support agent is shown as deployed earlier (active, with a workflow
id), the sales agent as a draft waiting to be deployed. Executions are inserted directly, the way
the runner's reports would have left them.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from agents.cache import analytics_invalidate
from agents.management.commands.seed_agent_executions import COLUMNS, _rows
from agents.models import Agent, AgentExecution, AgentStatus, AgentTemplate
from agents.services.agents import config_validate
from agents.services.rollup import hourly_rebuild

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
    """Make sure the demo tenant has the demo agents, and the active one a week of executions."""
    now = timezone.now()
    seeded = False
    with transaction.atomic():
        for spec in DEMO_AGENTS:
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
            if spec["executions"] and not AgentExecution.objects.filter(agent=agent).exists():
                rows = _rows(
                    rng=random.Random(2026),  # noqa: S311 - demo data, not security
                    account_id=account.pk,
                    agent_ids=[agent.pk],
                    now=now,
                    days=DEMO_DAYS,
                    run=f"demo{agent.pk}",
                )
                AgentExecution.objects.bulk_create(
                    [AgentExecution(**dict(zip(COLUMNS, next(rows), strict=True))) for _ in range(spec["executions"])]
                )
                stdout.write(f"  agents: {spec['executions']} executions over {DEMO_DAYS} days for '{agent.name}'")
                seeded = True
    if seeded:
        # Bulk-created executions bypass the writer that keeps the hourly roll-up in step.
        hourly_rebuild(account_id=account.pk, date_from=now - timedelta(days=DEMO_DAYS + 1))
    analytics_invalidate(account.pk)
