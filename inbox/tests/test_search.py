"""Searching the inbox: a number however it is written, and the words of the messages (full-text
search with its GIN index on PostgreSQL, "contains" on SQLite), in the API and on the inbox page."""

from __future__ import annotations

import importlib
import re
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from accounts.principals import Principal
from inbox.models import Conversation, ConversationWords, Message
from inbox.selectors import conversation_list
from inbox.services.messages import message_send
from inbox.tests.factories import ContactFactory, ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db

WORDS_BYTES_MAX = importlib.import_module("inbox.migrations.0009_conversation_words").WORDS_BYTES_MAX

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


def _long_words(first: int, count: int) -> str:
    """`count` distinct 64-letter words, numbered from `first` (as long as a word may usefully be)."""
    return " ".join(
        "".join(chr(97 + number // 26**i % 26) for i in range(4)) * 16 for number in range(first, first + count)
    )


def _found(client, query: str) -> list[int]:
    return [row["id"] for row in client.get("/api/v1/conversations", {"q": query}).json()["results"]]


@pytest.mark.postgres
def test_a_conversation_past_the_word_limit_is_stored_and_still_searched_by_its_messages(client_for, member, channel):
    # given a customer who sends message after message of long distinct words (6,000 of 64 letters
    # each: three such messages would be more than PostgreSQL allows in one word vector)
    conversation = ConversationFactory.create(account=channel.account, channel=channel)
    for part in range(3):
        MessageFactory(conversation=conversation, text=_long_words(part * 6000, 6000))
    MessageFactory(conversation=conversation, text="platypus")
    # and another conversation that crosses the limit a little at a time
    gradual = ConversationFactory.create(account=channel.account, channel=channel)
    for part in range(3):
        MessageFactory(conversation=gradual, text=_long_words(100_000 + part * 1500, 1500))
    MessageFactory(conversation=gradual, text="wombat")

    # then every message was stored, both conversations stopped collecting within the limit
    assert Message.objects.filter(conversation__in=[conversation, gradual]).count() == 8
    for stored in ConversationWords.objects.filter(conversation__in=[conversation, gradual]):
        assert stored.complete is False
        assert len(str(stored.words)) < WORDS_BYTES_MAX
    # and the search still finds them by their messages, words of different messages together too
    client = client_for(member)
    first_word = _long_words(0, 1)
    assert _found(client, "platypus") == [conversation.pk]
    assert _found(client, f"platypus {first_word}") == [conversation.pk]
    assert _found(client, "wombat") == [gradual.pk]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_reply_and_an_incoming_message_of_one_conversation_do_not_deadlock(member, channel, httpserver, settings):
    # given a conversation with words, and Graph API standing by for the reply
    settings.GRAPH_API_BASE_URL = httpserver.url_for("/v21.0")
    httpserver.expect_request(f"/v21.0/{channel.phone_number_id}/messages", method="POST").respond_with_json(
        {"messages": [{"id": "wamid.reply"}]}
    )
    conversation = ConversationFactory.create(account=channel.account, channel=channel, last_inbound_at=timezone.now())
    MessageFactory(conversation=conversation, text="hello")
    holding = threading.Event()
    errors: list[BaseException] = []

    def incoming() -> None:  # as the ingest stores a message: the conversation's row first
        try:
            with transaction.atomic():
                Conversation.objects.select_for_update().get(pk=conversation.pk)
                holding.set()
                time.sleep(0.5)  # the reply starts meanwhile
                Message.objects.create(
                    account=channel.account, conversation=conversation, channel=channel, direction="in", text="incoming"
                )
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    def reply() -> None:
        try:
            holding.wait(timeout=5)
            message_send(
                conversation=Conversation.objects.get(pk=conversation.pk),
                actor=Principal.for_user(member),
                text="answer",
            )
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    # when a teammate replies while an incoming message of the same conversation is being stored
    threads = [threading.Thread(target=incoming), threading.Thread(target=reply)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # then both are stored, with their words, and neither failed
    assert errors == []
    assert set(Message.objects.filter(conversation=conversation).values_list("text", flat=True)) == {
        "hello",
        "incoming",
        "answer",
    }
    assert {"incoming", "answer"} <= set(
        str(ConversationWords.objects.get(conversation=conversation).words).replace("'", "").split()
    )


def test_the_words_may_be_in_different_messages_of_a_conversation(client_for, member, channel):
    # given one conversation saying both words in one message, one in two messages, one only one word
    def conversation_saying(*texts: str) -> Conversation:
        conversation = ConversationFactory.create(account=channel.account, channel=channel)
        for text in texts:
            MessageFactory(conversation=conversation, text=text)
        return conversation

    together = conversation_saying("I need a refund for the colour")
    apart = conversation_saying("I need a refund", "Wrong colour, sorry")
    conversation_saying("I need a refund")

    # when both words are searched for, then both conversations that say them are found (each
    # backend alike), and not the one that says only one
    assert sorted(_found(client_for(member), "refund colour")) == sorted([together.pk, apart.pk])
