"""Forms of the inbox and leads pages: they check what a person typed; the services decide the rest.

Choices that depend on the tenant (teammates, AI agents, channels, labels) are built from the
tenant's own rows, so another tenant's id is simply not a valid choice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.core.validators import RegexValidator
from django.utils import timezone

from accounts.models import User
from core.widgets import PlainSelect
from inbox.hooks import Agent
from inbox.models import Channel, ConversationStatus, Lead, LeadStatus, Priority
from inbox.services.conversations import may_be_assigned

ANY = [("", "Any")]

# The same limits as the API's input (inbox/apis/conversations.py).
MAX_TEXT = 4096
MAX_LABELS = 20
MAX_TEMPLATE_PARAMETERS = 20


@dataclass(frozen=True)
class InboxChoices:
    """The tenant's rows a person can pick from in the inbox, loaded once per request."""

    teammates: list[User]
    agents: list[Agent]
    channels: list[Channel]
    labels: list[str]

    @property
    def channel_names(self) -> dict[int, str]:
        return {channel.pk: str(channel) for channel in self.channels}

    @property
    def assignable(self) -> list[User]:
        """The teammates a conversation may be given to: those who can answer it (no viewers)."""
        return [user for user in self.teammates if may_be_assigned(user)]


class Form(forms.Form):
    """A form whose labels carry no trailing colon (the pages' style)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


def _name(user: User) -> str:
    return user.full_name or user.email


# --- the conversation list ------------------------------------------------------------------------


class ConversationFilterForm(Form):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=100,
        strip=True,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name, number or message"}),
    )
    status = forms.ChoiceField(label="Status", required=False, choices=ANY + list(ConversationStatus.choices))
    assignee = forms.ChoiceField(label="Assigned to", required=False, widget=PlainSelect)  # every teammate
    channel = forms.ChoiceField(label="Number", required=False)
    label = forms.ChoiceField(label="Label", required=False)
    pages = forms.IntegerField(required=False, min_value=1, max_value=20, widget=forms.HiddenInput)  # "Show more"

    def __init__(self, *args: Any, choices: InboxChoices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        assignee = self.fields["assignee"]
        assert isinstance(assignee, forms.ChoiceField)
        assignee.choices = [
            ("", "Anyone"),
            ("me", "Me"),
            ("none", "Unassigned"),
            ("Teammates", [(f"user:{user.pk}", _name(user)) for user in choices.teammates]),
            ("AI agents", [(f"agent:{agent.pk}", agent.name) for agent in choices.agents]),
        ]
        channel = self.fields["channel"]
        assert isinstance(channel, forms.ChoiceField)
        channel.choices = ANY + [(str(c.pk), str(c)) for c in choices.channels]
        label = self.fields["label"]
        assert isinstance(label, forms.ChoiceField)
        label.choices = ANY + [(name, name) for name in choices.labels]

    def selector_filters(self) -> dict[str, str]:
        """The cleaned filters in the words of `inbox.selectors.conversation_list`."""
        data = self.cleaned_data
        filters = {key: str(data[key]) for key in ("q", "status", "channel", "label") if data.get(key)}
        assignee = data.get("assignee") or ""
        if assignee.startswith("user:"):
            filters["assignee"] = assignee.removeprefix("user:")
        elif assignee.startswith("agent:"):
            filters["agent"] = assignee.removeprefix("agent:")
        elif assignee:
            filters["assignee"] = assignee
        return filters

    def query(self, *, pages: int | None = None) -> dict[str, str]:
        """The filters as they were given (for links that keep them), without empty values."""
        data = {
            key: str(value) for key, value in self.cleaned_data.items() if value not in (None, "") and key != "pages"
        }
        if pages and pages > 1:
            data["pages"] = str(pages)
        return data


# --- replying -------------------------------------------------------------------------------------


class ReplyForm(Form):
    text = forms.CharField(
        label="Reply",
        max_length=MAX_TEXT,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Write a reply…"}),
    )

    def clean_text(self) -> str:
        text: str = self.cleaned_data["text"]
        if not text.strip():
            raise forms.ValidationError("Write something to send.")
        return text


class TemplateForm(Form):
    template = forms.CharField(
        label="Template name",
        max_length=512,
        validators=[RegexValidator(r"^[a-z0-9_]+$", "Lowercase letters, digits and _ only, as in WhatsApp Manager.")],
        widget=forms.TextInput(attrs={"placeholder": "order_update", "autocomplete": "off"}),
    )
    language = forms.CharField(
        label="Language",
        initial="en_US",
        max_length=6,
        validators=[RegexValidator(r"^[a-z]{2,3}(_[A-Z]{2})?$", "A language code such as en, en_US or pt_BR.")],
    )
    parameters = forms.CharField(
        label="Parameters (one per line)",
        required=False,
        help_text="They fill {{1}}, {{2}}, … of the template's body, in order.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_parameters(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data.get("parameters", "").splitlines() if line.strip()]
        if len(lines) > MAX_TEMPLATE_PARAMETERS:
            raise forms.ValidationError(f"At most {MAX_TEMPLATE_PARAMETERS} parameters.")
        if any(len(line) > 1024 for line in lines):
            raise forms.ValidationError("A parameter has at most 1,024 characters.")
        return lines

    def as_template(self) -> dict[str, Any]:
        """What `inbox.services.messages.message_send` takes as `template`."""
        data = self.cleaned_data
        return {"name": data["template"], "language": data["language"], "parameters": data["parameters"]}


# --- working the conversation ---------------------------------------------------------------------


class StatusForm(Form):
    status = forms.ChoiceField(choices=ConversationStatus.choices)
    snoozed_until = forms.DateTimeField(
        label="Snooze until (UTC)",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("status") == ConversationStatus.SNOOZED:
            until = data.get("snoozed_until")
            if until is None:
                self.add_error("snoozed_until", "Pick when the conversation comes back.")
            elif until <= timezone.now():
                self.add_error("snoozed_until", "Pick a time in the future.")
        return data


class PriorityForm(Form):
    priority = forms.ChoiceField(label="Priority", choices=Priority.choices)


class AssignForm(Form):
    prefix = "assign"
    to = forms.ChoiceField(label="Assigned to", required=False, widget=PlainSelect)  # every teammate

    def __init__(self, *args: Any, choices: InboxChoices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._teammates = {f"user:{user.pk}": user for user in choices.assignable}
        self._agents = {f"agent:{agent.pk}": agent for agent in choices.agents}
        field = self.fields["to"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            ("", "Nobody"),
            ("Teammates", [(key, _name(user)) for key, user in self._teammates.items()]),
            ("AI agents", [(key, agent.name) for key, agent in self._agents.items()]),
        ]

    def changes(self) -> dict[str, Any]:
        """Keyword arguments for `conversation_update`: a person, an AI agent, or nobody at all."""
        to = self.cleaned_data.get("to") or ""
        if to in self._teammates:
            return {"assignee": self._teammates[to]}
        if to in self._agents:
            return {"agent": self._agents[to]}
        return {"assignee": None, "agent": None}


class LabelForm(Form):
    prefix = "labels"
    add = forms.CharField(
        label="Add a label",
        required=False,
        max_length=50,
        strip=True,
        widget=forms.TextInput(attrs={"list": "known-labels", "autocomplete": "off"}),
    )
    remove = forms.CharField(required=False, max_length=50, strip=True)

    def __init__(self, *args: Any, current: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.current = current

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("add") and not data.get("remove"):
            self.add_error("add", "Type a label to add.")
        elif data.get("add") and data["add"] not in self.current and len(self.current) >= MAX_LABELS:
            self.add_error("add", f"A conversation has at most {MAX_LABELS} labels.")
        return data

    def labels(self) -> list[str]:
        """The conversation's labels after this change."""
        wanted = [name for name in self.current if name != self.cleaned_data.get("remove")]
        if (added := self.cleaned_data.get("add")) and added not in wanted:
            wanted.append(added)
        return wanted


