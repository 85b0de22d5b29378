"""The executions chart of an agent's analytics, laid out on the server and drawn as inline SVG.

The template draws what `execution_chart` computes: one stacked bar per bucket (succeeded, failed,
still running), a y axis with round ticks and a few x labels. Colours come from CSS classes, so the
page needs no script and no inline style (strict CSP).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

WIDTH = 720
HEIGHT = 240
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 12, 28
MAX_X_LABELS = 8
Y_TICKS = 4


@dataclass(frozen=True)
class Segment:
    kind: str  # ok | bad | running: the CSS class
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
    right: float
    top: int
    bottom: float
    bars: list[Bar]
    y_ticks: list[Tick]
    x_labels: list[Tick]
    peak: int
    label_y: float


def nice_ceiling(value: int, *, steps: int = Y_TICKS) -> int:
    """The smallest `steps` times (1, 2 or 5 times a power of ten) that reaches `value` (at least `steps`)."""
    if value <= steps:
        return steps
    raw = value / steps
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        step = factor * magnitude
        if step >= raw:
            return int(step * steps)
    return int(10 * magnitude * steps)  # pragma: no cover - the loop always returns


def _bucket_label(bucket: datetime, interval: str, *, long: bool) -> str:
    if interval == "day":
        return f"{bucket:%b} {bucket.day}"
    if long or (bucket.hour == 0):
        return f"{bucket:%b} {bucket.day}, {bucket:%H:%M}" if long else f"{bucket:%b} {bucket.day}"
    return f"{bucket:%H:%M}"


def execution_chart(series: list[dict[str, Any]], interval: str) -> Chart | None:
    """Geometry of the stacked bars for an analytics `series`; None when it is empty."""
    if not series:
        return None
    plot_width = WIDTH - LEFT - RIGHT
    plot_bottom = HEIGHT - BOTTOM
    plot_height = plot_bottom - TOP
    peak = max(int(point["total"]) for point in series)
    top_value = nice_ceiling(peak)
    slot = plot_width / len(series)
    bar_width = max(slot * 0.72, 0.6)
    scale = plot_height / top_value

    bars = []
    for index, point in enumerate(series):
        succeeded, failed = int(point["succeeded"]), int(point["failed"])
        running = max(int(point["total"]) - succeeded - failed, 0)
        x = LEFT + index * slot + (slot - bar_width) / 2
        segments = []
        base = float(plot_bottom)
        for kind, count in (("ok", succeeded), ("bad", failed), ("running", running)):
            if count:
                height = count * scale
                base -= height
                segments.append(Segment(kind=kind, y=round(base, 2), height=round(height, 2)))
        when = _bucket_label(point["bucket"], interval, long=True)
        title = f"{when}: {point['total']} executions, {succeeded} succeeded, {failed} failed"
        if running:
            title += f", {running} running"
        bars.append(Bar(x=round(x, 2), width=round(bar_width, 2), segments=segments, title=title))

    y_ticks = [
        Tick(position=round(plot_bottom - step * plot_height / Y_TICKS, 2), label=f"{top_value * step // Y_TICKS:,}")
        for step in range(Y_TICKS + 1)
    ]
    every = max(1, math.ceil(len(series) / MAX_X_LABELS))
    if interval == "hour" and every > 1:
        every = next(n for n in (2, 3, 4, 6, 12, 24, 48, 72, 96, 120, 168) if n >= every)
    x_labels = [
        Tick(position=round(LEFT + (index + 0.5) * slot, 2), label=_bucket_label(point["bucket"], interval, long=False))
        for index, point in enumerate(series)
        if index % every == 0
    ]
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        right=WIDTH - RIGHT,
        top=TOP,
        bottom=plot_bottom,
        bars=bars,
        y_ticks=y_ticks,
        x_labels=x_labels,
        peak=peak,
        label_y=HEIGHT - 8,
    )
