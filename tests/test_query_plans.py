"""The big lists are read through indexes: with sequential scans priced out of reach
(`enable_seqscan = off`), PostgreSQL still finds a plan for each page, filter and search of the
API that scans no table whole. On a small test table the planner would choose a sequential scan
anyway; this proves an index path exists, which is what a tenant with a million messages needs.
PostgreSQL only (SQLite has no such plans to read)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import QuerySet

from accounts.models import Account, User
from accounts.principals import Principal
from agents.models import Agent, AgentTemplate
from agents.selectors import execution_list
from core.filters import filter_queryset
from inbox.models import Contact, Conversation, Label, Message
from inbox.selectors import ContactFilter, conversation_list, message_list
from integrations.models import DeliveryStatus, EventDelivery, WebhookEvent
from integrations.selectors import delivery_list
from integrations.tests.factories import WebhookEndpointFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="query plans are PostgreSQL's"),
]


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _reads_whole(node: dict[str, Any]) -> bool:
    """A sequential scan, or an index scan without a condition (every entry of the index)."""
    if node["Node Type"] == "Seq Scan":
        return True
    return node["Node Type"] in INDEX_SCANS and "Index Cond" not in node


# Sequential scans priced out of reach: if PostgreSQL still reads a table whole, no index can serve.
PAGE_PLANNER = ("enable_seqscan",)
INDEX_SCANS = {"Index Scan", "Index Only Scan", "Bitmap Index Scan"}


def whole_table_scans(queryset: QuerySet[Any]) -> list[str]:
    """The tables the page's plan reads whole (a page: ordered as listed, 51 rows)."""
    sql, params = queryset[:51].query.sql_with_params()
    with connection.cursor() as cursor:
        for setting in PAGE_PLANNER:
            cursor.execute(f"SET LOCAL {setting} = off")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        (document,) = cursor.fetchone()
        for setting in PAGE_PLANNER:
            cursor.execute(f"RESET {setting}")
    plan = (json.loads(document) if isinstance(document, str) else document)[0]["Plan"]
    return sorted({_relation(node) for node in _nodes(plan) if _reads_whole(node)})


def _relation(node: dict[str, Any]) -> str:
    if "Relation Name" in node:
        return str(node["Relation Name"])
    with connection.cursor() as cursor:  # a bitmap index scan names its index only
        cursor.execute("SELECT tablename FROM pg_indexes WHERE indexname = %s", [node["Index Name"]])
        return str(cursor.fetchone()[0])


@pytest.fixture(scope="module")
def inbox(django_db_setup: None, django_db_blocker: Any) -> Iterator[dict[str, Any]]:
    """A tenant big enough for PostgreSQL to plan as it would at scale (seconds to fill), kept for the
    module and removed after it."""
    with django_db_blocker.unblock():
        call_command(
            "seed_scale",
            account_slug="plans",
            contacts=4000,
            conversations=4000,
            messages=40000,
            leads=2000,
            agents=4,
            executions=40000,
            people=3,
            seed=5,
            stdout=io.StringIO(),
        )
        account = Account.objects.get(slug="plans")
        conversation = Conversation.objects.filter(account=account).order_by("id").first()
        assert conversation is not None
        label = Label.objects.create(account=account, name="vip")
        label.conversations.add(conversation)
        agent = Agent.objects.filter(account=account).first()
        endpoint = WebhookEndpointFactory.create(account=account)
        events = WebhookEvent.objects.bulk_create(
            WebhookEvent(account=account, type="lead.created", payload="{}") for _ in range(3000)
        )
        EventDelivery.objects.bulk_create(
            EventDelivery(endpoint=endpoint, account=account, event=event, status=DeliveryStatus.SUCCEEDED)
            for event in events
        )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        user = User.objects.filter(account=account).first()
        yield {"conversation": conversation, "agent": agent, "endpoint": endpoint, "user": user}
        Account.objects.filter(pk=account.pk).delete()
        # seed_scale makes this catalogue template when it finds none (after a flush by a transactional test)
        AgentTemplate.objects.filter(key="scale-custom", account=None, agents__isnull=True).delete()


CONVERSATION_FILTERS = [
    {},
    {"status": "open"},
    {"assignee": "me"},
    {"assignee": "none"},
    {"agent": "1"},
    {"channel": "1"},
    {"label": "vip"},
    {"q": "order 1042"},
    {"status": "open", "q": "order"},
]


@pytest.mark.parametrize("filters", CONVERSATION_FILTERS, ids=lambda f: "&".join(f"{k}={v}" for k, v in f.items()))
def test_conversation_pages_and_searches_use_indexes(db: None, inbox: dict[str, Any], filters: dict[str, str]) -> None:
    principal = Principal.for_user(inbox["user"])
    queryset = conversation_list(principal=principal, filters=filters).order_by("-last_message_at", "-id")
    # Neither the messages nor the conversations are read whole. (On this small table PostgreSQL may
    # still prefer reading every contact or label to probing a trigram index; at scale it does not.)
    assert {"inbox_message", "inbox_conversation"}.isdisjoint(whole_table_scans(queryset))


@pytest.mark.parametrize("filters", [{"q": "order"}, {"status": "open", "q": "order"}], ids=["q", "status&q"])
def test_a_common_word_is_searched_along_the_lists_index(
    db: None, inbox: dict[str, Any], filters: dict[str, str], settings: Any
) -> None:
    # a word in more conversations than the search collects: read in the list's order instead
    settings.INBOX_SEARCH_COLLECT_MAX = 5
    principal = Principal.for_user(inbox["user"])
    queryset = conversation_list(principal=principal, filters=filters).order_by("-last_message_at", "-id")
    assert {"inbox_message", "inbox_conversation"}.isdisjoint(whole_table_scans(queryset))


@pytest.mark.parametrize("query", ["ana", "Sousa", "351912", "example.com"])
def test_contact_searches_use_indexes(db: None, inbox: dict[str, Any], query: str) -> None:
    contacts = Contact.objects.filter(account=inbox["user"].account)
    queryset = filter_queryset(ContactFilter, data={"q": query}, queryset=contacts).order_by("-created_at", "-id")
    assert whole_table_scans(queryset) == []


def test_a_conversations_messages_use_an_index(db: None, inbox: dict[str, Any]) -> None:
    queryset = message_list(conversation=inbox["conversation"]).order_by("-created_at", "-id")
    assert whole_table_scans(queryset) == []


@pytest.mark.parametrize("filters", [{}, {"status": "failed"}, {"since": "2026-01-01T00:00:00Z", "status": "running"}])
def test_an_agents_executions_use_an_index(db: None, inbox: dict[str, Any], filters: dict[str, str]) -> None:
    queryset = execution_list(agent=inbox["agent"], filters=filters).order_by("-started_at", "-id")
    assert whole_table_scans(queryset) == []


@pytest.mark.parametrize("filters", [{}, {"status": "failed"}])
def test_an_endpoints_deliveries_use_an_index(db: None, inbox: dict[str, Any], filters: dict[str, str]) -> None:
    queryset = delivery_list(endpoint=inbox["endpoint"], filters=filters).order_by("-created_at", "-id")
    assert whole_table_scans(queryset) == []


def test_the_check_sees_a_whole_table_scan_when_no_index_serves(db: None, inbox: dict[str, Any]) -> None:
    # a filter no index serves (text containing a word, without the full-text vector) reads every message
    queryset = Message.objects.filter(text__icontains="order")
    assert whole_table_scans(queryset) == ["inbox_message"]
