"""The catalogue's configuration schemas say what they expect in words, and check what they can.

Every `pattern` gets an `errorMessage` (the sentence a person reads instead of the expression); the
support agent's business hours get titles, a time zone checked against the IANA database
(`"format": "timezone"`) and a closing time that may be 24:00 (midnight). The check that it closes
after it opens is `agents.services.configuration`'s. Agents' stored configurations are not changed.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

OPENS = "^([01][0-9]|2[0-3]):[0-5][0-9]$"
CLOSES = "^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"
PATTERN_MESSAGES = {
    "^[a-z]{2}(-[A-Z]{2})?$": "Write a language code such as en or pt-BR.",
    "^https?://": "Write a web address that starts with http:// or https://.",
    "^https://": "Write a web address that starts with https://.",
    "^[A-Z]{3}$": "Write a three-letter currency code in capitals, such as USD or EUR.",
    "^[^@\\s]+@[^@\\s]+$": "Write an email address, such as team@example.com.",
    OPENS: "Write a time as HH:MM (24 hours), such as 09:00.",
}
BUSINESS_HOURS = {
    "type": "object",
    "title": "Business hours",
    "description": "When people are available to take over.",
    "properties": {
        "timezone": {
            "type": "string",
            "title": "Time zone",
            "format": "timezone",
            "minLength": 1,
            "maxLength": 64,
            "description": "IANA time zone, such as Europe/Lisbon.",
        },
        "days": {
            "type": "array",
            "title": "Open on",
            "items": {"enum": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]},
            "uniqueItems": True,
            "minItems": 1,
        },
        "open": {
            "type": "string",
            "title": "Opens at",
            "pattern": OPENS,
            "errorMessage": "Write the opening time as HH:MM (24 hours), such as 09:00.",
        },
        "close": {
            "type": "string",
            "title": "Closes at",
            "pattern": CLOSES,
            "errorMessage": "Write the closing time as HH:MM (24 hours), such as 18:00; 24:00 is midnight.",
        },
    },
    "required": ["timezone", "days", "open", "close"],
    "additionalProperties": False,
}


def worded(schema: Any) -> Any:
    """`schema` with an `errorMessage` beside each pattern it knows, and the business hours above."""
    if isinstance(schema, list):
        return [worded(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result = {key: worded(value) for key, value in schema.items()}
    if isinstance(result.get("pattern"), str) and result["pattern"] in PATTERN_MESSAGES:
        result.setdefault("errorMessage", PATTERN_MESSAGES[result["pattern"]])
    properties = result.get("properties")
    if isinstance(properties, dict) and isinstance(properties.get("business_hours"), dict):
        properties["business_hours"] = BUSINESS_HOURS
    return result


def update_catalogue(apps: Any, schema_editor: Any) -> None:
    AgentTemplate = apps.get_model("agents", "AgentTemplate")
    for template in AgentTemplate.objects.filter(account__isnull=True):
        schema = worded(template.config_schema)
        if schema != template.config_schema:
            template.config_schema = schema
            template.save(update_fields=["config_schema"])


class Migration(migrations.Migration):
    dependencies = [
        ("agents", "0006_report_of_one_agent"),
    ]

    operations = [
        migrations.RunPython(update_catalogue, migrations.RunPython.noop),
    ]
