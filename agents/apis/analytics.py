"""Execution analytics: one agent's, or the whole tenant's (counts, success rate, durations, series)."""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.apis.base import TenantApi
from accounts.models import Account
from agents.apis import examples
from agents.models import Agent, AgentStatus
from agents.services.analytics import (
    AnalyticsRange,
    AnalyticsRangeError,
    account_analytics,
    agent_analytics,
    analytics_range,
)
from core.exceptions import ApplicationError
from core.filters import parse_id
from core.openapi import error_responses


class AnalyticsQuerySerializer(serializers.Serializer[Any]):
    """Query parameters; `from` is a Python keyword, so the fields are added in `get_fields`."""

    interval = serializers.ChoiceField(choices=["day", "hour"], required=False, default="day")

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        fields["from"] = serializers.DateTimeField(required=False)
        fields["to"] = serializers.DateTimeField(required=False)
        return fields


class AnalyticsTotalsSerializer(serializers.Serializer[Any]):
    total = serializers.IntegerField()
    succeeded = serializers.IntegerField()
    failed = serializers.IntegerField()
    running = serializers.IntegerField()

    class Meta:
        ref_name = "AnalyticsTotals"


class AnalyticsBucketSerializer(serializers.Serializer[Any]):
    bucket = serializers.DateTimeField(help_text="Start of the day or hour (UTC).")
    total = serializers.IntegerField()
    succeeded = serializers.IntegerField()
    failed = serializers.IntegerField()

    class Meta:
        ref_name = "AnalyticsBucket"


class AnalyticsSerializer(serializers.Serializer[Any]):
    date_from = serializers.DateTimeField(help_text="Start of the range (inclusive).")
    date_to = serializers.DateTimeField(help_text="End of the range (exclusive).")
    interval = serializers.ChoiceField(choices=["day", "hour"])
    totals = AnalyticsTotalsSerializer(help_text="Executions started in the range, by status.")
    success_rate = serializers.FloatField(
        allow_null=True, help_text="succeeded / (succeeded + failed), 0..1; null when none finished."
    )
    p50_duration_ms = serializers.FloatField(
        allow_null=True,
        help_text="Median duration of finished executions: exact up to 10,000 of them, else estimated (< 5 % off).",
    )
    p95_duration_ms = serializers.FloatField(
        allow_null=True,
        help_text="95th percentile duration (interpolated): exact up to 10,000, else estimated (< 5 % off).",
    )
    series = AnalyticsBucketSerializer(many=True, help_text="One entry per day or hour, empty ones included.")

    class Meta:
        ref_name = "AgentAnalytics"


RANGE_ERRORS = {"from": ["Must be before `to`."]}

QUERY_PARAMETERS = [
    OpenApiParameter(
        "from", str, description="ISO 8601 datetime, inclusive. Default: `to` minus 7 days.", required=False
    ),
    OpenApiParameter(
        "to",
        str,
        description=(
            "ISO 8601 datetime, exclusive. Default: now, rounded up to 5 minutes; at most 366 days after `from`."
        ),
        required=False,
    ),
    OpenApiParameter(
        "interval", str, enum=["day", "hour"], description="Series bucket; `hour` for ranges up to 31 days."
    ),
]

DESCRIPTION = (
    "Executions started in [`from`, `to`): counts by status, the success rate of finished ones, "
    "the median and 95th percentile duration, and a series per day or hour (UTC). Answers are "
    "cached for 5 minutes and refreshed as soon as new executions arrive."
)


def _window(request: Request) -> AnalyticsRange:
    query = AnalyticsQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    data = query.validated_data
    try:
        return analytics_range(date_from=data.get("from"), date_to=data.get("to"), interval=data["interval"])
    except AnalyticsRangeError as exc:
        raise ApplicationError("Invalid input.", code="validation_error", details=exc.errors) from None


class AgentAnalyticsApi(TenantApi):
    @extend_schema(
        operation_id="agents_analytics",
        summary="Analytics of one agent's executions",
        description=DESCRIPTION,
        parameters=QUERY_PARAMETERS,
        examples=examples.ANALYTICS,
        responses={200: AnalyticsSerializer, **error_responses(400, 404, field_errors=RANGE_ERRORS)},
    )
    def get(self, request: Request, pk: int) -> Response:
        agent = self.get_scoped_object(Agent.objects.exclude(status=AgentStatus.DELETED), pk=pk)
        answer = agent_analytics(agent=agent, window=_window(request))
        return Response(AnalyticsSerializer(answer).data)


class AccountAnalyticsApi(TenantApi):
    @extend_schema(
        operation_id="agents_analytics_account",
        summary="Analytics of all the tenant's agent executions",
        description=DESCRIPTION + " Platform staff name the tenant with `account`.",
        parameters=[
            *QUERY_PARAMETERS,
            OpenApiParameter("account", int, description="Platform staff only: the tenant to read."),
        ],
        examples=examples.ANALYTICS,
        responses={200: AnalyticsSerializer, **error_responses(400, field_errors=RANGE_ERRORS)},
    )
    def get(self, request: Request) -> Response:
        requested = request.query_params.get("account")
        account_id = parse_id(requested) if requested is not None else None
        if requested is not None and account_id is None:
            raise ApplicationError(
                "Invalid input.", code="validation_error", details={"account": ["A valid integer is required."]}
            )
        account: Account = self.account_for_create(account_id)
        answer = account_analytics(account=account, window=_window(request))
        return Response(AnalyticsSerializer(answer).data)


urlpatterns = [
    # Before the agents module's `agents/<int:pk>` patterns (agents/urls.py keeps that order).
    path("agents/analytics", AccountAnalyticsApi.as_view(), name="agent-analytics-account"),
    path("agents/<int:pk>/analytics", AgentAnalyticsApi.as_view(), name="agent-analytics"),
]
