"""Stacked bar charts laid out on the server and drawn as inline SVG by `partials/bar_chart.html`.

A page describes its chart as data (the series, and one `Column` per bucket with a count per
series); `bar_chart` turns that into geometry (bars, round y ticks, x labels) so the template only
draws. Colours come from the series' CSS classes, so pages need no script and no inline style
(strict CSP). `sparkline` is the same bars, small and without axes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

Y_TICKS = 4
MAX_X_LABELS = 8


@dataclass(frozen=True)
class Series:
    kind: str  # the CSS class of its bars and of its key in the legend
    label: str  # its name in the legend


@dataclass(frozen=True)
class Column:
    """One bucket: a count per series (stacked bottom up in the series' order)."""

    counts: Sequence[int]
    title: str  # what its bar says when pointed at
    label: str = ""  # its x axis label; empty for none


@dataclass(frozen=True)
class Segment:
    kind: str
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
    top: int
    bottom: int
    bars: list[Bar]
    y_ticks: list[Tick]
    x_labels: list[Tick]
    label_y: int
    peak: int
    legend: Sequence[Series]


def nice_ceiling(value: int, *, steps: int = Y_TICKS) -> int:
    """The smallest `steps` times (1, 2 or 5 times a power of ten) that reaches `value` (at least `steps`)."""
    if value <= steps:
        return steps
    raw = value / steps
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(factor * magnitude for factor in (1, 2, 5, 10) if factor * magnitude >= raw)
    return int(step * steps)


def label_every(count: int) -> int:
    """Label one column in this many so that at most `MAX_X_LABELS` labels fit under `count` columns."""
    return max(1, math.ceil(count / MAX_X_LABELS))


def _bars(
    series: Sequence[Series],
    columns: Sequence[Column],
    *,
    left: float,
    plot_width: float,
    bottom: float,
    scale: float,
    gap: float,
) -> list[Bar]:
    slot = plot_width / len(columns)
    width = max(slot * (1 - gap), 0.6)
    bars = []
    for index, column in enumerate(columns):
        base = bottom
        segments = []
        for kind, count in zip((one.kind for one in series), column.counts, strict=True):
            if count:
                height = count * scale
                base -= height
                segments.append(Segment(kind=kind, y=round(base, 2), height=round(height, 2)))
        x = left + index * slot + (slot - width) / 2
        bars.append(Bar(x=round(x, 2), width=round(width, 2), segments=segments, title=column.title))
    return bars


def _peak(columns: Sequence[Column]) -> int:
    return max((sum(column.counts) for column in columns), default=0)


def bar_chart(
    series: Sequence[Series],
    columns: Sequence[Column],
    *,
    width: int = 720,
    height: int = 240,
    margin_right: int = 8,
    gap: float = 0.28,
) -> Chart:
    """A chart with a y axis of round ticks and the columns' labels under their bars; `columns` is not empty."""
    left, right, top, bottom = 44, width - margin_right, 12, height - 28
    peak = _peak(columns)
    top_value = nice_ceiling(peak)
    plot_height = bottom - top
    bars = _bars(
        series, columns, left=left, plot_width=right - left, bottom=bottom, scale=plot_height / top_value, gap=gap
    )
    y_ticks = [
        Tick(position=round(bottom - step * plot_height / Y_TICKS, 2), label=f"{top_value * step // Y_TICKS:,}")
        for step in range(Y_TICKS + 1)
    ]
    slot = (right - left) / len(columns)
    x_labels = [
        Tick(position=round(left + (index + 0.5) * slot, 2), label=column.label)
        for index, column in enumerate(columns)
        if column.label
    ]
    return Chart(
        width=width,
        height=height,
        left=left,
        right=right,
        top=top,
        bottom=bottom,
        bars=bars,
        y_ticks=y_ticks,
        x_labels=x_labels,
        label_y=height - 8,
        peak=peak,
        legend=series,
    )


def sparkline(series: Sequence[Series], columns: Sequence[Column], *, bar_width: int = 6, height: int = 28) -> Chart:
    """The same bars, small and without axes, scaled to the busiest column."""
    width = bar_width * len(columns)
    peak = _peak(columns)
    scale = (height - 2) / peak if peak else 0.0
    bars = _bars(series, columns, left=0, plot_width=width, bottom=height, scale=scale, gap=0.2)
    return Chart(
        width=width,
        height=height,
        left=0,
        right=width,
        top=0,
        bottom=height,
        bars=bars,
        y_ticks=[],
        x_labels=[],
        label_y=height,
        peak=peak,
        legend=series,
    )
