"""An agent's configuration is checked the way a person means it: time zones against the IANA
database, opening hours that close after they open, and every refusal said in words (the setting's
title and what is wrong), never a regular expression — in the API and on the agent form."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from agents.models import Agent
from agents.services.configuration import config_validate
from core.exceptions import ApplicationError

pytestmark = pytest.mark.django_db

TIME_ZONE_REFUSED = "“Mars/Olympus” is not a time zone: use an IANA name such as Europe/Lisbon or America/Sao_Paulo."
CLOSES_TOO_EARLY = "The closing time (09:00) must be later than the opening time (18:00); 24:00 closes at midnight."
# Anything that looks like a regular expression or a Python repr in a message people read.
RAW = re.compile(r"\^|\$'|\[0-9\]|\\d|is not of type|does not match|is a required property")


def hours(**overrides: Any) -> dict[str, Any]:
    return {"timezone": "Europe/Lisbon", "days": ["mon", "tue"], "open": "09:00", "close": "18:00", **overrides}


def support_agent(**business_hours: Any) -> dict[str, Any]:
    return {
        "name": "Helper",
        "template": "support-agent",
        "config": {"greeting": "Hello!", "business_hours": hours(**business_hours)},
    }


@pytest.fixture
def admin_api(client_for: Any, client_admin: User) -> APIClient:
    api: APIClient = client_for(client_admin)
    return api


def field_error(page: str, field: str, message: str) -> bool:
    """Whether `page` shows `message` under the field, in the list its control's aria-describedby names."""
    shown = rf'id="id_{field}_errors"><ul class="errorlist" id="id_{field}_error"><li>{re.escape(message)}'
    return re.search(shown, page) is not None


# --- the API ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("business_hours", "path", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "config.business_hours.timezone", TIME_ZONE_REFUSED),
        ({"open": "18:00", "close": "09:00"}, "config.business_hours.close", CLOSES_TOO_EARLY),
        (
            {"open": "9am"},
            "config.business_hours.open",
            "Write the opening time as HH:MM (24 hours), such as 09:00.",
        ),
        (
            {"close": "25:00"},
            "config.business_hours.close",
            "Write the closing time as HH:MM (24 hours), such as 18:00; 24:00 is midnight.",
        ),
        ({"days": []}, "config.business_hours.days", "Open on needs at least one item."),
        (
            {"days": ["mon", "someday"]},
            "config.business_hours.days.1",
            "Open on, item 2, must be one of: mon, tue, wed, thu, fri, sat, sun.",
        ),
    ],
)
def test_business_hours_a_person_would_not_mean_are_a_400_in_words(
    admin_api: APIClient, business_hours: dict[str, Any], path: str, message: str
) -> None:
    # when an admin creates a support agent with those business hours
    response = admin_api.post("/api/v1/agents", support_agent(**business_hours), format="json")

    # then 400 names the setting in words, and nothing is created
    assert response.status_code == 400
    assert response.json()["details"] == {path: [message]}
    assert not RAW.search(" ".join(message for values in response.json()["details"].values() for message in values))
    assert not Agent.objects.exists()


@pytest.mark.parametrize("zone", ["Europe/Lisbon", "America/Sao_Paulo", "UTC", "Asia/Kolkata"])
def test_real_time_zones_and_closing_at_midnight_are_accepted(admin_api: APIClient, zone: str) -> None:
    response = admin_api.post(
        "/api/v1/agents", support_agent(timezone=zone, open="18:00", close="24:00"), format="json"
    )

    assert response.status_code == 201, response.json()


def test_an_update_is_checked_the_same_way_and_changes_nothing(admin_api: APIClient) -> None:
    created = admin_api.post("/api/v1/agents", support_agent(), format="json").json()

    response = admin_api.patch(
        f"/api/v1/agents/{created['id']}",
        {"config": {"greeting": "Hi", "business_hours": hours(timezone="Mars/Olympus", open="17:00", close="08:00")}},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["details"] == {
        "config.business_hours.close": [
            "The closing time (08:00) must be later than the opening time (17:00); 24:00 closes at midnight."
        ],
        "config.business_hours.timezone": [TIME_ZONE_REFUSED],
    }
    assert Agent.objects.get().config["business_hours"]["timezone"] == "Europe/Lisbon"


# --- every kind of JSON Schema refusal, in words ------------------------------------------------------

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "greeting": {"type": "string", "title": "Greeting", "minLength": 1, "maxLength": 5},
        "code": {"type": "string", "pattern": "^[A-Z]{3}$", "description": "Three capital letters, such as USD."},
        "coupon": {"type": "string", "pattern": "^[A-Z]+$", "errorMessage": "Write the coupon in capitals."},
        "ref": {"type": "string", "pattern": "^R", "minLength": 3, "errorMessage": {"pattern": "Starts with R."}},
        "discount": {"type": "integer", "minimum": 0, "maximum": 40},
        "ratio": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1, "multipleOf": 0.25},
        "mode": {"enum": ["fast", "careful"]},
        "fixed": {"const": "yes"},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 3, "uniqueItems": True},
        "zone": {"type": "string", "format": "timezone"},
        "enabled": {"type": "boolean"},
        "options": {"type": "object", "properties": {"level": {"type": "integer"}}, "required": ["level"]},
        "pairs": {
            "type": "array",
            "items": {"type": "object", "properties": {"key": {"type": "string", "title": "Key"}}, "required": ["key"]},
        },
    },
    "required": ["greeting", "mode"],
    "additionalProperties": False,
}
VALID = {"greeting": "Hi", "mode": "fast"}


