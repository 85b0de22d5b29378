"""Fixtures for agents tests: the inbox's channel, Meta's samples and signed webhook posting, an
active agent deployed on a stand-in SkyBot runner, and a conversation it can hold."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from accounts.models import Account
from agents.models import Agent, AgentStatus
from agents.tests.factories import AgentFactory
from inbox.models import Channel, Conversation
from inbox.tests.conftest import _whatsapp_settings, channel, post_webhook, sample  # noqa: F401
from inbox.tests.factories import ConversationFactory

CUSTOMER_WA_ID = "16505551234"  # the sender of Meta's sample notifications


@pytest.fixture
def agent(account: Account) -> Agent:
    return AgentFactory(account=account, status=AgentStatus.ACTIVE, skybot_workflow_id="wf-1")


@pytest.fixture
def conversation(channel: Channel) -> Conversation:  # noqa: F811 - the imported fixture by name
    return ConversationFactory(
        account=channel.account, channel=channel, last_message_at=timezone.now(), last_inbound_at=timezone.now()
    )


@pytest.fixture
def runner(httpserver: Any, settings: Any) -> Any:
    """A local HTTP server standing in for the SkyBot runner."""
    settings.SKYBOT_API_URL = httpserver.url_for("").rstrip("/")
    settings.SKYBOT_API_KEY = "runner-key"
    return httpserver
