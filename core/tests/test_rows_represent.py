"""`rows_represent` answers exactly what DRF's `serializer_class(rows, many=True).data` does, for
every list that goes through it (the API's pages), in any time zone and with empty values."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db.models import QuerySet
from django.utils import timezone
from rest_framework import serializers

from accounts.apis.api_keys import ApiKeySerializer
from accounts.apis.users import UserOutputSerializer
from accounts.models import Account, ApiKey, User
from agents.apis.agents import AgentSerializer
from agents.models import Agent, AgentExecution, AgentStatus, ExecutionStatus
from agents.selectors import agents_visible
from agents.serializers import ExecutionEventSerializer
from agents.tests.factories import AgentExecutionFactory, AgentFactory
from core.serializers import rows_represent
from inbox.apis.channels import ChannelSerializer
from inbox.apis.crm import ContactSerializer
from inbox.models import Channel, Contact, Conversation, Label, Lead, Message
from inbox.serializers import ConversationSerializer, LeadSerializer, MessageSerializer
from inbox.tests.factories import ChannelFactory, ContactFactory, ConversationFactory, LeadFactory, MessageFactory
from integrations.apis.webhooks import EventDeliverySerializer, WebhookEndpointSerializer
from integrations.models import EventDelivery, EventDeliveryAttempt, WebhookEndpoint
from integrations.tests.factories import EventDeliveryFactory, WebhookEndpointFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 29, 0, 30, 15, 123456, tzinfo=UTC)  # the night Lisbon moves to summer time


@pytest.fixture
def rows(account: Account, client_admin: User) -> None:
    """A little of everything, with empty and filled optional values side by side."""
    channel = ChannelFactory(account=account)
    ChannelFactory(account=account, is_active=False)
    named = ContactFactory(account=account, name="Ana", email="ana@example.com")
    nameless = ContactFactory(account=account, name="")
    held = ConversationFactory(account=account, contact=named, channel=channel, last_message_at=T0, unread_count=3)
    held.labels.add(Label.objects.create(account=account, name="vip"), Label.objects.create(account=account, name="b"))
    ConversationFactory(account=account, contact=nameless, channel=channel, snoozed_until=T0 + timedelta(days=1))
    MessageFactory(conversation=held, text="Olá", sent_at=T0, sender_user=client_admin)
    MessageFactory(conversation=held, text="", media={"id": "m1", "mime_type": "image/jpeg"}, error="131047")
    LeadFactory(account=account, contact=named, score=87)
    LeadFactory(account=account, contact=nameless)
    agent = AgentFactory(account=account, status=AgentStatus.ACTIVE, skybot_workflow_id="wf_1")
    agent.channels.add(channel)
    AgentExecutionFactory(agent=agent, started_at=T0, conversation=held)
    AgentExecutionFactory(agent=agent, status=ExecutionStatus.RUNNING, finished_at=None, duration_ms=None)
    endpoint = WebhookEndpointFactory(account=account)
    delivery = EventDeliveryFactory.create(endpoint=endpoint, next_attempt_at=T0)
    EventDeliveryAttempt.objects.create(delivery=delivery, number=1, status_code=500, response_excerpt="oops")
    EventDeliveryAttempt.objects.create(delivery=delivery, number=2, error="timed out")
    EventDeliveryFactory(endpoint=endpoint)


LISTS: list[tuple[type[serializers.Serializer[Any]], Any]] = [
    (ConversationSerializer, lambda: Conversation.objects.select_related("contact").prefetch_related("labels")),
    (MessageSerializer, lambda: Message.objects.all()),
    (ContactSerializer, lambda: Contact.objects.all()),
    (LeadSerializer, lambda: Lead.objects.select_related("contact")),
    (ExecutionEventSerializer, lambda: AgentExecution.objects.all()),
    (
        EventDeliverySerializer,
        lambda: EventDelivery.objects.select_related("event").prefetch_related("attempts"),
    ),
    (WebhookEndpointSerializer, lambda: WebhookEndpoint.objects.all()),
    (ChannelSerializer, lambda: Channel.objects.all()),
    (AgentSerializer, lambda: agents_visible(scoped=Agent.objects.all())),
    (ApiKeySerializer, lambda: ApiKey.objects.all()),
    (UserOutputSerializer, lambda: User.objects.select_related("account")),
]


@pytest.mark.parametrize("zone", ["UTC", "Europe/Lisbon", "America/Sao_Paulo"])
@pytest.mark.parametrize(("serializer_class", "queryset"), LISTS, ids=[s.__name__ for s, _ in LISTS])
def test_the_same_as_drf_in_every_time_zone(
    rows: None, key_client_for: Any, account: Account, serializer_class: Any, queryset: Any, zone: str
) -> None:
    key_client_for(account)  # one API key to list
    found: QuerySet[Any] = queryset()
    with timezone.override(zone):
        expected = json.loads(json.dumps(serializer_class(found, many=True).data))
        got = rows_represent(serializer_class, found)
    assert len(expected) >= 1
    assert json.loads(json.dumps(got)) == expected
    assert [list(row) for row in got] == [list(row) for row in expected]  # the keys in the same order


def test_a_serializer_with_its_own_to_representation_is_left_to_drf(rows: None) -> None:
    class Upper(MessageSerializer):
        def to_representation(self, instance: Message) -> dict[str, Any]:
            return {"text": instance.text.upper()}

    assert rows_represent(Upper, Message.objects.filter(text="Olá")) == [{"text": "OLÁ"}]


class _Line(serializers.Serializer[Any]):
    sku = serializers.CharField()


class _Order(serializers.Serializer[Any]):
    number = serializers.IntegerField()
    lines = _Line(many=True)


def test_nested_lists_the_same_as_drf_from_a_list_or_none() -> None:
    # a nested list read from plain objects: a list, an empty one, and none at all
    class Order:
        def __init__(self, number: int, lines: Any) -> None:
            self.number, self.lines = number, lines

    class Line:
        def __init__(self, sku: str) -> None:
            self.sku = sku

    orders = [Order(1, [Line("a"), Line("b")]), Order(2, []), Order(3, None)]

    assert rows_represent(_Order, orders) == [dict(row) for row in _Order(orders, many=True).data]
    assert rows_represent(_Order, orders)[2] == {"number": 3, "lines": None}