@pytest.mark.parametrize(
    ("config", "path", "message"),
    [
        ({"mode": "fast"}, "config.greeting", "Greeting is required."),
        ({**VALID, "greeting": ""}, "config.greeting", "Greeting cannot be empty."),
        ({**VALID, "greeting": "Hello there"}, "config.greeting", "Greeting must be at most 5 characters long."),
        ({**VALID, "greeting": 5}, "config.greeting", "Greeting must be text."),
        (
            {**VALID, "code": "usd"},
            "config.code",
            "Code is not in the expected form. Three capital letters, such as USD.",
        ),
        ({**VALID, "coupon": "half"}, "config.coupon", "Write the coupon in capitals."),
        ({**VALID, "ref": "X1234"}, "config.ref", "Starts with R."),
        ({**VALID, "ref": "R"}, "config.ref", "Ref must be at least 3 characters long."),
        ({**VALID, "discount": 41}, "config.discount", "Discount must be at most 40."),
        ({**VALID, "discount": -1}, "config.discount", "Discount must be at least 0."),
        ({**VALID, "discount": 2.5}, "config.discount", "Discount must be a whole number."),
        ({**VALID, "ratio": 0}, "config.ratio", "Ratio must be more than 0."),
        ({**VALID, "ratio": 1}, "config.ratio", "Ratio must be less than 1."),
        ({**VALID, "ratio": 0.3}, "config.ratio", "Ratio must be a multiple of 0.25."),
        ({**VALID, "mode": "slow"}, "config.mode", "Mode must be one of: fast, careful."),
        ({**VALID, "fixed": "no"}, "config.fixed", "Fixed must be yes."),
        ({**VALID, "tags": ["a"]}, "config.tags", "Tags needs at least 2 items."),
        ({**VALID, "tags": ["a", "b", "c", "d"]}, "config.tags", "Tags takes at most 3 items."),
        ({**VALID, "tags": ["a", "a"]}, "config.tags", "Tags lists the same item more than once."),
        ({**VALID, "tags": ["a", 2]}, "config.tags.1", "Tags, item 2, must be text."),
        ({**VALID, "zone": "Mars/Olympus"}, "config.zone", TIME_ZONE_REFUSED),
        ({**VALID, "enabled": "yes"}, "config.enabled", "Enabled must be yes or no (true or false)."),
        ({**VALID, "options": {}}, "config.options.level", "Level is required."),
        ({**VALID, "options": []}, "config.options", "Options must be a group of settings."),
        ({**VALID, "pairs": [{"key": "a"}, {}]}, "config.pairs.1.key", "Item 2: Key is required."),
        ({**VALID, "colour": "red"}, "config", "There is no setting called “colour” here."),
        ([], "config", "The configuration must be a group of settings."),
    ],
)
def test_every_refusal_names_the_setting_and_what_is_wrong(config: Any, path: str, message: str) -> None:
    with pytest.raises(ApplicationError) as refused:
        config_validate(schema=SCHEMA, config=config)

    assert refused.value.status_code == 400
    assert refused.value.details == {path: [message]}


def test_the_after_hours_shape_day_by_day_speaks_through_the_branch_that_fits() -> None:
    # given the shape of the after-hours plugin: each day is opening hours or null (closed)
    day = {
        "anyOf": [
            {
                "type": "object",
                "properties": {
                    "open": {"type": "string", "title": "Opens at", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"},
                    "close": {"type": "string", "title": "Closes at"},
                },
                "required": ["open", "close"],
            },
            {"type": "null"},
        ]
    }
    schema = {"type": "object", "properties": {"mon": day, "tue": day, "wed": day, "thu": day}}

    with pytest.raises(ApplicationError) as refused:
        config_validate(
            schema=schema,
            config={"mon": {"open": "9am", "close": "18:00"}, "tue": {"open": "09:00"}, "wed": "x", "thu": None},
        )

    assert refused.value.details == {
        "config.mon.open": ["Opens at is not in the expected form."],
        "config.tue.close": ["Closes at is required."],
        "config.wed": ["Wed must be a group of settings or empty."],
    }


# --- the agent form -----------------------------------------------------------------------------------


def test_the_agent_form_shows_each_refusal_in_words_under_its_field(client_admin: User, runner: Any) -> None:
    client = Client()
    client.force_login(client_admin)

    # when an admin fills in a support agent open from 18:00 to 09:00 on Mars, and a bad language
    response = client.post(
        "/agents/new/support-agent/",
        {
            "name": "Helper",
            "reply_timeout_seconds": "120",
            "config-greeting": "Hello",
            "config-language": "english",
            "config-business_hours__timezone": "Mars/Olympus",
            "config-business_hours__days": ["mon", "tue"],
            "config-business_hours__open": "18:00",
            "config-business_hours__close": "09:00",
        },
    )

    # then the form comes back with the words under the fields, no expression anywhere, nothing created
    assert response.status_code == 400
    page = response.content.decode()
    assert field_error(page, "config-business_hours__timezone", TIME_ZONE_REFUSED)
    assert field_error(page, "config-business_hours__close", CLOSES_TOO_EARLY)
    assert field_error(page, "config-language", "Write a language code such as en or pt-BR.")
    assert not RAW.search(page)
    assert not Agent.objects.exists()
