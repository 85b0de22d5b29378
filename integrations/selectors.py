"""Reads of the integrations domain, each starting from the caller's tenant."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import django_filters
from django.db.models import OuterRef, QuerySet, Subquery

from accounts.models import Account
from accounts.principals import Principal
from accounts.scoping import tenant_rows
from agents.models import AgentExecution, ExecutionStatus
from core.filters import StrictBooleanFilter, filter_queryset
from inbox.models import Lead
from integrations.models import DeliveryStatus, EndpointSource, EventDelivery, WebhookEndpoint

# What a polling trigger answers at most (Zapier reads the newest items and deduplicates by id).
POLL_LIMIT = 100


class WebhookEndpointFilter(django_filters.FilterSet):
    source = django_filters.ChoiceFilter(choices=EndpointSource.choices)
    is_active = StrictBooleanFilter()

    class Meta:
        model = WebhookEndpoint
        fields: list[str] = []


class EventDeliveryFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=DeliveryStatus.choices)

    class Meta:
        model = EventDelivery
        fields: list[str] = []


def webhook_endpoint_list(*, principal: Principal, filters: Mapping[str, Any]) -> QuerySet[WebhookEndpoint]:
    """`principal`'s endpoints, filtered by `source` and `is_active`; 400 on a bad value."""
    scoped = tenant_rows(WebhookEndpoint.objects.all(), principal=principal)
    return filter_queryset(WebhookEndpointFilter, data=filters, queryset=scoped)


def webhook_endpoints_with_last_delivery(*, scoped: QuerySet[WebhookEndpoint]) -> QuerySet[WebhookEndpoint]:
    """The endpoints, each with its newest delivery's `last_delivery_status` and `last_delivery_at`
    (None when nothing was sent yet): one query for the whole list (index `delivery_endpoint_created_idx`)."""
    newest = EventDelivery.objects.filter(endpoint=OuterRef("pk")).order_by("-created_at", "-id")
    return scoped.annotate(
        last_delivery_status=Subquery(newest.values("status")[:1]),
        last_delivery_at=Subquery(newest.values("created_at")[:1]),
    )


def delivery_list(*, endpoint: WebhookEndpoint, filters: Mapping[str, Any]) -> QuerySet[EventDelivery]:
    """The endpoint's deliveries, newest first, each with its event and attempts."""
    queryset = EventDelivery.objects.filter(endpoint=endpoint).select_related("event").prefetch_related("attempts")
    return filter_queryset(EventDeliveryFilter, data=filters, queryset=queryset)


def leads_newest(*, account: Account, limit: int = POLL_LIMIT) -> list[Lead]:
    """The tenant's newest leads (index `lead_account_created_idx`)."""
    return list(Lead.objects.filter(account=account).order_by("-created_at", "-id")[:limit])


def executions_finished_newest(*, account: Account, limit: int = POLL_LIMIT) -> list[AgentExecution]:
    """The tenant's newest finished agent runs, by start time (index `execution_account_time_idx`,
    which carries the status)."""
    return list(
        AgentExecution.objects.filter(
            account=account, status__in=[ExecutionStatus.SUCCEEDED, ExecutionStatus.FAILED]
        ).order_by("-started_at", "-id")[:limit]
    )
