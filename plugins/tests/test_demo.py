"""The demo seed publishes the example plugins and gives the demo tenant an FAQ agent that answers
customers for real, in the sandbox."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from agents.models import Agent, AgentStatus
from handoff.tasks import route_to_agent
from inbox.models import Conversation, Message, MessageDirection
from inbox.tests.factories import MessageFactory
from plugins.demo import seed_demo
from plugins.models import Plugin, PluginInstallation, PluginVersion

pytestmark = pytest.mark.django_db


def test_the_seed_publishes_the_examples_and_the_faq_agent_answers(account, conversation):
    # when the seed runs twice
    seed_demo(account, stdout=io.StringIO())
    seed_demo(account, stdout=io.StringIO())
    # then the three examples are published once each, as bundled
    assert sorted(Plugin.objects.values_list("plugin_id", flat=True)) == ["after-hours", "faq-answerer", "lead-scorer"]
    assert PluginVersion.objects.count() == 3
    assert all(Plugin.objects.values_list("is_bundled", flat=True))
    assert all(Plugin.objects.values_list("is_verified", flat=True))
    # and neighbouring demo businesses installed and reviewed them, once each: a living marketplace
    faq = Plugin.objects.get(plugin_id="faq-answerer")
    assert faq.review_count == 3
    assert faq.rating_average == Decimal("4.00")
    assert faq.downloads == 4  # the demo tenant and three neighbours
    assert faq.icon == "icon.svg"
    # and the tenant has one FAQ answerer agent, active
    installation = PluginInstallation.objects.get(account=account)
    agent = Agent.objects.get(template=installation.template)
    assert agent.status == AgentStatus.ACTIVE
    # when a customer asks a question it knows, in a conversation it holds
    Conversation.objects.filter(pk=conversation.pk).update(agent=agent, status="pending")
    message = MessageFactory(conversation=conversation, text="How long does delivery take?")
    route_to_agent(message.pk)
    # then it answers from its list
    reply = Message.objects.filter(conversation=conversation, direction=MessageDirection.OUTBOUND).get()
    assert "2 to 4 working days" in reply.text
    # and a customer asking for a person is handed to the team
    person = MessageFactory(conversation=conversation, text="I want to talk to a human please")
    route_to_agent(person.pk)
    conversation.refresh_from_db()
    assert conversation.agent_id is None
