"""The one date format of every page (`core.templatetags.dates`), in the current time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import timezone

from core.timezones import is_time_zone, time_zone_names, validate_time_zone

MOMENT = datetime(2026, 12, 3, 23, 30, 9, tzinfo=UTC)


def render(source: str, **context: object) -> str:
    return Template(source).render(Context(context))


def test_a_moment_is_day_month_year_and_time_in_the_current_zone():
    assert render("{{ at|datetime }}", at=MOMENT) == "3 Dec 2026, 23:30"
    with timezone.override(ZoneInfo("Europe/Lisbon")):
        assert render("{{ at|datetime }}", at=MOMENT) == "3 Dec 2026, 23:30"  # Lisbon is UTC in winter
    with timezone.override(ZoneInfo("Asia/Tokyo")):
        assert render("{{ at|datetime }}", at=MOMENT) == "4 Dec 2026, 08:30"
        assert render('{{ at|datetime:"seconds" }}', at=MOMENT) == "4 Dec 2026, 08:30:09"
        assert render("{{ at|day }}", at=MOMENT) == "4 Dec 2026"


def test_utc_stays_utc_where_a_page_says_so():
    with timezone.override(ZoneInfo("Asia/Tokyo")):
        assert render("{% load tz %}{{ at|utc|datetime }}", at=MOMENT) == "3 Dec 2026, 23:30"


def test_days_and_nothing():
    assert render("{{ d|day }}", d=date(2026, 1, 9)) == "9 Jan 2026"
    assert render("{{ d|datetime }}", d=date(2026, 1, 9)) == "9 Jan 2026"
    assert render("[{{ none|datetime }}][{{ none|day }}]", none=None) == "[][]"


@pytest.mark.parametrize("name", ["Europe/Lisbon", "America/New_York", "UTC", "Asia/Kolkata"])
def test_iana_names_are_time_zones(name):
    assert is_time_zone(name)
    validate_time_zone(name)


@pytest.mark.parametrize("name", ["localtime", "Factory", "Mars/Base", "", "europe/lisbon"])
def test_other_names_are_not_offered(name):
    assert name not in time_zone_names()
