"""API usage per day as stacked bars: requests answered fine, with a 4xx, with a 5xx (`core.charts`
lays them out). `usage_chart` is the full chart with axes; `usage_sparkline` the small one of a
table row."""

from __future__ import annotations

from accounts.selectors import Usage, UsageDay
from core.charts import Chart, Column, Series, bar_chart, label_every, sparkline

SERIES = (
    Series("ok", "Answered (2xx, 3xx)"),
    Series("client", "Client error (4xx)"),
    Series("server", "Server error (5xx)"),
)


def day_title(point: UsageDay) -> str:
    """What a bar says when pointed at: the day and its counts."""
    parts = [f"{point.day:%a} {point.day.day} {point.day:%b}: {point.requests:,} request{_s(point.requests)}"]
    if point.client_errors:
        parts.append(f"{point.client_errors:,} client error{_s(point.client_errors)} (4xx)")
    if point.server_errors:
        parts.append(f"{point.server_errors:,} server error{_s(point.server_errors)} (5xx)")
    return ", ".join(parts)


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def _columns(usage: Usage, *, labelled: bool) -> list[Column]:
    every = label_every(len(usage.days))
    last = len(usage.days) - 1
    return [
        Column(
            counts=(point.succeeded, point.client_errors, point.server_errors),
            title=day_title(point),
            # The newest day (today) and every `every`-th day counting back from it.
            label=f"{point.day.day} {point.day:%b}" if labelled and (last - index) % every == 0 else "",
        )
        for index, point in enumerate(usage.days)
    ]


def usage_chart(usage: Usage) -> Chart:
    """Requests per day with a y axis of round ticks and a few day labels."""
    return bar_chart(SERIES, _columns(usage, labelled=True), height=220, margin_right=24, gap=0.3)


def usage_sparkline(usage: Usage) -> Chart:
    """The same bars, small and without axes, scaled to the window's busiest day."""
    return sparkline(SERIES, _columns(usage, labelled=False))
