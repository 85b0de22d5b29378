"""The one way pages write a date: `{{ value|datetime }}` → "3 Dec 2026, 14:05", `{{ value|day }}` →
"3 Dec 2026", `{{ value|datetime:"seconds" }}` → "3 Dec 2026, 14:05:09".

Always in the current time zone, which `accounts.web.pages.page` sets to the viewer's, so every page
shows one format in one zone. Loaded in every template (a template builtin). The relative forms
(`when`, `moment` in the inbox, `ago`, `due`) use the same day-month order.
"""

from __future__ import annotations

from datetime import date, datetime

from django import template
from django.utils import timezone

register = template.Library()


def _local(value: datetime) -> datetime:
    # `{{ value|utc|datetime }}` keeps UTC (a chart's UTC buckets): Django's `utc` marks it so.
    if timezone.is_naive(value) or getattr(value, "convert_to_local_time", True) is False:
        return value
    return timezone.localtime(value)


@register.filter(name="datetime", expects_localtime=False)
def datetime_filter(value: datetime | None, precision: str = "") -> str:
    """Day, month, year and time, in the viewer's time zone; empty for no value."""
    if not isinstance(value, datetime):
        return day(value)
    local = _local(value)
    clock = f"{local:%H:%M:%S}" if precision == "seconds" else f"{local:%H:%M}"
    return f"{local.day} {local:%b %Y}, {clock}"


@register.filter(expects_localtime=False)
def day(value: date | datetime | None) -> str:
    """Day, month and year (of the viewer's time zone, for a moment); empty for no value."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        value = _local(value)
    if not isinstance(value, date):
        return str(value)
    return f"{value.day} {value:%b %Y}"
