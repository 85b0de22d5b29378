"""What the Settings pages share: the tab bar, showing a service's input errors on a form, dates."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.utils import timezone

from core.exceptions import ApplicationError

# (key, label, URL name): the Settings area's tabs, in order.
TABS: list[tuple[str, str, str]] = [
    ("overview", "Overview", "settings_web:index"),
    ("users", "Users and roles", "settings_web:users"),
    ("api_keys", "API keys", "settings_web:api_keys"),
    ("channels", "WhatsApp", "settings_web:channels"),
    ("audit", "Audit log", "settings_web:audit"),
    ("billing", "Billing", "settings_web:billing"),
]


def settings_context(tab: str, **context: Any) -> dict[str, Any]:
    """Template context of a Settings page: which tab is current, plus the page's own values."""
    return {"settings_tabs": TABS, "tab": tab, **context}


def show_service_error(form: forms.Form, error: ApplicationError, *, fields: Mapping[str, str] | None = None) -> bool:
    """Put a service's per-field complaint (`details`) on the form's fields; False when it names none.

    `fields` maps a service's argument name to the form field that carries it (`expires_at` →
    `expires_on`). A complaint about an argument the form does not show goes to the form as a whole.
    """
    details = error.details if isinstance(error.details, Mapping) else {}
    if not details:
        return False
    aliases = fields or {}
    for name, messages in details.items():
        field = aliases.get(name, name)
        for message in messages if isinstance(messages, list) else [messages]:
            form.add_error(field if field in form.fields else None, str(message))
    return True


def end_of_day(day: date) -> datetime:
    """The last moment of `day` in the site's time zone (an expiry date that includes the day)."""
    return timezone.make_aware(datetime.combine(day, time.max))


def start_of_day(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def start_of_next_day(day: date) -> datetime | None:
    """The first moment after `day`, or None past the calendar's last day (no upper bound)."""
    if day >= date.max:
        return None
    return start_of_day(day + timedelta(days=1))
