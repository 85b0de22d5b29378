"""Execution analytics: exact figures on a known data set, buckets, caching, and the API's rules."""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import Account, User
from agents import histogram
from agents.cache import analytics_invalidate
from agents.models import Agent, AgentStatus, ExecutionStatus
from agents.services.analytics import (
    AnalyticsRangeError,
    account_analytics,
    agent_analytics,
    analytics_range,
)
from agents.services.executions import ExecutionReport, execution_record
from agents.tests.factories import AgentExecutionFactory, AgentFactory
from conftest import USING_REDIS

FROM = datetime(2026, 3, 1, tzinfo=UTC)
TO = datetime(2026, 3, 3, tzinfo=UTC)
QUERY = {"from": "2026-03-01T00:00:00Z", "to": "2026-03-03T00:00:00Z"}
S, F, R = ExecutionStatus.SUCCEEDED, ExecutionStatus.FAILED, ExecutionStatus.RUNNING
_ids = itertools.count(1)


def at(day: int, hour: int, minute: int = 0, second: int = 0, microsecond: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, second, microsecond, tzinfo=UTC)


def execution(agent: Agent, started_at: datetime, status: str, duration_ms: int | None) -> None:
    """Report an execution to the execution writer as the runner does: started, then its outcome."""
    external_id = f"exe-{next(_ids)}"
    execution_record(agent=agent, report=ExecutionReport(external_id=external_id, status=R, started_at=started_at))
    if status != R:
        assert duration_ms is not None
        finished_at = started_at + timedelta(milliseconds=duration_ms)
        report = ExecutionReport(
            external_id=external_id, status=status, finished_at=finished_at, duration_ms=duration_ms
        )
        execution_record(agent=agent, report=report)


def percentile_cont(values: list[int], fraction: float) -> float:
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    lower = math.floor(position)
    if position == lower:
        return float(ordered[lower])
    return ordered[lower] + (ordered[lower + 1] - ordered[lower]) * (position - lower)


def aggregate_queries() -> int:
    """Queries of one cold answer: the roll-up, the partial hours, the percentiles (two on SQLite)."""
    return 3 if connection.vendor == "postgresql" else 4


@pytest.fixture
def agent(account: Account) -> Agent:
    return AgentFactory(account=account, status=AgentStatus.ACTIVE)


@pytest.fixture
def data_set(account: Account, other_account: Account, agent: Agent) -> dict[str, Agent]:
    """Agent A: 7 executions in range (4 succeeded, 2 failed, 1 running) plus 2 just outside it;
    agent B of the same tenant: 1; another tenant's agent: 1 (never counted). All reported through
    the execution writer, which keeps the hourly roll-up."""
    for started_at, status, duration in [
        (at(1, 9, 15), S, 100),
        (at(1, 9, 45), S, 200),
        (at(1, 10, 5), F, 300),
        (at(1, 23, 59, 59), S, 400),
        (at(2, 0, 0), S, 500),
        (at(2, 12, 0), F, 1000),
        (at(2, 13, 0), R, None),
        (FROM - timedelta(seconds=1), S, 9999),  # before the range
        (TO, S, 9999),  # the end is exclusive
    ]:
        execution(agent, started_at, status, duration)
    agent_b = AgentFactory.create(account=account, template=agent.template)
    execution(agent_b, at(1, 9, 30), S, 700)
    stranger = AgentFactory.create(account=other_account, template=agent.template)
    execution(stranger, at(1, 9, 30), F, 50)
    return {"a": agent, "b": agent_b, "stranger": stranger}


def series_of(answer: dict[str, Any]) -> list[tuple[datetime, int, int, int]]:
    return [(b["bucket"], b["total"], b["succeeded"], b["failed"]) for b in answer["series"]]


# -- figures ---------------------------------------------------------------------------------


def test_agent_figures_by_day_are_exact(data_set: dict[str, Agent]) -> None:
    # given the known data set
    window = analytics_range(date_from=FROM, date_to=TO, interval="day")

    # when agent A's analytics are computed
    answer = agent_analytics(agent=data_set["a"], window=window)

    # then counts, rate and percentiles (percentile_cont interpolation over 100..1000) are exact
    assert answer["totals"] == {"total": 7, "succeeded": 4, "failed": 2, "running": 1}
    assert answer["success_rate"] == 0.6667
    assert answer["p50_duration_ms"] == 350.0
    assert answer["p95_duration_ms"] == 875.0
    assert series_of(answer) == [(at(1, 0), 4, 3, 1), (at(2, 0), 3, 1, 1)]


