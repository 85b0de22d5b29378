"""After hours: outside business hours, tell the customer when the business opens again.

Each conversation gets the message once per closed period (remembered in storage, keyed by the
period's next opening time); during business hours the plugin answers nothing and the team replies.
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from skybot_plugin_sdk import AgentInput, AgentOutput, AgentPlugin, PluginContext, PluginError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DEFAULT_HOURS: dict[str, Any] = {day: {"open": "09:00", "close": "18:00"} for day in DAYS[:5]}
DEFAULT_MESSAGE = (
    "Thanks for your message! We are closed right now and open again {next_open}. We will answer you then."
)
NOTIFIED_KEY = "notified"
MAX_REMEMBERED = 500  # conversations remembered per closed period: well under the storage cap
_TIME = re.compile(r"^(\d\d):(\d\d)$")


def minutes(text: str) -> int:
    """Minutes since midnight of "HH:MM" ("24:00" is 1440)."""
    found = _TIME.match(text)
    if not found or int(found[2]) > 59 or int(found[1]) * 60 + int(found[2]) > 24 * 60:
        raise PluginError(f"{text!r} is not a time of day (HH:MM).")
    return int(found[1]) * 60 + int(found[2])


@dataclass(frozen=True)
class Schedule:
    zone: ZoneInfo
    hours: Mapping[str, tuple[int, int] | None]  # day -> (opens, closes) in minutes, None when closed

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "Schedule":
        """The schedule the config describes; raises PluginError naming what is wrong."""
        name = str(config.get("timezone") or "UTC")
        try:
            zone = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise PluginError(f"timezone: {name!r} is not a known time zone (such as America/Sao_Paulo).") from None
        hours: dict[str, tuple[int, int] | None] = {}
        week = config.get("hours")
        for day, span in (DEFAULT_HOURS if week is None else week).items():
            if span is None:
                hours[day] = None
                continue
            opens, closes = minutes(span["open"]), minutes(span["close"])
            if closes <= opens:
                raise PluginError(f"hours.{day}: closes at {span['close']}, not after it opens at {span['open']}.")
            hours[day] = (opens, closes)
        return cls(zone=zone, hours=hours)

    def is_open(self, now: datetime) -> bool:
        local = now.astimezone(self.zone)
        span = self.hours.get(DAYS[local.weekday()])
        return span is not None and span[0] <= local.hour * 60 + local.minute < span[1]

    def next_open(self, now: datetime) -> datetime | None:
        """When the business opens next after `now` (None when it is never open)."""
        local = now.astimezone(self.zone)
        for offset in range(8):
            day = local.date() + timedelta(days=offset)
            span = self.hours.get(DAYS[day.weekday()])
            if span is None:
                continue
            opens = datetime(day.year, day.month, day.day, span[0] // 60, span[0] % 60, tzinfo=self.zone)
            if opens > local:
                return opens
        return None


def describe(opens: datetime | None, today: date) -> str:
    """ "today at 09:00", "tomorrow at 09:00", "on Monday at 09:00" (or "soon")."""
    if opens is None:
        return "soon"
    at = f"at {opens:%H:%M}"
    if opens.date() == today:
        return f"today {at}"
    if opens.date() == today + timedelta(days=1):
        return f"tomorrow {at}"
    return f"on {DAY_NAMES[opens.weekday()]} {at}"


class AfterHours(AgentPlugin):
    #: The current time; tests replace it.
    clock: Callable[[], datetime] = staticmethod(lambda: datetime.now(UTC))

    def on_install(self, context: PluginContext) -> None:
        Schedule.from_config(context.config)  # refuse a config with an unknown time zone or bad hours

    def execute(self, input: AgentInput, context: PluginContext) -> AgentOutput:
        schedule = Schedule.from_config(context.config)
        now = self.clock()
        if schedule.is_open(now):
            return AgentOutput(metadata={"open": True})
        opens = schedule.next_open(now)
        period = opens.isoformat() if opens else "closed"
        conversation_id = input.metadata.get("conversation_id")
        if conversation_id is not None and not self._first_time(context, period, int(conversation_id)):
            context.logger.info(f"conversation {conversation_id} already told about this closed period")
            return AgentOutput(metadata={"open": False, "already_told": True})
        template = str(context.config.get("message") or DEFAULT_MESSAGE)
        text = template.replace("{next_open}", describe(opens, now.astimezone(schedule.zone).date()))
        return AgentOutput(response=text, metadata={"open": False, "next_open": period})

    @staticmethod
    def _first_time(context: PluginContext, period: str, conversation_id: int) -> bool:
        """Whether this conversation has not been told during this closed period (and remember it)."""
        notified = context.storage.get(NOTIFIED_KEY) or {}
        told = list(notified.get("conversations", [])) if notified.get("period") == period else []
        if conversation_id in told:
            return False
        context.storage.set(
            NOTIFIED_KEY, {"period": period, "conversations": [*told, conversation_id][-MAX_REMEMBERED:]}
        )
        return True
