"""Searching the inbox: a number however it is written, and the words of the messages (full-text
search with its GIN index on PostgreSQL, "contains" on SQLite), in the API and on the inbox page."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.principals import Principal
from inbox.models import Conversation
from inbox.selectors import conversation_list
from inbox.tests.factories import ContactFactory, ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "conversation-list"}
# How the page shows the number (+<wa_id>) and how people type it.
WRITTEN = ["+15550100101", "15550100101", "+1 555 010 0101", "(555) 010-0101", "555.010.0101", "0100101"]


@pytest.fixture
def conversations(channel, other_account):
    """Ana (+1 555 010 0101) asked for a refund; Bo (+1 555 020 0202) asked about colours; another
    tenant has a contact with Ana's number who also wants a refund."""
    account = channel.account
    now = timezone.now()

    def make(name: str, wa_id: str, text: str, *, account=account, channel=channel) -> Conversation:
        contact = ContactFactory(account=account, name=name, wa_id=wa_id)
        kwargs = {"channel": channel} if channel is not None else {}
        conversation = ConversationFactory(account=account, contact=contact, last_message_at=now, **kwargs)
        MessageFactory(conversation=conversation, text=text)
        return conversation

    return {
        "ana": make("Ana Silva", "15550100101", "Hello, I would like a REFUND for order 1234, please"),
        "bo": make("Bo Chen", "15550200202", "Does it come in another colour? Blue maybe"),
        "foreign": make("Ana Other", "15550100101", "refund please", account=other_account, channel=None),
    }


def _names(response) -> list[str]:
    return sorted(row["contact"]["name"] for row in response.json()["results"])


@pytest.mark.parametrize("written", WRITTEN)
def test_the_api_finds_a_conversation_by_its_number_however_it_is_written(client_for, member, conversations, written):
    response = client_for(member).get("/api/v1/conversations", {"q": written})

    assert response.status_code == 200
    assert _names(response) == ["Ana Silva"]


@pytest.mark.parametrize("written", WRITTEN)
def test_the_api_finds_a_contact_by_its_number_however_it_is_written(client_for, member, conversations, written):
    response = client_for(member).get("/api/v1/contacts", {"q": written})

    assert response.status_code == 200
    assert [row["name"] for row in response.json()["results"]] == ["Ana Silva"]


@pytest.mark.parametrize("words", ["refund", "Refund", "REFUND please", "order 1234"])
def test_the_api_finds_a_conversation_by_the_words_of_its_messages(client_for, member, conversations, words):
    response = client_for(member).get("/api/v1/conversations", {"q": words})

    # then only this tenant's conversation that says it
    assert response.status_code == 200
    assert _names(response) == ["Ana Silva"]


@pytest.mark.parametrize("nonsense", ["+", "()", "'", "&|!:*", "-", "   ", "a'b", "\\", "%", "_"])
def test_a_search_of_punctuation_is_an_answer_not_an_error(client_for, member, conversations, nonsense):
    response = client_for(member).get("/api/v1/conversations", {"q": nonsense})

    assert response.status_code == 200
    assert "Ana Other" not in _names(response)


def test_the_inbox_page_finds_a_number_as_the_page_shows_it_and_a_word_of_a_message(member, conversations):
    client = Client()
    client.force_login(member)

    by_number = client.get("/inbox/", {"q": "+1 555 010 0101"}, **HTMX).content.decode()
    by_word = client.get("/inbox/", {"q": "colour"}, **HTMX).content.decode()

    assert re.findall(r'class="conv-name">([^<]+)<', by_number) == ["Ana Silva"]
    assert re.findall(r'class="conv-name">([^<]+)<', by_word) == ["Bo Chen"]


def test_the_inbox_search_box_says_what_it_searches(member, conversations):
    client = Client()
    client.force_login(member)

    assert 'placeholder="Name, number or message"' in client.get("/inbox/").content.decode()


# --- PostgreSQL: full-text search, served by its index --------------------------------------------


@pytest.mark.postgres
def test_every_word_counts_and_each_may_be_the_start_of_one(client_for, member, conversations):
    client = client_for(member)

    assert _names(client.get("/api/v1/conversations", {"q": "refun"})) == ["Ana Silva"]
    assert _names(client.get("/api/v1/conversations", {"q": "blue colour"})) == ["Bo Chen"]
    assert _names(client.get("/api/v1/conversations", {"q": "colour refund"})) == []


@pytest.mark.postgres
def test_the_message_search_uses_the_gin_index(member, conversations):
    # given the conversation list searched for words of a message, as the API and the page ask for it
    queryset = conversation_list(principal=Principal.for_user(member), filters={"q": "refund order"})
    sql, params = queryset.query.sql_with_params()

    # when PostgreSQL plans it (sequential scans discouraged: the table is tiny in a test)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    # then the messages are found through the full-text index, not by reading every message
    assert "message_text_search_idx" in plan, plan
    assert [c.contact.name for c in queryset] == ["Ana Silva"]
