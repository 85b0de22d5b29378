"""The executions chart of an agent's analytics: one stacked bar per bucket (succeeded, failed,
still running) under a y axis of round ticks, with a few time labels (`core.charts` lays it out)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.charts import Chart, Column, Series, bar_chart, label_every

SERIES = (Series("ok", "Succeeded"), Series("bad", "Failed"), Series("running", "Running"))
HOUR_STEPS = (2, 3, 4, 6, 12, 24, 48, 72, 96, 120, 168)  # label steps that land on round hours


def _bucket_label(bucket: datetime, interval: str, *, long: bool) -> str:
    # Day before month, as every date on the pages (core.templatetags.dates); buckets are UTC.
    if interval == "day":
        return f"{bucket.day} {bucket:%b}"
    if long or (bucket.hour == 0):
        return f"{bucket.day} {bucket:%b}, {bucket:%H:%M}" if long else f"{bucket.day} {bucket:%b}"
    return f"{bucket:%H:%M}"


def _column(point: dict[str, Any], interval: str, *, labelled: bool) -> Column:
    succeeded, failed = int(point["succeeded"]), int(point["failed"])
    running = max(int(point["total"]) - succeeded - failed, 0)
    when = _bucket_label(point["bucket"], interval, long=True)
    title = f"{when}: {point['total']} executions, {succeeded} succeeded, {failed} failed"
    if running:
        title += f", {running} running"
    label = _bucket_label(point["bucket"], interval, long=False) if labelled else ""
    return Column(counts=(succeeded, failed, running), title=title, label=label)


def execution_chart(series: list[dict[str, Any]], interval: str) -> Chart | None:
    """The stacked bars of an analytics `series`; None when it is empty."""
    if not series:
        return None
    every = label_every(len(series))
    if interval == "hour" and every > 1:
        every = next(step for step in HOUR_STEPS if step >= every)
    columns = [_column(point, interval, labelled=index % every == 0) for index, point in enumerate(series)]
    return bar_chart(SERIES, columns)