def test_account_figures_include_every_agent_of_the_tenant_only(data_set: dict[str, Agent], account: Account) -> None:
    # given the known data set
    window = analytics_range(date_from=FROM, date_to=TO, interval="day")

    # when the tenant's analytics are computed
    answer = account_analytics(account=account, window=window)

    # then agent B counts and the other tenant's execution does not
    assert answer["totals"] == {"total": 8, "succeeded": 5, "failed": 2, "running": 1}
    assert answer["success_rate"] == 0.7143
    assert answer["p50_duration_ms"] == 400.0
    assert answer["p95_duration_ms"] == 910.0
    assert series_of(answer) == [(at(1, 0), 5, 4, 1), (at(2, 0), 3, 1, 1)]


def test_hourly_series_has_one_bucket_per_hour_with_empty_ones(data_set: dict[str, Agent]) -> None:
    # given a two-day range by the hour
    window = analytics_range(date_from=FROM, date_to=TO, interval="hour")

    # when agent A's analytics are computed
    answer = agent_analytics(agent=data_set["a"], window=window)

    # then there are 48 buckets and only the hours with executions are non-zero
    assert len(answer["series"]) == 48
    assert answer["series"][0]["bucket"] == at(1, 0)
    assert answer["series"][-1]["bucket"] == at(2, 23)
    non_empty = [row for row in series_of(answer) if row[1]]
    assert non_empty == [
        (at(1, 9), 2, 2, 0),
        (at(1, 10), 1, 0, 1),
        (at(1, 23), 1, 1, 0),
        (at(2, 0), 1, 1, 0),
        (at(2, 12), 1, 0, 1),
        (at(2, 13), 1, 0, 0),
    ]
    assert answer["totals"]["total"] == 7


def test_a_range_starting_mid_day_starts_its_series_at_that_day(data_set: dict[str, Agent]) -> None:
    # given a range from 1 March 09:30 to 2 March 12:00 (exclusive)
    window = analytics_range(date_from=at(1, 9, 30), date_to=at(2, 12), interval="day")

    # when agent A's analytics are computed
    answer = agent_analytics(agent=data_set["a"], window=window)

    # then the buckets are whole days and only executions inside the range count
    assert series_of(answer) == [(at(1, 0), 3, 2, 1), (at(2, 0), 1, 1, 0)]
    assert answer["p50_duration_ms"] == 350.0  # 200, 300, 400, 500


def test_no_executions_gives_zeros_and_nulls(agent: Agent) -> None:
    # given an agent without executions
    window = analytics_range(date_from=FROM, date_to=TO, interval="day")

    # when its analytics are computed
    answer = agent_analytics(agent=agent, window=window)

    # then counts are zero and rates are null
    assert answer["totals"] == {"total": 0, "succeeded": 0, "failed": 0, "running": 0}
    assert answer["success_rate"] is None
    assert answer["p50_duration_ms"] is None
    assert answer["p95_duration_ms"] is None
    assert series_of(answer) == [(at(1, 0), 0, 0, 0), (at(2, 0), 0, 0, 0)]


def test_single_execution_percentiles_are_its_duration(agent: Agent) -> None:
    # given one finished execution
    execution(agent, at(1, 8), ExecutionStatus.SUCCEEDED, 1234)

    # when analytics are computed
    answer = agent_analytics(agent=agent, window=analytics_range(date_from=FROM, date_to=TO))

    # then both percentiles are that duration
    assert answer["p50_duration_ms"] == 1234.0
    assert answer["p95_duration_ms"] == 1234.0