# --- contacts and leads ---------------------------------------------------------------------------


class ContactForm(Form):
    prefix = "contact"
    name = forms.CharField(label="Name", required=False, max_length=200)
    phone = forms.CharField(label="Phone", required=False, max_length=32)
    email = forms.EmailField(label="Email", required=False)


class LeadForm(forms.ModelForm):
    """Validation only: the lead is written by `lead_create` / `lead_update`, never by `save()`."""

    prefix = "lead"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    score = forms.IntegerField(label="Score (0–100)", min_value=0, max_value=100, initial=0)

    class Meta:
        model = Lead
        fields = ["name", "company", "email", "phone", "status", "score", "source"]


class LeadFilterForm(Form):
    status = forms.ChoiceField(label="Status", required=False, choices=ANY + list(LeadStatus.choices))
    source = forms.CharField(label="Source", required=False, max_length=50, strip=True)
    created_from = forms.DateField(label="Created from", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    created_to = forms.DateField(label="Created to", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("created_from"), data.get("created_to")
        if start and end and start > end:
            self.add_error("created_to", "Pick a day on or after the first one.")
        return data

    def selector_filters(self) -> dict[str, str]:
        """The cleaned filters in the words of `inbox.selectors.LeadFilter` (the API's)."""
        data = self.cleaned_data
        filters = {key: data[key] for key in ("status", "source") if data.get(key)}
        if start := data.get("created_from"):
            filters["created_after"] = _midnight(start).isoformat()
        if (end := data.get("created_to")) and end < date.max:  # the whole last day is included
            filters["created_before"] = _midnight(end + timedelta(days=1)).isoformat()
        return filters

    def query(self) -> dict[str, str]:
        return {key: str(value) for key, value in self.cleaned_data.items() if value not in (None, "")}


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))
