"""API usage drawn as inline SVG bars, laid out here so the template only draws.

One stacked bar per day: requests answered fine, with a 4xx, with a 5xx. Colours come from CSS
classes (`ok`, `client`, `server`), so the page needs no script and no inline style (strict CSP).
`usage_chart` is the full chart with axes; `usage_sparkline` the small one of a table row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from accounts.selectors import Usage, UsageDay

Y_TICKS = 4
MAX_X_LABELS = 8


@dataclass(frozen=True)
class Segment:
    kind: str  # ok | client | server: the CSS class
    y: float
    height: float


@dataclass(frozen=True)
class Bar:
    x: float
    width: float
    segments: list[Segment]
    title: str


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    right: int
    bottom: int
    bars: list[Bar]
    y_ticks: list[Tick]
    x_labels: list[Tick]
    label_y: int
    peak: int


def nice_ceiling(value: int, *, steps: int = Y_TICKS) -> int:
    """The smallest `steps` times (1, 2 or 5 times a power of ten) that reaches `value` (at least `steps`)."""
    if value <= steps:
        return steps
    raw = value / steps
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(factor * magnitude for factor in (1, 2, 5, 10) if factor * magnitude >= raw)
    return int(step * steps)


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


def _bars(usage: Usage, *, left: float, plot_width: float, bottom: float, scale: float, gap: float) -> list[Bar]:
    slot = plot_width / len(usage.days)
    width = max(slot * (1 - gap), 0.6)
    bars = []
    for index, point in enumerate(usage.days):
        base = bottom
        segments = []
        for kind, count in (("ok", point.succeeded), ("client", point.client_errors), ("server", point.server_errors)):
            if count:
                height = count * scale
                base -= height
                segments.append(Segment(kind=kind, y=round(base, 2), height=round(height, 2)))
        x = left + index * slot + (slot - width) / 2
        bars.append(Bar(x=round(x, 2), width=round(width, 2), segments=segments, title=day_title(point)))
    return bars


def usage_chart(usage: Usage, *, width: int = 720, height: int = 220) -> Chart:
    """Requests per day with a y axis of round ticks and a few day labels."""
    left, right, top, bottom = 44, width - 24, 12, height - 28
    peak = max((point.requests for point in usage.days), default=0)
    top_value = nice_ceiling(peak)
    plot_height = bottom - top
    bars = _bars(usage, left=left, plot_width=right - left, bottom=bottom, scale=plot_height / top_value, gap=0.3)
    y_ticks = [
        Tick(position=round(bottom - step * plot_height / Y_TICKS, 2), label=f"{top_value * step // Y_TICKS:,}")
        for step in range(Y_TICKS + 1)
    ]
    slot = (right - left) / len(usage.days)
    every = max(1, math.ceil(len(usage.days) / MAX_X_LABELS))
    last = len(usage.days) - 1
    # Label the newest day (today) and every `every`-th day counting back from it.
    x_labels = [
        Tick(position=round(left + (index + 0.5) * slot, 2), label=f"{point.day:%b} {point.day.day}")
        for index, point in enumerate(usage.days)
        if (last - index) % every == 0
    ]
    return Chart(
        width=width,
        height=height,
        left=left,
        right=right,
        bottom=bottom,
        bars=bars,
        y_ticks=y_ticks,
        x_labels=x_labels,
        label_y=height - 8,
        peak=peak,
    )


def usage_sparkline(usage: Usage, *, bar_width: int = 6, height: int = 28) -> Chart:
    """The same bars, small and without axes, scaled to the window's busiest day."""
    width = bar_width * len(usage.days)
    peak = max((point.requests for point in usage.days), default=0)
    scale = (height - 2) / peak if peak else 0.0
    bars = _bars(usage, left=0, plot_width=width, bottom=height, scale=scale, gap=0.2)
    return Chart(
        width=width,
        height=height,
        left=0,
        right=width,
        bottom=height,
        bars=bars,
        y_ticks=[],
        x_labels=[],
        label_y=height,
        peak=peak,
    )