def test_partial_hours_at_both_ends_count_exactly(agent: Agent) -> None:
    # given executions around the edges of 09:30-13:30 (whole hours 10-13 come from the roll-up,
    # 09:30-10:00 and 13:00-13:30 from the executions)
    for started_at, status, duration in [
        (at(1, 9, 29, 59, 999999), S, 9999),  # before the range
        (at(1, 9, 30), S, 100),
        (at(1, 9, 59, 59, 999999), F, 200),
        (at(1, 10), S, 300),
        (at(1, 12, 59, 59), S, 400),
        (at(1, 13), R, None),
        (at(1, 13, 29, 59, 999999), S, 500),
        (at(1, 13, 30), S, 9999),  # the end is exclusive
    ]:
        execution(agent, started_at, status, duration)

    # when the range's analytics are computed by the hour and by the day
    hourly = agent_analytics(
        agent=agent, window=analytics_range(date_from=at(1, 9, 30), date_to=at(1, 13, 30), interval="hour")
    )
    daily = agent_analytics(agent=agent, window=analytics_range(date_from=at(1, 9, 30), date_to=at(1, 13, 30)))

    # then exactly the six executions inside count, each in its hour
    assert hourly["totals"] == {"total": 6, "succeeded": 4, "failed": 1, "running": 1}
    assert series_of(hourly) == [
        (at(1, 9), 2, 1, 1),
        (at(1, 10), 1, 1, 0),
        (at(1, 11), 0, 0, 0),
        (at(1, 12), 1, 1, 0),
        (at(1, 13), 2, 1, 0),
    ]
    assert series_of(daily) == [(at(1, 0), 6, 4, 1)]
    assert hourly["p50_duration_ms"] == daily["p50_duration_ms"] == 300.0
    assert daily["p95_duration_ms"] == 480.0


def test_a_range_inside_one_hour_counts_only_its_minutes(agent: Agent) -> None:
    # given executions at 09:05, 09:20 and 09:50
    for minute in (5, 20, 50):
        execution(agent, at(1, 9, minute), S, 100 * minute)

    # when the range is 09:10-09:50
    answer = agent_analytics(agent=agent, window=analytics_range(date_from=at(1, 9, 10), date_to=at(1, 9, 50)))

    # then only 09:20 counts
    assert answer["totals"] == {"total": 1, "succeeded": 1, "failed": 0, "running": 0}
    assert answer["p50_duration_ms"] == 2000.0


def test_executions_stored_before_the_rollup_count_after_a_rebuild(agent: Agent) -> None:
    # given executions stored without the roll-up (as before the upgrade that introduced it)
    for hour in (9, 10, 11):
        AgentExecutionFactory(agent=agent, started_at=at(1, hour), duration_ms=100 * hour, hourly=False)
    window = analytics_range(date_from=FROM, date_to=TO)
    assert agent_analytics(agent=agent, window=window)["totals"]["total"] == 0

    # when the roll-up is rebuilt as the upgrade notes say
    call_command("rebuild_execution_rollup", stdout=StringIO())

    # then they count, and the cached answer was dropped
    answer = agent_analytics(agent=agent, window=window)
    assert answer["totals"] == {"total": 3, "succeeded": 3, "failed": 0, "running": 0}
    assert answer["p50_duration_ms"] == 1000.0


@pytest.mark.parametrize(("date_from", "date_to"), [(FROM, TO), (at(1, 0, 20), at(2, 23, 40))])
def test_percentiles_from_the_histogram_are_within_five_percent(
    account: Account, agent: Agent, settings: Any, date_from: datetime, date_to: datetime
) -> None:
    # given 200 executions of two agents with spread-out durations (20 ms to about a minute), and the
    # exact computation reserved for ranges of at most 10 finished executions
    settings.AGENT_ANALYTICS_EXACT_PERCENTILES_MAX = 10
    rng = random.Random(4)
    other = AgentFactory.create(account=account, template=agent.template)
    durations: dict[int, list[int]] = {agent.pk: [], other.pk: []}
    for index in range(200):
        owner = agent if index % 3 else other
        started_at = FROM + timedelta(seconds=rng.randrange(2 * 86400))
        duration = int(rng.lognormvariate(math.log(1200), 1.2))
        execution(owner, started_at, F if index % 10 == 0 else S, duration)
        if date_from <= started_at < date_to:
            durations[owner.pk].append(duration)
    window = analytics_range(date_from=date_from, date_to=date_to)

    # when the agent's and the tenant's analytics are computed
    mine = agent_analytics(agent=agent, window=window)
    everyone = account_analytics(account=account, window=window)

    # then the counts are exact and the percentiles within 5 % of percentile_cont's
    all_durations = durations[agent.pk] + durations[other.pk]
    assert mine["totals"]["total"] == len(durations[agent.pk])
    assert everyone["totals"]["total"] == len(all_durations)
    for answer, values in ((mine, durations[agent.pk]), (everyone, all_durations)):
        for key, fraction in (("p50_duration_ms", 0.5), ("p95_duration_ms", 0.95)):
            exact = percentile_cont(values, fraction)
            assert answer[key] == pytest.approx(exact, rel=0.05), key


