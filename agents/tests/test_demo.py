"""The agents' demo content: runner agents only for a server with a runner; the demo's plugin agent
answers the demo's sandbox number."""

from __future__ import annotations

import io

import pytest
from django.core.management.base import OutputWrapper

from agents.demo import DEMO_EXECUTIONS, seed_demo
from agents.models import Agent, AgentExecution, AgentRuntime, AgentStatus, AgentTemplate
from agents.tests.factories import AgentFactory
from inbox import demo as inbox_demo
from inbox.models import Channel

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_number(account) -> Channel:
    inbox_demo.seed_demo(account, stdout=OutputWrapper(io.StringIO()))
    return Channel.objects.get(phone_number_id=inbox_demo.DEMO_PHONE_NUMBER_ID)


@pytest.fixture
def plugin_agent(account) -> Agent:
    template = AgentTemplate.objects.create(
        key="faq-answerer-demo", account=account, runtime=AgentRuntime.PLUGIN, name="FAQ answerer", category="SUPPORT"
    )
    return AgentFactory(account=account, template=template, name="FAQ answerer", status=AgentStatus.ACTIVE, config={})


def test_without_a_runner_no_runner_agent_is_made_and_the_plugin_agent_answers_the_demo_number(
    account, demo_number, plugin_agent, settings
):
    # given a server without a SkyBot runner
    settings.SKYBOT_API_URL = ""
    out = io.StringIO()

    # when the demo is seeded twice
    seed_demo(account, stdout=out)
    seed_demo(account, stdout=out)

    # then no runner agent exists, and it says why
    assert not Agent.objects.filter(account=account, template__runtime=AgentRuntime.RUNNER).exists()
    assert "no SkyBot runner configured (SKYBOT_API_URL)" in out.getvalue()
    # and the plugin agent takes the demo number's new conversations, with a week of history
    demo_number.refresh_from_db()
    assert demo_number.default_agent == plugin_agent
    assert list(plugin_agent.channels.all()) == [demo_number]
    assert AgentExecution.objects.filter(agent=plugin_agent).count() == DEMO_EXECUTIONS


def test_with_a_runner_the_runner_agents_are_made_and_the_plugin_agent_still_answers(
    account, demo_number, plugin_agent, settings
):
    settings.SKYBOT_API_URL = "http://127.0.0.1:9"

    seed_demo(account, stdout=io.StringIO())

    names = set(
        Agent.objects.filter(account=account, template__runtime=AgentRuntime.RUNNER).values_list("name", flat=True)
    )
    assert names == {"Support desk", "Sales assistant"}
    demo_number.refresh_from_db()
    assert demo_number.default_agent == plugin_agent
    assert not AgentExecution.objects.filter(agent=plugin_agent).exists()  # the support desk has the history


def test_an_active_default_agent_an_admin_chose_is_kept(account, demo_number, plugin_agent, settings):
    settings.SKYBOT_API_URL = ""
    chosen = AgentFactory(account=account, name="Our own bot", status=AgentStatus.ACTIVE)
    Channel.objects.filter(pk=demo_number.pk).update(default_agent=chosen)

    seed_demo(account, stdout=io.StringIO())

    demo_number.refresh_from_db()
    assert demo_number.default_agent == chosen
