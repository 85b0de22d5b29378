"""Reads of the inbox, always starting from the caller's tenant."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Prefetch, Q, QuerySet

from accounts.principals import Principal
from accounts.scoping import tenant_rows
from core.filters import IdFilter, IsoDateTimeFilter, filter_queryset, parse_id
from inbox.models import Contact, Conversation, ConversationStatus, Label, Lead, LeadStatus, Message


class ConversationFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ConversationStatus.choices)
    assignee = django_filters.CharFilter(
        method="filter_assignee", help_text="A user id, `me` or `none`."
    )  # "me" is resolved by conversation_list
    agent = IdFilter(field_name="agent_id", help_text="The AI agent holding the conversation.")
    channel = IdFilter(field_name="channel_id")
    label = django_filters.CharFilter(field_name="labels__name")
    q = django_filters.CharFilter(method="filter_text", help_text="Contact name or number contains this text.")

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
        return queryset.filter(Q(contact__name__icontains=value) | Q(contact__wa_id__icontains=value))


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
    q = django_filters.CharFilter(method="filter_text", help_text="Name, number or email contains this text.")

    class Meta:
        model = Contact
        fields: list[str] = []

    def filter_text(self, queryset: QuerySet[Contact], name: str, value: str) -> QuerySet[Contact]:
        return queryset.filter(Q(name__icontains=value) | Q(wa_id__icontains=value) | Q(email__icontains=value))


class LeadFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=LeadStatus.choices)
    source = django_filters.CharFilter()
    created_after = IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Lead
        fields: list[str] = []