def test_above_the_exact_limit_percentiles_are_estimated_inside_their_bin(agent: Agent, settings: Any) -> None:
    # given 20 executions of exactly 1000 ms, above a limit of 10 for exact percentiles
    settings.AGENT_ANALYTICS_EXACT_PERCENTILES_MAX = 10
    for minute in range(20):
        execution(agent, at(1, 9, minute), S, 1000)

    # when the percentiles are computed
    answer = agent_analytics(agent=agent, window=analytics_range(date_from=FROM, date_to=TO))

    # then they are estimates placed inside the bin of 1000 ms (not 1000 itself), within 5 %
    low, high = histogram.bin_bounds(histogram.bin_of(1000))
    for key in ("p50_duration_ms", "p95_duration_ms"):
        assert low <= answer[key] <= high
        assert answer[key] != 1000.0
        assert answer[key] == pytest.approx(1000, rel=0.05)


def test_histogram_percentiles_are_exact_for_durations_below_forty_ms(agent: Agent, settings: Any) -> None:
    # given durations of 1..30 ms (below 40 ms every bin is one millisecond wide)
    settings.AGENT_ANALYTICS_EXACT_PERCENTILES_MAX = 0
    for duration in range(1, 31):
        execution(agent, at(1, 9, duration), S, duration)

    # when the percentiles come from the histogram
    answer = agent_analytics(agent=agent, window=analytics_range(date_from=FROM, date_to=TO))

    # then they are percentile_cont's exactly
    assert answer["p50_duration_ms"] == 15.5
    assert answer["p95_duration_ms"] == round(percentile_cont(list(range(1, 31)), 0.95), 1)


@pytest.mark.parametrize("exact_up_to", [10_000, 0])
def test_a_cold_answer_takes_a_bounded_number_of_queries(
    data_set: dict[str, Agent],
    account: Account,
    settings: Any,
    django_assert_max_num_queries: Any,
    exact_up_to: int,
) -> None:
    # given a range with partial hours at both ends, percentiles exact or from the histogram
    settings.AGENT_ANALYTICS_EXACT_PERCENTILES_MAX = exact_up_to
    window = analytics_range(date_from=at(1, 9, 30), date_to=at(2, 12, 30), interval="hour")

    # when the tenant's analytics are computed without a cached answer
    with django_assert_max_num_queries(aggregate_queries()):
        answer = account_analytics(account=account, window=window)

    # then the figures are there
    assert answer["totals"]["total"] == 6
    assert answer["p50_duration_ms"] is not None


def test_default_range_is_the_last_seven_days_ending_on_a_five_minute_boundary() -> None:
    # given no from/to
    now = datetime(2026, 3, 10, 12, 1, 30, tzinfo=UTC)

    # when the range is resolved
    window = analytics_range(date_from=None, date_to=None, now=now)

    # then it ends at the next 5-minute mark and starts 7 days earlier
    assert window.date_to == datetime(2026, 3, 10, 12, 5, tzinfo=UTC)
    assert window.date_from == datetime(2026, 3, 3, 12, 5, tzinfo=UTC)
    assert window.interval == "day"


@pytest.mark.parametrize(
    ("date_from", "date_to", "interval", "field"),
    [
        (TO, FROM, "day", "from"),
        (FROM, FROM, "day", "from"),
        (FROM, FROM + timedelta(days=367), "day", "to"),
        (FROM, FROM + timedelta(days=32), "hour", "interval"),
        (FROM, TO, "week", "interval"),
    ],
)
def test_range_limits(date_from: datetime, date_to: datetime, interval: str, field: str) -> None:
    # when an impossible range is asked for, then the offending parameter is named
    with pytest.raises(AnalyticsRangeError) as caught:
        analytics_range(date_from=date_from, date_to=date_to, interval=interval)
    assert list(caught.value.errors) == [field]


# -- cache ---------------------------------------------------------------------------------------


def test_second_call_is_served_from_the_cache_without_queries(
    data_set: dict[str, Agent], account: Account, django_assert_num_queries: Any
) -> None:
    # given a computed answer
    window = analytics_range(date_from=FROM, date_to=TO)
    first = account_analytics(account=account, window=window)

    # when the same analytics are asked for again
    with django_assert_num_queries(0):
        second = account_analytics(account=account, window=window)

    # then the same answer comes back
    assert second == first


