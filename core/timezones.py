"""Time zones people see times in: IANA names (`Europe/Lisbon`), checked against the system's database.

Pages show every date in the viewer's zone (`accounts.web.pages.page` activates it); exports, the API
and the database stay in UTC.
"""

from __future__ import annotations

from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from django.core.exceptions import ValidationError

MAX_LENGTH = 64
# Names the system's database holds that are no place's time zone.
NOT_ZONES = frozenset({"localtime", "Factory", "posixrules"})


@cache
def time_zone_names() -> tuple[str, ...]:
    """Every IANA zone name this system knows, sorted (UTC among them); legacy aliases left out."""
    names = {name for name in _known() if "/" in name or name == "UTC"}
    return tuple(sorted(name for name in names if not name.startswith(("Etc/", "SystemV/", "US/"))))


@cache
def _known() -> frozenset[str]:
    return frozenset(available_timezones()) - NOT_ZONES


def is_time_zone(name: str) -> bool:
    return name in _known()


def validate_time_zone(name: str) -> None:
    """A model and form validator: `name` must be an IANA time zone, such as Europe/Lisbon."""
    if name and not is_time_zone(name):
        raise ValidationError(
            "“%(name)s” is not a time zone. Choose one from the list, such as Europe/Lisbon.",
            code="invalid_time_zone",
            params={"name": name[:MAX_LENGTH]},
        )


def zone(name: str, default: str = "UTC") -> ZoneInfo:
    """The zone called `name`, or `default` when it is empty or unknown."""
    for candidate in (name, default):
        if candidate and is_time_zone(candidate):
            return ZoneInfo(candidate)
    return ZoneInfo("UTC")
