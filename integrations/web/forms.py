"""Forms of the Developers pages. They check the shape of the input; the webhook services decide
the rest (which URLs may be called, which event types exist), as they do for the API."""

from __future__ import annotations

from typing import Any

from django import forms

from accounts.web.forms import SettingsForm
from integrations.events import EVENT_TYPES
from integrations.models import DeliveryStatus
from integrations.services.webhooks import DEFAULT_ROTATION_OVERLAP, MAX_ROTATION_OVERLAP

USAGE_WINDOWS = [(7, "7 days"), (14, "14 days"), (30, "30 days"), (90, "90 days")]
DEFAULT_USAGE_DAYS = 14


def event_description(name: str) -> str:
    """What an event type means, as plain text (the API's descriptions quote names in backticks)."""
    return EVENT_TYPES[name].description.replace("`", "")


EVENT_TYPE_CHOICES = [(name, f"{name} — {event_description(name)}") for name in EVENT_TYPES]

OVERLAP_CHOICES = [
    (0, "Stop signing with the old secret now"),
    (3600, "Keep signing with both for 1 hour"),
    (int(DEFAULT_ROTATION_OVERLAP.total_seconds()), "Keep signing with both for 24 hours"),
    (int(MAX_ROTATION_OVERLAP.total_seconds()), "Keep signing with both for 7 days"),
]


class UsageWindowForm(forms.Form):
    days = forms.TypedChoiceField(choices=USAGE_WINDOWS, coerce=int, required=False, empty_value=None)

    def clean_days(self) -> int:
        return self.cleaned_data.get("days") or DEFAULT_USAGE_DAYS


class WebhookEndpointForm(SettingsForm):
    url = forms.CharField(
        label="URL",
        max_length=1000,
        widget=forms.URLInput(attrs={"placeholder": "https://hooks.example.com/skybot", "autocomplete": "off"}),
        help_text=(
            "Where events are POSTed, signed. https (plain http only outside production); not an internal address."
        ),
    )
    events = forms.MultipleChoiceField(
        label="Events",
        choices=EVENT_TYPE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one event type."},
    )
    description = forms.CharField(
        max_length=200,
        required=False,
        help_text="Optional: what receives these events, e.g. “CRM sync”.",
    )


class WebhookRotateForm(SettingsForm):
    overlap_seconds = forms.TypedChoiceField(
        label="The old secret",
        choices=OVERLAP_CHOICES,
        coerce=int,
        initial=int(DEFAULT_ROTATION_OVERLAP.total_seconds()),
        help_text=(
            "During the overlap every request carries two signatures, one per secret, so your receiver keeps "
            "accepting events while you deploy the new secret."
        ),
    )


class DeliveryFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", "Any status"), *DeliveryStatus.choices], required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
