"""Searching the inbox: a number however it is written, and the words of the messages (full-text
search with its GIN index on PostgreSQL, "contains" on SQLite), in the API and on the inbox page."""

from __future__ import annotations

import importlib
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.principals import Principal
from inbox.models import Conversation, ConversationWords, Message
from inbox.selectors import conversation_list
from inbox.tests.factories import ContactFactory, ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db

WORDS_MAX = importlib.import_module("inbox.migrations.0009_conversation_words").WORDS_MAX

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


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # the tables are tiny in a test
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.postgres
def test_a_rare_word_is_found_through_the_conversations_words_index(member, conversations):
    # given the conversation list searched for words of a message, as the API and the page ask for it
    queryset = conversation_list(principal=Principal.for_user(member), filters={"q": "refund order"})

    # then PostgreSQL finds the conversations through the index of their words; messages are read only
    # for conversations past the word limit, found through their own index
    plan = _plan(queryset)
    assert "conversation_words_idx" in plan, plan
    assert "conversation_words_partial_idx" in plan, plan
    assert "Seq Scan on inbox_message" not in plan, plan
    assert [c.contact.name for c in queryset] == ["Ana Silva"]


@pytest.fixture
def busy_inbox(channel):
    """Twelve conversations of one tenant, one minute apart; the even ones mention a refund."""
    now = timezone.now()
    made = []
    for number in range(12):
        contact = ContactFactory(account=channel.account, name=f"Customer {number:02d}", wa_id=f"1555099{number:04d}")
        conversation = ConversationFactory(
            account=channel.account, channel=channel, contact=contact, last_message_at=now - timedelta(minutes=number)
        )
        MessageFactory(conversation=conversation, text="Where is my refund?" if number % 2 == 0 else "Thanks!")
        MessageFactory(conversation=conversation, text=f"Order {number}")
        made.append(conversation)
    return made


@pytest.mark.postgres
def test_a_common_word_reads_the_list_in_order_and_pages_through_every_match(client_for, member, busy_inbox, settings):
    # given a word in more conversations than the search collects
    settings.INBOX_SEARCH_COLLECT_MAX = 3
    expected = [f"Customer {number:02d}" for number in range(0, 12, 2)]

    # when the list is searched, 4 at a time, following the next links
    client = client_for(member)
    names: list[str] = []
    page = client.get("/api/v1/conversations", {"q": "refund", "page_size": 4}).json()
    names += [row["contact"]["name"] for row in page["results"]]
    while page["next"]:
        page = client.get(page["next"]).json()
        names += [row["contact"]["name"] for row in page["results"]]

    # then every match comes once, newest activity first, as when the matches are collected
    assert names == expected
    settings.INBOX_SEARCH_COLLECT_MAX = 1000
    collected = client.get("/api/v1/conversations", {"q": "refund", "page_size": 50}).json()["results"]
    assert [row["contact"]["name"] for row in collected] == expected


@pytest.mark.postgres
def test_every_way_of_storing_messages_adds_their_words(client_for, member, channel):
    # given a conversation whose messages arrive one at a time and several in one statement
    conversation = ConversationFactory.create(account=channel.account, channel=channel)
    MessageFactory(conversation=conversation, text="first hello")
    Message.objects.bulk_create(
        [
            Message(account=channel.account, conversation=conversation, channel=channel, direction="in", text=text)
            for text in ("second apricot", "third Zucchini")
        ]
    )

    # then each word is found, whichever statement stored it, and only once in the words
    client = client_for(member)
    for word in ("hello", "apricot", "zucchini", "thir"):
        assert [row["id"] for row in client.get("/api/v1/conversations", {"q": word}).json()["results"]] == [
            conversation.pk
        ], word
    stored = ConversationWords.objects.get(conversation=conversation)
    assert sorted(str(stored.words).replace("'", "").split()) == [
        "apricot",
        "first",
        "hello",
        "second",
        "third",
        "zucchini",
    ]

    # and deleting the conversation deletes its words
    conversation.delete()
    assert not ConversationWords.objects.filter(conversation_id=stored.pk).exists()


@pytest.mark.postgres
def test_a_conversation_past_the_word_limit_is_still_searched_by_its_messages(client_for, member, channel):
    # given a conversation sent more distinct words than a conversation collects (an abuse, or a
    # very long history), then a message with a rare word
    conversation = ConversationFactory.create(account=channel.account, channel=channel)
    MessageFactory(conversation=conversation, text=" ".join(f"w{number}" for number in range(WORDS_MAX + 1)))
    MessageFactory(conversation=conversation, text="platypus")

    # then it is marked as not collecting, its words stay within the limit, and the search finds it
    stored = ConversationWords.objects.get(conversation=conversation)
    assert stored.complete is False
    client = client_for(member)
    for word in ("platypus", "w49999"):
        assert [row["id"] for row in client.get("/api/v1/conversations", {"q": word}).json()["results"]] == [
            conversation.pk
        ], word
