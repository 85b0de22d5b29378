from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.tests.factories import AccountFactory
from agents.models import Agent, AgentCategory, AgentExecution, AgentTemplate, ExecutionStatus
from agents.services.rollup import HourlyShare, hourly_record

SIMPLE_SCHEMA = {
    "type": "object",
    "properties": {
        "greeting": {"type": "string", "minLength": 1},
        "max_discount": {"type": "integer", "minimum": 0, "maximum": 50},
    },
    "required": ["greeting"],
    "additionalProperties": False,
}


class AgentTemplateFactory(DjangoModelFactory[AgentTemplate]):
    class Meta:
        model = AgentTemplate
        django_get_or_create = ("key",)

    key = factory.Sequence(lambda n: f"test-template-{n}")
    name = factory.Sequence(lambda n: f"Test template {n}")
    category = AgentCategory.SUPPORT
    description = "A template for tests."
    config_schema = factory.LazyFunction(lambda: dict(SIMPLE_SCHEMA))


class AgentFactory(DjangoModelFactory[Agent]):
    class Meta:
        model = Agent

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"Agent {n}")
    template = factory.SubFactory(AgentTemplateFactory)
    category = factory.SelfAttribute("template.category")
    config = factory.LazyFunction(lambda: {"greeting": "Hello!"})


class AgentExecutionFactory(DjangoModelFactory[AgentExecution]):
    class Meta:
        model = AgentExecution
        skip_postgeneration_save = True

    agent = factory.SubFactory(AgentFactory)
    account = factory.SelfAttribute("agent.account")
    external_id = factory.Sequence(lambda n: f"exec-{n}")
    status = ExecutionStatus.SUCCEEDED
    started_at = factory.LazyFunction(lambda: timezone.now() - timedelta(minutes=5))
    finished_at = factory.LazyAttribute(lambda o: o.started_at + timedelta(milliseconds=o.duration_ms or 0))
    duration_ms = 1200

    @factory.post_generation
    def hourly(obj: AgentExecution, create: bool, extracted: object, **kwargs: object) -> None:
        """Count the execution in the hourly analytics roll-up, as the execution writer does
        (`hourly=False` leaves it out, like executions stored before the roll-up existed)."""
        if create and extracted is not False:
            hourly_record(before=None, after=HourlyShare.of(obj))
