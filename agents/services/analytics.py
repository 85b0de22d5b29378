"""Execution analytics of one agent or a whole tenant, computed in the database and cached.

Every figure comes from aggregate queries over the covering indexes of `AgentExecution`
((agent, started_at) and (account, started_at), both carrying status and duration_ms), never from a
Python loop over executions:

- counts by status per bucket: one `GROUP BY date_trunc(...)` query; the totals are the sums of
  its buckets, and empty buckets are filled in afterwards (one entry per day or hour of the range);
- the p50/p95 durations: one `percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY duration_ms)`
  query on PostgreSQL (one sort for both). SQLite has no ordered-set aggregates: each percentile is
  read with an `ORDER BY duration_ms LIMIT 2 OFFSET k` query and interpolated exactly like
  `percentile_cont` (two queries, each a sort of the range's durations: same figures, slower, fine
  for the embedded mode's volumes).

Answers are cached for `AGENT_ANALYTICS_CACHE_SECONDS` under a key holding the tenant's analytics
version (`agents.cache`), which new executions bump: a stale answer is never read again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Aggregate, Count, FloatField, Q, QuerySet
from django.db.models.functions import Trunc
from django.utils import timezone

from accounts.models import Account
from agents.cache import analytics_version
from agents.models import Agent, AgentExecution, ExecutionStatus

Interval = Literal["day", "hour"]

DEFAULT_RANGE = timedelta(days=7)
MAX_RANGE = timedelta(days=366)
# An hourly series over a year would be 8,784 points; past a month, ask for days.
MAX_HOURLY_RANGE = timedelta(days=31)
# The default range ends at the next multiple of this, so repeated dashboard loads share one
# cached answer instead of each asking for a range ending at its own microsecond.
DEFAULT_END_ALIGNMENT = timedelta(minutes=5)
STEPS: dict[str, timedelta] = {"day": timedelta(days=1), "hour": timedelta(hours=1)}
# datetime's own limits, less room for the default start before `to` and for the series to step
# past its last bucket; beyond them the arithmetic raises OverflowError.
EARLIEST_START = datetime.min.replace(tzinfo=UTC)
LATEST_END = datetime.max.replace(tzinfo=UTC) - STEPS["day"]


class PercentilesCont(Aggregate):
    """PostgreSQL's `percentile_cont(ARRAY[f1, f2, ...]) WITHIN GROUP (ORDER BY expression)`: several
    interpolated percentiles from one sort."""

    function = "percentile_cont"
    name = "PercentilesCont"
    template = "%(function)s(ARRAY[%(fractions)s]::float8[]) WITHIN GROUP (ORDER BY %(expressions)s)"
    allow_distinct = False

    def __init__(self, expression: Any, *, fractions: tuple[float, ...], **extra: Any) -> None:
        from django.contrib.postgres.fields import ArrayField

        if not fractions or not all(0.0 <= f <= 1.0 for f in fractions):
            raise ValueError("fractions must be between 0 and 1")
        # Floats we checked are safe to inline; the template needs them outside the ORDER BY.
        super().__init__(
            expression,
            fractions=", ".join(repr(float(f)) for f in fractions),
            output_field=ArrayField(FloatField()),
            **extra,
        )


@dataclass(frozen=True)
class AnalyticsRange:
    """A half-open time range [date_from, date_to) and the series' bucket size."""

    date_from: datetime
    date_to: datetime
    interval: Interval = "day"


class AnalyticsRangeError(ValueError):
    """The requested range is not allowed; `errors` maps each parameter to its messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))


def analytics_range(
    *, date_from: datetime | None, date_to: datetime | None, interval: str = "day", now: datetime | None = None
) -> AnalyticsRange:
    """Fill in defaults (the last 7 days) and check the limits; raises `AnalyticsRangeError`."""
    if interval not in STEPS:
        raise AnalyticsRangeError({"interval": ["Must be `day` or `hour`."]})
    if date_to is None:
        now = now or timezone.now()
        step = DEFAULT_END_ALIGNMENT.total_seconds()
        date_to = datetime.fromtimestamp(math.ceil(now.timestamp() / step) * step, tz=UTC)
    if not EARLIEST_START + DEFAULT_RANGE <= date_to <= LATEST_END:
        raise AnalyticsRangeError({"to": ["Outside the supported dates."]})
    if date_from is None:
        date_from = date_to - DEFAULT_RANGE
    if date_from < EARLIEST_START:
        raise AnalyticsRangeError({"from": ["Outside the supported dates."]})
    date_from, date_to = date_from.astimezone(UTC), date_to.astimezone(UTC)
    if date_from >= date_to:
        raise AnalyticsRangeError({"from": ["Must be before `to`."]})
    if date_to - date_from > MAX_RANGE:
        raise AnalyticsRangeError({"to": ["The range may cover at most 366 days."]})
    if interval == "hour" and date_to - date_from > MAX_HOURLY_RANGE:
        raise AnalyticsRangeError({"interval": ["Hourly series cover at most 31 days; use `day`."]})
    return AnalyticsRange(date_from=date_from, date_to=date_to, interval=interval)  # type: ignore[arg-type]


def agent_analytics(*, agent: Agent, window: AnalyticsRange) -> dict[str, Any]:
    """Analytics of one agent's executions started in the range."""
    key = _cache_key(account_id=agent.account_id, scope=f"agent:{agent.pk}", window=window)
    return _cached(key, lambda: _compute(AgentExecution.objects.filter(agent_id=agent.pk), window))


