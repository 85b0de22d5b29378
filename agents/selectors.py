"""Reads of the agents domain, each starting from the caller's tenant (`accounts.scoping`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import django_filters
from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery, Sum

from accounts.principals import Principal
from accounts.scoping import tenant_row, tenant_rows
from agents.models import (
    Agent,
    AgentCategory,
    AgentExecution,
    AgentExecutionHourly,
    AgentRuntime,
    AgentStatus,
    AgentTemplate,
    ExecutionStatus,
)
from agents.services.rollup import hour_of
from core.filters import IsoDateTimeFilter, filter_queryset
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


def agent_get(*, principal: Principal, pk: Any) -> Agent:
    """One agent of `principal`'s tenant, not deleted; the same 404 for missing, deleted and foreign ones."""
    return tenant_row(agents_visible(scoped=Agent.objects.all()), principal=principal, pk=pk)


def agent_list(*, principal: Principal, filters: Any) -> QuerySet[Agent]:
    """`principal`'s agents, filtered by `status` and `category`; 400 on an unknown value."""
    visible = agents_visible(scoped=tenant_rows(Agent.objects.all(), principal=principal))
    return filter_queryset(AgentFilter, data=filters, queryset=visible)


def agent_list_with_activity(*, principal: Principal, filters: Any) -> QuerySet[Agent]:
    """`agent_list` with each agent's latest execution (`last_execution_at`, `last_execution_status`):
    one query whatever the number of agents, each figure one step down an index."""
    latest = AgentExecution.objects.filter(agent=OuterRef("pk")).order_by("-started_at", "-id")
    return agent_list(principal=principal, filters=filters).annotate(
        last_execution_at=Subquery(latest.values("started_at")[:1]),
        last_execution_status=Subquery(latest.values("status")[:1]),
    )


@dataclass(frozen=True)
class RecentOutcomes:
    succeeded: int = 0
    failed: int = 0

    @property
    def finished(self) -> int:
        return self.succeeded + self.failed

    @property
    def success_rate(self) -> float | None:
        return self.succeeded / self.finished if self.finished else None


def recent_outcomes(*, agent_ids: Iterable[int], since: datetime) -> dict[int, RecentOutcomes]:
    """How many executions of each agent started since the start of `since`'s hour (UTC) succeeded and
    failed, from the hourly roll-up (`AgentExecutionHourly`): one query reading at most one row per
    agent and hour, however many executions there were. Agents without any are left out."""
    rows = (
        AgentExecutionHourly.objects.filter(agent_id__in=list(agent_ids), hour__gte=hour_of(since))
        .order_by()
        .values("agent_id")
        .annotate(succeeded=Sum("succeeded"), failed=Sum("failed"))
    )
    return {row["agent_id"]: RecentOutcomes(row["succeeded"] or 0, row["failed"] or 0) for row in rows}


def agent_executions(*, agent: Agent, before: AgentExecution | None = None) -> QuerySet[AgentExecution]:
    """The agent's executions, newest first; only those older than `before` when given (keyset)."""
    executions = AgentExecution.objects.filter(agent=agent).order_by("-started_at", "-id")
    if before is not None:
        executions = executions.filter(
            Q(started_at__lt=before.started_at) | Q(started_at=before.started_at, id__lt=before.pk)
        )
    return executions


class ExecutionFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ExecutionStatus.choices)
    since = IsoDateTimeFilter(field_name="started_at", lookup_expr="gte")
    until = IsoDateTimeFilter(field_name="started_at", lookup_expr="lt")

    class Meta:
        model = AgentExecution
        fields: list[str] = []


def execution_list(*, agent: Agent, filters: Any) -> QuerySet[AgentExecution]:
    """The agent's executions, newest first, by `status` and start time (`since` ≤ started < `until`);
    400 on a bad value. Read through the (agent, started_at) index, which carries the status."""
    return filter_queryset(ExecutionFilter, data=filters, queryset=agent_executions(agent=agent))


def template_list(*, principal: Principal, with_runner: bool = True) -> QuerySet[AgentTemplate]:
    """The templates the caller's tenant may create agents from: the catalogue and its own
    (a plugin it installed). Platform staff acting for no tenant see the catalogue. Without
    `with_runner`, the templates whose agents run on the SkyBot runner are left out."""
    own = Q(account__isnull=True)
    if principal.account is not None:
        own |= Q(account=principal.account)
    templates = AgentTemplate.objects.filter(own, is_active=True)
    if not with_runner:
        templates = templates.exclude(runtime=AgentRuntime.RUNNER)
    return templates.order_by("category", "name", "id")
