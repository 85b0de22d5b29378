"""Template helpers of the Developers pages: how long ago, how long until."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.timesince import timesince, timeuntil

register = template.Library()

MINUTE = timedelta(minutes=1)


@register.filter
def ago(value: datetime | None) -> str:
    """ "just now" within the minute, else "3 hours, 2 minutes ago"."""
    if value is None:
        return ""
    if timezone.now() - value < MINUTE:
        return "just now"
    return f"{timesince(value)} ago"


@register.filter
def due(value: datetime | None) -> str:
    """When a retry is due: "due now" once its time has come, "in a few seconds", "in 4 minutes"."""
    if value is None:
        return ""
    left = value - timezone.now()
    if left <= timedelta(0):
        return "due now"
    if left < MINUTE:
        return "in a few seconds"
    return f"in {timeuntil(value)}"
