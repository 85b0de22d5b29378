"""Every big list of the API answers a page with the same, exact number of queries whatever the
tenant's size: the caller's key, the page, and one query per related list shown in it; with Redis,
nothing is written (the key's use is counted there)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Account
from agents.models import AgentStatus
from agents.tests.factories import AgentExecutionFactory, AgentFactory
from conftest import USING_REDIS
from inbox.models import Label
from inbox.tests.factories import ContactFactory, ConversationFactory, LeadFactory, MessageFactory
from integrations.models import EventDeliveryAttempt
from integrations.tests.factories import EventDeliveryFactory, WebhookEndpointFactory

pytestmark = pytest.mark.django_db


def _conversations(account: Account, world: dict[str, Any], n: int) -> None:
    for _ in range(n):
        conversation = ConversationFactory(account=account)
        conversation.labels.add(Label.objects.create(account=account, name=f"l{conversation.pk}"))


def _messages(account: Account, world: dict[str, Any], n: int) -> None:
    for _ in range(n):
        MessageFactory(conversation=world["conversation"])


def _contacts(account: Account, world: dict[str, Any], n: int) -> None:
    for _ in range(n):
        ContactFactory(account=account)


def _leads(account: Account, world: dict[str, Any], n: int) -> None:
    for _ in range(n):
        LeadFactory(account=account, contact=ContactFactory(account=account))


def _executions(account: Account, world: dict[str, Any], n: int) -> None:
    for _ in range(n):
        AgentExecutionFactory(agent=world["agent"])


def _deliveries(account: Account, world: dict[str, Any], n: int) -> None:
    for _ in range(n):
        delivery = EventDeliveryFactory.create(endpoint=world["endpoint"])
        EventDeliveryAttempt.objects.create(delivery=delivery, number=1, status_code=500)


# (list, path, how to add n rows, queries: key + page + related lists)
LISTS: list[tuple[str, Callable[[dict[str, Any]], str], Callable[..., None], int]] = [
    ("conversations", lambda w: "/api/v1/conversations", _conversations, 3),  # + labels
    ("messages", lambda w: f"/api/v1/conversations/{w['conversation'].pk}/messages", _messages, 3),  # + conversation
    ("contacts", lambda w: "/api/v1/contacts", _contacts, 2),
    ("leads", lambda w: "/api/v1/leads", _leads, 2),
    ("executions", lambda w: f"/api/v1/agents/{w['agent'].pk}/executions", _executions, 4),  # + agent, its channels
    ("deliveries", lambda w: f"/api/v1/webhooks/{w['endpoint'].pk}/deliveries", _deliveries, 4),  # + endpoint, attempts
]


@pytest.mark.parametrize(("name", "path", "add", "expected"), LISTS, ids=[row[0] for row in LISTS])
def test_a_page_costs_the_same_exact_queries_at_any_size(
    key_client_for: Any, account: Account, name: str, path: Any, add: Any, expected: int
) -> None:
    world = {
        "conversation": ConversationFactory(account=account),
        "agent": AgentFactory(account=account, status=AgentStatus.ACTIVE, skybot_workflow_id="wf_1"),
        "endpoint": WebhookEndpointFactory.create(account=account),
    }
    client = key_client_for(account, ["read", "admin"])
    url = path(world)
    counts = []
    for rows in (2, 30):
        add(account, world, rows)
        client.get(url)  # the process's caches (plan limits, ...) are warm, as in a running server
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200, response.content
        assert len(response.json()["results"]) >= rows
        counts.append(len(captured.captured_queries))
    # Without Redis (the embedded default) the key's use is written straight to its day row.
    expected += 0 if USING_REDIS else 1
    assert counts == [expected, expected], [q["sql"][:120] for q in captured.captured_queries]
