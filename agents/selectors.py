"""Reads of the agents domain, each starting from the caller's tenant (a scoped queryset)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Prefetch, QuerySet

from agents.models import Agent, AgentCategory, AgentStatus, AgentTemplate
from core.filters import filter_queryset
from inbox.models import Channel

LISTED_STATUSES = [(value, label) for value, label in AgentStatus.choices if value != AgentStatus.DELETED]


class AgentFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=LISTED_STATUSES)
    category = django_filters.ChoiceFilter(choices=AgentCategory.choices)

    class Meta:
        model = Agent
        fields: list[str] = []


def agents_visible(*, scoped: QuerySet[Agent]) -> QuerySet[Agent]:
    """The agents of the scope that have not been deleted (a deleted agent is gone for the API)."""
    return (
        scoped.exclude(status=AgentStatus.DELETED)
        .select_related("account", "template")
        # Ids only: a channel row carries encrypted tokens that are costly to load and never shown.
        .prefetch_related(Prefetch("channels", queryset=Channel.objects.only("id")))
    )


def agent_list(*, scoped: QuerySet[Agent], filters: Any) -> QuerySet[Agent]:
    """Filtered by `status` and `category`; 400 on an unknown value."""
    return filter_queryset(AgentFilter, data=filters, queryset=agents_visible(scoped=scoped))


def template_list() -> QuerySet[AgentTemplate]:
    return AgentTemplate.objects.filter(is_active=True).order_by("category", "name", "id")