def test_new_executions_show_after_invalidation_only(data_set: dict[str, Agent], account: Account) -> None:
    # given cached analytics for the tenant and for agent A
    window = analytics_range(date_from=FROM, date_to=TO)
    assert account_analytics(account=account, window=window)["totals"]["total"] == 8
    assert agent_analytics(agent=data_set["a"], window=window)["totals"]["total"] == 7

    # when a new execution is stored without invalidating, then the cached answer is still served
    execution(data_set["a"], at(2, 14), ExecutionStatus.SUCCEEDED, 600)
    assert account_analytics(account=account, window=window)["totals"]["total"] == 8

    # when the tenant's analytics are invalidated (as the execution writer does after commit)
    analytics_invalidate(account.pk)

    # then both the tenant's and the agent's answers are recomputed
    assert account_analytics(account=account, window=window)["totals"]["total"] == 9
    answer = agent_analytics(agent=data_set["a"], window=window)
    assert answer["totals"] == {"total": 8, "succeeded": 5, "failed": 2, "running": 1}


def test_invalidating_another_tenant_keeps_our_cache(
    data_set: dict[str, Agent], account: Account, other_account: Account, django_assert_num_queries: Any
) -> None:
    # given cached analytics
    window = analytics_range(date_from=FROM, date_to=TO)
    account_analytics(account=account, window=window)

    # when another tenant's analytics are invalidated
    analytics_invalidate(other_account.pk)

    # then ours are still served from the cache
    with django_assert_num_queries(0):
        account_analytics(account=account, window=window)


# -- API -----------------------------------------------------------------------------------------


def test_api_agent_analytics_for_a_viewer(
    data_set: dict[str, Agent], viewer: User, client_for: Callable[[User], APIClient]
) -> None:
    # when a viewer reads agent A's analytics
    response = client_for(viewer).get(f"/api/v1/agents/{data_set['a'].pk}/analytics", QUERY)

    # then the documented shape comes back with the exact figures
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["totals"] == {"total": 7, "succeeded": 4, "failed": 2, "running": 1}
    assert body["success_rate"] == 0.6667
    assert body["p50_duration_ms"] == 350.0
    assert body["p95_duration_ms"] == 875.0
    assert body["interval"] == "day"
    assert body["date_from"] == "2026-03-01T00:00:00Z"
    assert body["date_to"] == "2026-03-03T00:00:00Z"
    assert body["series"] == [
        {"bucket": "2026-03-01T00:00:00Z", "total": 4, "succeeded": 3, "failed": 1},
        {"bucket": "2026-03-02T00:00:00Z", "total": 3, "succeeded": 1, "failed": 1},
    ]


def test_api_account_analytics_hourly(
    data_set: dict[str, Agent], viewer: User, client_for: Callable[[User], APIClient]
) -> None:
    # when the tenant's analytics are read by the hour
    response = client_for(viewer).get("/api/v1/agents/analytics", {**QUERY, "interval": "hour"})

    # then the totals cover every agent of the tenant and the series has 48 hours
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["totals"] == {"total": 8, "succeeded": 5, "failed": 2, "running": 1}
    assert len(body["series"]) == 48
    assert body["series"][9] == {"bucket": "2026-03-01T09:00:00Z", "total": 3, "succeeded": 3, "failed": 0}


def test_api_default_range_is_seven_days(agent: Agent, viewer: User, client_for: Callable[[User], APIClient]) -> None:
    # when no range is given
    response = client_for(viewer).get(f"/api/v1/agents/{agent.pk}/analytics")

    # then the last 7 days come back, one bucket per day touched
    assert response.status_code == 200, response.content
    body = response.json()
    span = datetime.fromisoformat(body["date_to"]) - datetime.fromisoformat(body["date_from"])
    assert span == timedelta(days=7)
    assert len(body["series"]) in (7, 8)


