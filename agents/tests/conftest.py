"""Fixtures for agents tests: the inbox's channel, Meta's samples and signed webhook posting, an
active agent deployed on a stand-in SkyBot runner, and a conversation it can hold."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.utils import timezone

from accounts.models import Account
from agents.models import Agent, AgentStatus, AgentTemplate
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


@pytest.fixture(autouse=True)
def _catalogue(request: Any) -> None:
    """The template catalogue as the data migrations leave it: a transactional test that ran
    earlier in the same worker flushes every table, migration data included."""
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or bool(marker and marker.kwargs.get("transaction"))
    if marker is None and "db" not in request.fixturenames and not transactional:
        return  # not a database test
    request.getfixturevalue("transactional_db" if transactional else "db")
    # Whether the catalogue itself is there (a flushed database may hold other templates since).
    if not AgentTemplate.objects.filter(account__isnull=True, key="support-agent").exists():
        importlib.import_module("agents.migrations.0002_agent_templates").seed(django_apps, None)
        importlib.import_module("agents.migrations.0007_catalogue_config_checks").update_catalogue(django_apps, None)
