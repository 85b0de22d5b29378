"""What `make run` seeds: the demo number is a sandbox number, and a customer writing to it in the
simulator gets the FAQ answerer's answer, delivered (✓✓), without a runner or a Meta account."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import OutputWrapper

from accounts.models import Role, User
from accounts.principals import Principal
from agents.models import Agent, AgentRuntime
from inbox.demo import DEMO_PHONE_NUMBER_ID, seed_demo
from inbox.models import Channel, Conversation, Message, MessageDirection, MessageStatus
from inbox.services.sandbox import sandbox_customer_writes
from inbox.services.webhooks import forget_app_secrets
from plugins.demo import DEMO_FAQ_CONFIG

pytestmark = pytest.mark.django_db


@pytest.fixture
def embedded(settings):
    """The embedded default: no runner, no platform app secret, no n8n."""
    settings.SKYBOT_API_URL = ""
    settings.WHATSAPP_APP_SECRET = ""
    forget_app_secrets()


def test_the_demo_number_is_a_sandbox_number_whose_faq_agent_answers_a_simulated_customer(
    embedded, django_capture_on_commit_callbacks
):
    # given the demo as `make run` seeds it
    call_command("seed_demo", stdout=io.StringIO())
    channel = Channel.objects.get(phone_number_id=DEMO_PHONE_NUMBER_ID)
    assert channel.is_sandbox
    assert channel.app_secret
    assert not Agent.objects.filter(account=channel.account, template__runtime=AgentRuntime.RUNNER).exists()
    teammate = User.objects.get(account=channel.account, role=Role.USER)
    question = DEMO_FAQ_CONFIG["faqs"][0]

    # when a new customer asks one of its questions in the simulator
    with django_capture_on_commit_callbacks(execute=True):
        sandbox_customer_writes(
            channel=channel,
            wa_id="15550100999",
            name="Nadia Newcomer",
            text="Hi! What are your opening hours?",
            actor=Principal.for_user(teammate),
        )

    # then the FAQ answerer answered, and the answer was delivered
    conversation = Conversation.objects.get(channel=channel, contact__wa_id="15550100999")
    answer = Message.objects.get(conversation=conversation, direction=MessageDirection.OUTBOUND)
    assert answer.text == question["answer"]
    assert answer.sender_agent is not None
    assert answer.sender_agent.name == "FAQ answerer"
    assert answer.status == MessageStatus.DELIVERED


def test_a_demo_number_seeded_earlier_as_a_meta_number_becomes_a_sandbox_number(account, embedded):
    # given the demo number as an earlier seed left it: a made-up token, nothing to sign with
    Channel.objects.create(
        account=account,
        name="Demo shop",
        phone_number_id=DEMO_PHONE_NUMBER_ID,
        display_phone_number="+1 555 010 0001",
        access_token="demo-access-token",
    )

    # when the demo is seeded again
    seed_demo(account, stdout=OutputWrapper(io.StringIO()))

    # then it is a sandbox number with a secret of its own
    channel = Channel.objects.get(phone_number_id=DEMO_PHONE_NUMBER_ID)
    assert (channel.is_sandbox, channel.access_token) == (True, "")
    assert len(channel.app_secret) >= 32


def test_a_real_number_that_took_the_demo_id_is_left_alone(account, embedded):
    Channel.objects.create(
        account=account, phone_number_id=DEMO_PHONE_NUMBER_ID, display_phone_number="+1", access_token="EAAG-real"
    )

    seed_demo(account, stdout=OutputWrapper(io.StringIO()))

    channel = Channel.objects.get(phone_number_id=DEMO_PHONE_NUMBER_ID)
    assert (channel.is_sandbox, channel.access_token, channel.app_secret) == (False, "EAAG-real", "")
