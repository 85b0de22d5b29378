"""Execution analytics of one agent or a whole tenant, read from the hourly roll-up and cached.

The figures come from the hourly roll-up (`AgentExecutionHourly`, one row per agent and UTC hour, and
`AccountExecutionHourly`, one per tenant and hour: counts by status and a duration histogram, kept in
step by the execution writer), never from a Python loop over executions:

- whole hours of the range: one query over the roll-up rows (the agent's, or the tenant's, however
  many agents it has) groups their counts and histogram group sums by day or hour (at most 744
  buckets; a month is 720 rows);
- the partial hours at either end (the default range ends on a 5-minute mark): one query over the
  executions themselves, through the covering index on (scope, started_at), so the counts are exact
  for any range;
- p50/p95: exactly `percentile_cont` over the durations when the range holds at most
  `AGENT_ANALYTICS_EXACT_PERCENTILES_MAX` finished executions (one query on PostgreSQL; SQLite has no
  ordered-set aggregates and reads each percentile with `ORDER BY duration_ms LIMIT 2 OFFSET k`);
  above, estimated from the histogram with one more query (`agents.histogram`: less than 5 % off).

Answers are cached for `AGENT_ANALYTICS_CACHE_SECONDS` under a key holding the tenant's analytics
version (`agents.cache`), which new executions bump: a stale answer is never read again.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Aggregate, Count, F, FloatField, Q, QuerySet, Sum
from django.db.models.functions import Trunc
from django.utils import timezone

from accounts.models import Account
from agents import histogram
from agents.cache import analytics_version
from agents.models import AccountExecutionHourly, Agent, AgentExecution, AgentExecutionHourly
from agents.services.rollup import (
    STATUS_COLUMNS,
    DurationBin,
    ElementSums,
    bin_from_db,
    hour_of,
    next_hour_boundary,
)

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
    return _cached(
        key, lambda: _compute(Q(agent_id=agent.pk), AgentExecutionHourly.objects.filter(agent_id=agent.pk), window)
    )


def account_analytics(*, account: Account, window: AnalyticsRange) -> dict[str, Any]:
    """Analytics of all of a tenant's executions started in the range."""
    key = _cache_key(account_id=account.pk, scope="account", window=window)
    return _cached(
        key,
        lambda: _compute(
            Q(account_id=account.pk), AccountExecutionHourly.objects.filter(account_id=account.pk), window
        ),
    )


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


FRACTIONS = (0.5, 0.95)
COUNTS = ("succeeded", "failed", "running")


Rollup = QuerySet[AgentExecutionHourly] | QuerySet[AccountExecutionHourly]


def _compute(scope: Q, rollup: Rollup, window: AnalyticsRange) -> dict[str, Any]:
    """The answer for the executions matching `scope` (an agent or a tenant), whose roll-up rows are
    `rollup`, in the range."""
    full_from = next_hour_boundary(window.date_from)
    full_to = hour_of(window.date_to)
    if full_from < full_to:
        edges = [(window.date_from, full_from), (full_to, window.date_to)]
    else:
        full_from = full_to = window.date_from  # no whole hour inside: all from the executions
        edges = [(window.date_from, window.date_to)]
    edges = [(start, end) for start, end in edges if start < end]
    hourly = rollup.filter(hour__gte=full_from, hour__lt=full_to).order_by()

    series: dict[datetime, Counter[str]] = {}
    groups = histogram.empty_groups()
    if full_from < full_to:
        _add_hourly_counts(series, groups, hourly, window.interval)
    edge_bins: Counter[int] = Counter()
    if edges:
        _add_edge_counts(series, groups, edge_bins, scope, edges, window.interval)

    totals = {name: sum(bucket[name] for bucket in series.values()) for name in COUNTS}
    totals["total"] = sum(totals.values())
    timed = sum(groups)
    p50: float | None = None
    p95: float | None = None
    if 0 < timed <= settings.AGENT_ANALYTICS_EXACT_PERCENTILES_MAX:
        p50, p95 = _exact_percentiles(scope, window, timed=timed)
    elif timed > 0:
        p50, p95 = _histogram_percentiles(hourly if full_from < full_to else None, groups, edge_bins)
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
                "total": sum(counts[name] for name in COUNTS),
                "succeeded": counts["succeeded"],
                "failed": counts["failed"],
            }
            for bucket in _buckets(window)
            for counts in [series.get(bucket, Counter())]
        ],
    }


