"""Reads of the inbox, always starting from the caller's tenant.

Searching (`q`) finds a contact by name, by number however it is written ("+1 555 010 0101",
"(555) 010-0101": a contact's `wa_id` is digits only, so the digits are compared), and a
conversation also by the words of its messages, every word in one of them or another: on PostgreSQL
a full-text search (the `simple` configuration, no stemming, so it works the same in every
language; each word matches as a prefix) of each conversation's distinct words (`ConversationWords`,
GIN index on (account_id, words)); on SQLite each word must appear in the text of one of the
conversation's messages.

How PostgreSQL is asked depends on how common the words are, which its estimates of a prefix query
cannot tell, so one query counts the matching conversations up to `INBOX_SEARCH_COLLECT_MAX` (1,000)
first, and the matching contacts likewise:
- fewer of both ("invoice 4471"): the matching ids are one set, then sorted;
- more of either ("refund" in most conversations, "ana" in a tenth of the names): the list is read
  in its own order through its index and each conversation is tested in turn (its words, and its
  contact against the matching contacts), so a page stops after about a page of rows instead of
  collecting every match.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import django_filters
from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchVector, SearchVectorField
from django.db import connection, transaction
from django.db.models import BooleanField, Func, OuterRef, Q, QuerySet, Subquery

from accounts.principals import Principal
from accounts.scoping import tenant_rows
from core.filters import IdFilter, IsoDateTimeFilter, filter_queryset, parse_id
from inbox.models import (
    Contact,
    Conversation,
    ConversationStatus,
    ConversationWords,
    Lead,
    LeadStatus,
    Message,
)

CONVERSATION_SEARCH_HELP = (
    "The contact's name, or number however it is written (`+1 555 010 0101`, `(555) 010-0101`), "
    "or words of the conversation's messages (each word may be the start of one: `refun` finds refund)."
)
CONTACT_SEARCH_HELP = "Name, email, or number however it is written (`+1 555 010 0101`, `(555) 010-0101`)."

# How people write a phone number: digits with spaces, dashes, dots, brackets and a leading +.
_PHONE_NUMBER = re.compile(r"\+?[0-9\s().-]+")
_WORD = re.compile(r"[^\W_]+")
MAX_SEARCH_WORDS = 10
TEXT_SEARCH_CONFIG = "simple"


def number_digits(text: str) -> str:
    """The digits of `text` when it is written like a phone number, else "" (`wa_id` is digits only)."""
    if not _PHONE_NUMBER.fullmatch(text):
        return ""
    return re.sub(r"[^0-9]", "", text)


def contact_matches(value: str, *, prefix: str = "") -> Q:
    """Contacts whose name or phone contains `value`, or whose WhatsApp number contains its digits."""
    condition = Q(**{f"{prefix}name__icontains": value}) | Q(**{f"{prefix}phone__icontains": value})
    if digits := number_digits(value):
        condition |= Q(**{f"{prefix}wa_id__contains": digits})
    return condition


def _search_words(value: str) -> list[str]:
    """The words of `value` (letters and digits only, so nothing is tsquery syntax), at most ten."""
    return _WORD.findall(value)[:MAX_SEARCH_WORDS]


def _words_query(words: list[str]) -> SearchQuery:
    """Each word as a prefix, all required."""
    return SearchQuery(" & ".join(f"'{word}':*" for word in words), config=TEXT_SEARCH_CONFIG, search_type="raw")


def _fewer_than(limit: int, rows: QuerySet[Any, Any]) -> bool:
    """Whether `rows` holds fewer than `limit` rows, read through their index (PostgreSQL).

    Asked for at most `limit` rows, the planner would read the table in its own order and stop at
    the limit: cheap for a common word, a whole table for a rare one (its estimate of a prefix match
    is a fixed guess). Through the index both are cheap."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # until this transaction (or the caller's) ends
        return rows[:limit].count() < limit


class _Matches(Func):
    """`vector @@ query` as a condition. (`Q(words=query)` on an annotated subquery fails to compile:
    Django's full-text lookup adds its parameters as a tuple to a list.)"""

    arg_joiner = " @@ "
    template = "(%(expressions)s)"
    output_field = BooleanField()


def _conversations_saying(words: list[str], messages: QuerySet[Message]) -> QuerySet[Conversation, Any]:
    """The ids of conversations with each word in one of their `messages` (as a prefix of a word on
    PostgreSQL, anywhere in the text on SQLite): what their words answer, where there are none."""
    conversations = Conversation.objects.order_by()
    for word in words:
        saying: QuerySet[Any, Any]
        if connection.vendor == "postgresql":
            saying = messages.alias(text_search=SearchVector("text", config=TEXT_SEARCH_CONFIG)).filter(
                text_search=_words_query([word])
            )
        else:
            saying = messages.filter(text__icontains=word)
        conversations = conversations.filter(pk__in=saying.order_by().values("conversation_id"))
    return conversations.values("id")


class ConversationFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ConversationStatus.choices)
    assignee = django_filters.CharFilter(
        method="filter_assignee", help_text="A user id, `me` or `none`."
    )  # "me" is resolved by conversation_list
    agent = IdFilter(field_name="agent_id", help_text="The AI agent holding the conversation.")
    channel = IdFilter(field_name="channel_id")
    label = django_filters.CharFilter(field_name="labels__name")
    q = django_filters.CharFilter(method="filter_text", help_text=CONVERSATION_SEARCH_HELP)

    class Meta:
        model = Conversation
        fields: list[str] = []

    def filter_assignee(self, queryset: QuerySet[Conversation], name: str, value: str) -> QuerySet[Conversation]:
        if value == "none":
            return queryset.filter(assignee__isnull=True)
        if (user_id := parse_id(value)) is not None:
            return queryset.filter(assignee_id=user_id)
        return queryset.none()  # "me" for an API key, or nonsense: nobody

    def __init__(self, *args: Any, account_id: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.account_id = account_id  # the tenant searched (None: platform staff, every tenant)

    def filter_text(self, queryset: QuerySet[Conversation], name: str, value: str) -> QuerySet[Conversation]:
        value = value.strip()
        if not value:
            return queryset
        tenant = {} if self.account_id is None else {"account_id": self.account_id}
        # Contacts through their trigram indexes (migration 0008).
        contacts = Contact.objects.filter(contact_matches(value), **tenant)
        by_contact = contacts.values("id")
        words = _search_words(value)
        if not words:
            return queryset.filter(contact_id__in=by_contact)
        if connection.vendor != "postgresql":
            saying = _conversations_saying(words, Message.objects.all())
            return queryset.filter(Q(contact_id__in=by_contact) | Q(pk__in=saying))
        query = _words_query(words)
        # Conversations that stopped collecting words: their messages are read instead (normally none).
        overflowing = ConversationWords.objects.filter(complete=False, **tenant).values("conversation_id")
        by_messages = _conversations_saying(words, Message.objects.filter(conversation_id__in=overflowing))
        matching = ConversationWords.objects.filter(words=query, **tenant)
        collect_max = settings.INBOX_SEARCH_COLLECT_MAX
        if _fewer_than(collect_max, matching.values("conversation_id")) and _fewer_than(
            collect_max, contacts.values("id")
        ):
            by_words = matching.order_by().values("conversation_id")
            by_contacts = Conversation.objects.filter(contact_id__in=by_contact).order_by().values("id")
            return queryset.filter(pk__in=by_contacts.union(by_words, by_messages))
        # A common word: each conversation's words, one row at a time, in the list's order (a scalar
        # subquery, which PostgreSQL cannot turn into a hash of every match as it would an EXISTS).
        words_of = ConversationWords.objects.filter(conversation_id=OuterRef("pk")).values("words")[:1]
        says = _Matches(Subquery(words_of, output_field=SearchVectorField()), query)
        return queryset.filter(Q(says) | Q(contact_id__in=by_contact) | Q(pk__in=by_messages))


def conversation_list(*, principal: Principal, filters: Any) -> QuerySet[Conversation]:
    """`principal`'s conversations, filtered as documented (`assignee=me` is the signed-in person)."""
    filters = filters.copy()
    if filters.get("assignee") == "me":
        user = principal.user
        filters["assignee"] = str(user.pk) if user is not None else "-1"
    scoped = tenant_rows(Conversation.objects.all(), principal=principal)
    queryset = scoped.select_related("contact")
    tenant = None if principal.is_platform else principal.account
    account_id = None if tenant is None else tenant.pk
    queryset = filter_queryset(ConversationFilter, data=filters, queryset=queryset, account_id=account_id)
    return queryset.distinct() if filters.get("label") else queryset


def label_names_attach(conversations: Iterable[Conversation]) -> None:
    """Give each conversation `label_names`, its labels' names in order, in one query for all of
    them (a list page: cheaper than `prefetch_related("labels")`, which builds a related manager and
    a label instance per row)."""
    rows = list(conversations)
    names: dict[int, list[str]] = {row.pk: [] for row in rows}
    pairs = Conversation.labels.through.objects.filter(conversation_id__in=names).values_list(
        "conversation_id", "label__name"
    )
    for conversation_id, name in pairs:
        names[conversation_id].append(name)
    for row in rows:  # sorted in Python, as a conversation's own page sorts them (not by collation)
        row.label_names = sorted(names[row.pk])  # type: ignore[attr-defined]


def message_list(*, conversation: Conversation) -> QuerySet[Message]:
    return Message.objects.filter(conversation=conversation)


class ContactFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_text", help_text=CONTACT_SEARCH_HELP)

    class Meta:
        model = Contact
        fields: list[str] = []

    def filter_text(self, queryset: QuerySet[Contact], name: str, value: str) -> QuerySet[Contact]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(contact_matches(value) | Q(email__icontains=value))


class LeadFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=LeadStatus.choices)
    source = django_filters.CharFilter()
    created_after = IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Lead
        fields: list[str] = []