def account_analytics(*, account: Account, window: AnalyticsRange) -> dict[str, Any]:
    """Analytics of all of a tenant's executions started in the range."""
    key = _cache_key(account_id=account.pk, scope="account", window=window)
    return _cached(key, lambda: _compute(AgentExecution.objects.filter(account_id=account.pk), window))


def _cache_key(*, account_id: int, scope: str, window: AnalyticsRange) -> str:
    version = analytics_version(account_id)
    return (
        f"agents:analytics:{account_id}:v{version}:{scope}:"
        f"{window.date_from.isoformat()}:{window.date_to.isoformat()}:{window.interval}"
    )


def _cached(key: str, compute: Any) -> dict[str, Any]:
    answer = cache.get(key)
    if answer is None:
        answer = compute()
        cache.set(key, answer, timeout=settings.AGENT_ANALYTICS_CACHE_SECONDS)
    return dict(answer)


# Grouping a week of a busy tenant's executions sorts about 200,000 rows: with PostgreSQL's
# default 4 MB the sort spills to disk. The analytics queries get more, for their transaction only.
ANALYTICS_WORK_MEM = "64MB"


def _compute(executions: QuerySet[AgentExecution], window: AnalyticsRange) -> dict[str, Any]:
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL work_mem = %s", [ANALYTICS_WORK_MEM])
        return _aggregate(executions, window)


def _aggregate(executions: QuerySet[AgentExecution], window: AnalyticsRange) -> dict[str, Any]:
    in_range = executions.filter(started_at__gte=window.date_from, started_at__lt=window.date_to).order_by()
    # One scan groups by bucket; the totals are the sums of the (at most 744) buckets. Counting
    # `status` and `duration_ms` rather than `id` keeps the scan index-only: the covering indexes
    # carry those two columns, not the primary key.
    rows = (
        in_range.annotate(bucket=Trunc("started_at", window.interval, tzinfo=UTC))
        .values("bucket")
        .annotate(
            total=Count("status"),
            succeeded=Count("status", filter=Q(status=ExecutionStatus.SUCCEEDED)),
            failed=Count("status", filter=Q(status=ExecutionStatus.FAILED)),
            running=Count("status", filter=Q(status=ExecutionStatus.RUNNING)),
            timed=Count("duration_ms"),
        )
        .order_by("bucket")
    )
    by_bucket = {row["bucket"]: row for row in rows}
    totals = {
        name: sum(row[name] for row in by_bucket.values())
        for name in ("total", "succeeded", "failed", "running", "timed")
    }
    p50: float | None = None
    p95: float | None = None
    if totals["timed"] and connection.vendor == "postgresql":
        p50, p95 = in_range.aggregate(p=PercentilesCont("duration_ms", fractions=(0.5, 0.95)))["p"]
    elif totals["timed"]:
        p50 = _percentile_by_offset(in_range, 0.5, count=totals["timed"])
        p95 = _percentile_by_offset(in_range, 0.95, count=totals["timed"])
    finished = totals["succeeded"] + totals["failed"]
    return {
        "date_from": window.date_from,
        "date_to": window.date_to,
        "interval": window.interval,
        "totals": {name: totals[name] for name in ("total", "succeeded", "failed", "running")},
        "success_rate": round(totals["succeeded"] / finished, 4) if finished else None,
        "p50_duration_ms": _ms(p50),
        "p95_duration_ms": _ms(p95),
        "series": [
            {
                "bucket": bucket,
                "total": by_bucket.get(bucket, {}).get("total", 0),
                "succeeded": by_bucket.get(bucket, {}).get("succeeded", 0),
                "failed": by_bucket.get(bucket, {}).get("failed", 0),
            }
            for bucket in _buckets(window)
        ],
    }


def _percentile_by_offset(in_range: QuerySet[AgentExecution], fraction: float, *, count: int) -> float | None:
    """`percentile_cont` without ordered-set aggregates: read the one or two neighbouring values."""
    if not count:
        return None
    position = fraction * (count - 1)
    lower = math.floor(position)
    values = [
        float(value)
        for value in in_range.filter(duration_ms__isnull=False)
        .order_by("duration_ms")
        .values_list("duration_ms", flat=True)[lower : lower + 2]
        if value is not None
    ]
    if len(values) == 1 or position == lower:
        return values[0]
    return values[0] + (values[1] - values[0]) * (position - lower)


def _ms(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


def _buckets(window: AnalyticsRange) -> list[datetime]:
    """Every bucket start of the range: the first one is the truncated start of the range."""
    start = window.date_from
    if window.interval == "day":
        start = start.replace(hour=0, minute=0, second=0, microsecond=0)
    else:
        start = start.replace(minute=0, second=0, microsecond=0)
    step = STEPS[window.interval]
    buckets = []
    while start < window.date_to:
        buckets.append(start)
        start += step
    return buckets