def _add_hourly_counts(
    series: dict[datetime, Counter[str]],
    groups: list[int],
    hourly: Rollup,
    interval: Interval,
) -> None:
    """The whole hours, from the roll-up: counts and histogram group sums per bucket, one query."""
    bucket = F("hour") if interval == "hour" else Trunc("hour", interval, tzinfo=UTC)
    rows = (
        hourly.annotate(bucket=bucket)
        .values("bucket")
        .annotate(
            **{name: Sum(name) for name in COUNTS},
            groups=ElementSums("duration_groups", range(histogram.GROUPS)),
        )
        .order_by()
    )
    for row in rows:
        counts = series.setdefault(row["bucket"], Counter())
        for name in COUNTS:
            counts[name] += row[name] or 0
        for group, count in enumerate(row["groups"]):
            groups[group] += count


def _add_edge_counts(
    series: dict[datetime, Counter[str]],
    groups: list[int],
    bins: Counter[int],
    scope: Q,
    edges: list[tuple[datetime, datetime]],
    interval: Interval,
) -> None:
    """The partial hours at the ends of the range, from the executions themselves (the covering
    index on the scope and `started_at`): counts per hour and status, and durations per bin."""
    within = Q()
    for start, end in edges:
        within |= Q(started_at__gte=start, started_at__lt=end)
    rows = (
        AgentExecution.objects.filter(scope, within)
        .annotate(hour=Trunc("started_at", "hour", tzinfo=UTC), bin=DurationBin("duration_ms"))
        .values("hour", "status", "bin")
        .annotate(n=Count("status"))
        .order_by()
    )
    for row in rows:
        start = row["hour"] if interval == "hour" else row["hour"].replace(hour=0)
        series.setdefault(start, Counter())[STATUS_COLUMNS[row["status"]]] += row["n"]
        bin_index = bin_from_db(row["bin"])
        if bin_index is not None:
            bins[bin_index] += row["n"]
            groups[histogram.group_of(bin_index)] += row["n"]


def _exact_percentiles(scope: Q, window: AnalyticsRange, *, timed: int) -> tuple[float | None, float | None]:
    """`percentile_cont` over the durations themselves: one sort on PostgreSQL, two elsewhere."""
    in_range = AgentExecution.objects.filter(
        scope, started_at__gte=window.date_from, started_at__lt=window.date_to
    ).order_by()
    if connection.vendor == "postgresql":
        p50, p95 = in_range.aggregate(p=PercentilesCont("duration_ms", fractions=FRACTIONS))["p"] or (None, None)
        return p50, p95
    return (
        _percentile_by_offset(in_range, FRACTIONS[0], count=timed),
        _percentile_by_offset(in_range, FRACTIONS[1], count=timed),
    )


def _histogram_percentiles(hourly: Rollup | None, groups: list[int], edge_bins: Counter[int]) -> tuple[float, float]:
    """Estimated from the histogram: the bins of the groups holding the wanted ranks, one query."""
    needed = [b for group in histogram.groups_needed(FRACTIONS, groups=groups) for b in histogram.bins_of_group(group)]
    bins: Counter[int] = Counter({b: edge_bins[b] for b in needed if edge_bins[b]})
    if hourly is not None:
        sums = hourly.aggregate(bins=ElementSums("duration_bins", needed))["bins"]
        for b, count in zip(needed, sums or [0] * len(needed), strict=True):
            bins[b] += count
    p50, p95 = histogram.percentiles(FRACTIONS, groups=groups, bins=bins)
    return p50, p95


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
    if not values:  # the roll-up and the executions disagree: rebuild the roll-up
        return None
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
