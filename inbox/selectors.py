"""Reads of the inbox, always starting from the caller's tenant.

Searching (`q`) finds a contact by name, by number however it is written ("+1 555 010 0101",
"(555) 010-0101": a contact's `wa_id` is digits only, so the digits are compared), and a
conversation also by the words of its messages: on PostgreSQL a full-text search (the `simple`
configuration, no stemming, so it works the same in every language; each word matches as a prefix)
served by the GIN index `message_text_search_idx`; on SQLite each word must appear in the text.
"""

from __future__ import annotations

import re
from typing import Any

import django_filters
from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import Prefetch, Q, QuerySet

from accounts.principals import Principal
from accounts.scoping import tenant_rows
from core.filters import IdFilter, IsoDateTimeFilter, filter_queryset, parse_id
from inbox.models import Contact, Conversation, ConversationStatus, Label, Lead, LeadStatus, Message

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


def _conversations_saying(value: str) -> QuerySet[Message, Any]:
    """The ids of conversations with a message whose text matches `value` (see the module docstring)."""
    words = _WORD.findall(value)[:MAX_SEARCH_WORDS]
    if not words:
        return Message.objects.none().order_by().values("conversation_id")
    if connection.vendor != "postgresql":  # every word somewhere in the text
        return Message.objects.filter(*(Q(text__icontains=word) for word in words)).order_by().values("conversation_id")
    # Each word (letters and digits only, so nothing here is tsquery syntax) as a prefix, all required.
    query = SearchQuery(" & ".join(f"'{word}':*" for word in words), config=TEXT_SEARCH_CONFIG, search_type="raw")
    # The same expression as the index `message_text_search_idx` (migration 0007), so the index serves it.
    return (
        Message.objects.alias(text_search=SearchVector("text", config=TEXT_SEARCH_CONFIG))
        .filter(text_search=query)
        .order_by()
        .values("conversation_id")
    )


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

    def filter_text(self, queryset: QuerySet[Conversation], name: str, value: str) -> QuerySet[Conversation]:
        value = value.strip()
        if not value:
            return queryset
        # One set of ids, each half read through its own indexes (contacts: trigram, migration 0008;
        # messages: full text, 0007): an OR of the two conditions would test every conversation.
        by_contact = (
            Conversation.objects.filter(contact_id__in=Contact.objects.filter(contact_matches(value)).values("id"))
            .order_by()
            .values("id")
        )
        return queryset.filter(pk__in=by_contact.union(_conversations_saying(value)))


def conversation_list(*, principal: Principal, filters: Any) -> QuerySet[Conversation]:
    """`principal`'s conversations, filtered as documented (`assignee=me` is the signed-in person)."""
    filters = filters.copy()
    if filters.get("assignee") == "me":
        user = principal.user
        filters["assignee"] = str(user.pk) if user is not None else "-1"
    scoped = tenant_rows(Conversation.objects.all(), principal=principal)
    queryset = scoped.select_related("contact").prefetch_related(
        Prefetch("labels", queryset=Label.objects.order_by("name"))
    )
    queryset = filter_queryset(ConversationFilter, data=filters, queryset=queryset)
    return queryset.distinct() if filters.get("label") else queryset


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
