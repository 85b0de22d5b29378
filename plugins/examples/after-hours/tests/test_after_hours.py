"""The after-hours plugin through the SDK's FakeContext, at chosen times."""

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from skybot_plugin_sdk import AgentOutput, PluginError
from skybot_plugin_sdk.testing import FakeContext, Refused, load_plugin, run_execute, run_hook

PLUGIN_DIR = Path(__file__).resolve().parents[1]
WEEKDAYS = {day: {"open": "09:00", "close": "18:00"} for day in ("mon", "tue", "wed", "thu", "fri")}
CONFIG = {"timezone": "America/Sao_Paulo", "hours": {**WEEKDAYS, "sat": {"open": "09:00", "close": "13:00"}}}


@pytest.fixture
def at(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Set the plugin's clock: at(2025, 1, 6, 12, 0) is 12:00 UTC (09:00 in São Paulo)."""
    plugin_class = type(load_plugin(PLUGIN_DIR))

    def set_clock(year: int, month: int, day: int, hour: int, minute: int) -> None:
        now = datetime(year, month, day, hour, minute, tzinfo=UTC)
        monkeypatch.setattr(plugin_class, "clock", staticmethod(lambda: now))

    return set_clock


def context(**config: Any) -> FakeContext:
    return FakeContext.for_plugin(PLUGIN_DIR, config={**CONFIG, **config})


def run(message: str = "Hi", conversation_id: int | None = 1, ctx: FakeContext | None = None) -> AgentOutput:
    return run_execute(PLUGIN_DIR, message, {"conversation_id": conversation_id}, context=ctx or context())


def test_inside_business_hours_it_answers_nothing(at: Callable[..., None]) -> None:
    at(2025, 1, 6, 15, 0)  # Monday 12:00 in São Paulo
    output = run()
    assert output.response is None
    assert output.metadata == {"open": True}


def test_in_the_evening_it_says_when_it_opens_tomorrow(at: Callable[..., None]) -> None:
    at(2025, 1, 6, 23, 30)  # Monday 20:30 in São Paulo
    assert "open again tomorrow at 09:00" in str(run().response)


def test_before_opening_it_says_today(at: Callable[..., None]) -> None:
    at(2025, 1, 7, 10, 0)  # Tuesday 07:00 in São Paulo
    assert "today at 09:00" in str(run().response)


def test_on_saturday_afternoon_it_names_monday(at: Callable[..., None]) -> None:
    at(2025, 1, 11, 18, 0)  # Saturday 15:00 in São Paulo, closed on Sunday
    assert "on Monday at 09:00" in str(run().response)


def test_each_conversation_is_told_once_per_closed_period(at: Callable[..., None]) -> None:
    ctx = context()
    at(2025, 1, 6, 23, 30)
    assert run(conversation_id=1, ctx=ctx).response
    assert run(conversation_id=1, ctx=ctx).response is None  # the same night: already told
    assert run(conversation_id=2, ctx=ctx).response  # another conversation is told
    at(2025, 1, 7, 23, 30)  # the next night is another closed period
    assert run(conversation_id=1, ctx=ctx).response


def test_the_message_and_time_zone_come_from_the_config(at: Callable[..., None]) -> None:
    at(2025, 1, 6, 8, 30)  # 08:30 UTC, Monday: open in London? no, 08:30 < 09:00
    output = run(ctx=context(timezone="Europe/London", message="Closed! Back {next_open}."))
    assert output.response == "Closed! Back today at 09:00."


def test_tried_by_hand_without_a_conversation_it_always_answers(at: Callable[..., None]) -> None:
    at(2025, 1, 6, 23, 30)
    ctx = context()
    assert run_execute(PLUGIN_DIR, "Hi", {"conversation_id": None}, context=ctx).response
    assert run_execute(PLUGIN_DIR, "Hi", {"conversation_id": None}, context=ctx).response
    assert ctx.storage.keys() == []


def test_an_unknown_time_zone_is_refused_at_install() -> None:
    with pytest.raises(PluginError, match=r"Mars/Olympus"):
        run_hook(PLUGIN_DIR, "on_install", context=context(timezone="Mars/Olympus"))


def test_hours_that_close_before_they_open_are_refused() -> None:
    with pytest.raises(PluginError, match=r"hours\.mon"):
        run_hook(PLUGIN_DIR, "on_install", context=context(hours={"mon": {"open": "18:00", "close": "09:00"}}))


def test_a_good_config_installs() -> None:
    run_hook(PLUGIN_DIR, "on_install", config=CONFIG)


def test_a_badly_written_time_is_refused_by_the_config_schema() -> None:
    with pytest.raises(Refused, match=r"config\.hours\.mon"):
        run(ctx=context(hours={"mon": {"open": "9am", "close": "18:00"}}))


def test_without_storage_it_cannot_remember(at: Callable[..., None]) -> None:
    at(2025, 1, 6, 23, 30)
    ctx = FakeContext(config=CONFIG, permissions=["messages:send"])
    with pytest.raises(PluginError, match="storage"):
        run(ctx=ctx)