def test_api_with_an_api_key_and_a_bounded_query_count(
    data_set: dict[str, Agent],
    account: Account,
    key_client_for: Callable[..., APIClient],
    django_assert_num_queries: Any,
) -> None:
    # given a read-only key
    client = key_client_for(account, ["read"])

    # when the analytics are read twice (without Redis each call also writes the key's use: the day's
    # upsert, and on the first call last_used_at; with Redis the use is counted there)
    first_writes, later_writes = (0, 0) if USING_REDIS else (2, 1)
    with django_assert_num_queries(1 + first_writes + aggregate_queries()):
        first = client.get(f"/api/v1/agents/{data_set['a'].pk}/analytics", QUERY)
    with django_assert_num_queries(2 + later_writes):
        second = client.get(f"/api/v1/agents/{data_set['a'].pk}/analytics", QUERY)

    # then both answer the same; the second skipped the aggregate queries
    assert first.status_code == 200
    assert second.json() == first.json()


def test_api_other_tenants_agent_is_404(
    data_set: dict[str, Agent], viewer: User, client_for: Callable[[User], APIClient]
) -> None:
    # when a viewer asks for another tenant's agent (or a deleted or missing one)
    client = client_for(viewer)
    other = client.get(f"/api/v1/agents/{data_set['stranger'].pk}/analytics", QUERY)
    missing = client.get("/api/v1/agents/999999/analytics", QUERY)
    data_set["b"].status = AgentStatus.DELETED
    data_set["b"].save(update_fields=["status"])
    deleted = client.get(f"/api/v1/agents/{data_set['b'].pk}/analytics", QUERY)

    # then all answer the same 404
    assert other.status_code == 404
    assert other.json() == missing.json() == deleted.json()
    assert other.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-13-01"}, "to"),
        ({"interval": "week"}, "interval"),
        ({"from": "2026-03-03T00:00:00Z", "to": "2026-03-01T00:00:00Z"}, "from"),
        ({"from": "2025-01-01T00:00:00Z", "to": "2026-03-01T00:00:00Z"}, "to"),
        ({"from": "2026-01-01T00:00:00Z", "to": "2026-03-01T00:00:00Z", "interval": "hour"}, "interval"),
        # at the edge of the calendar, where stepping to the next bucket or back 7 days leaves it
        ({"from": "9999-12-30T00:00:00Z", "to": "9999-12-31T23:59:59Z", "interval": "hour"}, "to"),
        ({"from": "9999-12-01T00:00:00Z", "to": "9999-12-31T12:00:00Z"}, "to"),
        ({"to": "0001-01-02T00:00:00Z"}, "to"),
    ],
)
def test_api_bad_parameters_are_400_with_details(
    agent: Agent, viewer: User, client_for: Callable[[User], APIClient], query: dict[str, str], field: str
) -> None:
    # when the range or interval is invalid
    response = client_for(viewer).get(f"/api/v1/agents/{agent.pk}/analytics", query)

    # then a 400 names the parameter
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert field in body["details"]


def test_api_platform_staff_name_the_tenant(
    data_set: dict[str, Agent],
    account: Account,
    viewer: User,
    super_admin: User,
    client_for: Callable[[User], APIClient],
) -> None:
    # when staff read a tenant's analytics, without and with `account`
    staff = client_for(super_admin)
    without = staff.get("/api/v1/agents/analytics", QUERY)
    named = staff.get("/api/v1/agents/analytics", {**QUERY, "account": account.pk})
    # and a tenant person tries to name a tenant
    refused = client_for(viewer).get("/api/v1/agents/analytics", {**QUERY, "account": account.pk})

    # then staff must name it, and only staff may
    assert without.status_code == 400
    assert named.status_code == 200
    assert named.json()["totals"]["total"] == 8
    assert refused.status_code == 400
    assert "account" in refused.json()["details"]


@pytest.mark.parametrize("value", ["\u00b2", "99999999999999999999", "-1"])
def test_api_account_that_is_no_id_is_400(
    super_admin: User, client_for: Callable[[User], APIClient], value: str
) -> None:
    # when staff name the tenant with a non-ASCII digit such as "²", a number beyond any id, or a negative one
    response = client_for(super_admin).get("/api/v1/agents/analytics", {**QUERY, "account": value})

    # then it is a 400 about the account
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert "account" in response.json()["details"]


def test_api_needs_credentials(agent: Agent, api_client: APIClient) -> None:
    # when nobody signs in, then 401
    assert api_client.get("/api/v1/agents/analytics").status_code == 401
    assert api_client.get(f"/api/v1/agents/{agent.pk}/analytics").status_code == 401
