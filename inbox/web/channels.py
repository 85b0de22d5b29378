"""Settings → WhatsApp: connect, edit, switch on and off a tenant's WhatsApp numbers (CLIENT_ADMIN),
and add sandbox numbers, which need no Meta account (inbox/services/sandbox.py).

The access token and the app secret are write-only: a form never shows them back, a page only says
whether one is set. The verify token is different: it is what the administrator types into Meta's
webhook form, so each number shows the one Meta must be given (its own, or the platform default)
next to the webhook URL. A sandbox number has nothing to paste into Meta: its card leads to the
customer simulator instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Role
from accounts.scoping import tenant_rows
from accounts.services.audit import RequestContext
from accounts.web.common import settings_context, show_service_error
from accounts.web.forms import SettingsForm
from accounts.web.pages import PageRequest, page
from core.exceptions import ApplicationError
from inbox.hooks import agent_directory
from inbox.models import Channel
from inbox.services.channels import channel_create, channel_update
from inbox.services.sandbox import MAX_SANDBOX_NUMBERS, sandbox_channel_create

HANDOFF_RULES = Channel._meta.get_field("handoff_rule").choices or []
KEEP_HELP = "Leave empty to keep the one that is set."


def webhook_url() -> str:
    """The callback URL to paste into Meta's webhook configuration (one for every number)."""
    return settings.SITE_URL + reverse("whatsapp-webhook")


@dataclass(frozen=True)
class ChannelRow:
    """A number as the settings show it: whether each secret is set, never its value."""

    channel: Channel
    has_access_token: bool
    has_app_secret: bool
    verify_token: str  # what to type into Meta: the number's own, else the platform default
    verify_token_is_own: bool


def channel_row(channel: Channel, *, has_access_token: bool, has_app_secret: bool) -> ChannelRow:
    own = channel.verify_token
    return ChannelRow(
        channel=channel,
        has_access_token=has_access_token,
        has_app_secret=has_app_secret,
        verify_token=own or settings.WHATSAPP_VERIFY_TOKEN,
        verify_token_is_own=bool(own),
    )


def _channels_of(request: PageRequest) -> QuerySet[Channel]:
    """The tenant's numbers; the token and app secret are not even loaded, only whether they are set."""
    return (
        tenant_rows(Channel.objects.all(), principal=request.principal)
        .select_related("default_agent")
        .defer("access_token", "app_secret")
        .annotate(
            token_set=ExpressionWrapper(~Q(access_token=""), output_field=BooleanField()),
            secret_set=ExpressionWrapper(~Q(app_secret=""), output_field=BooleanField()),
        )
    )


def _row(channel: Any) -> ChannelRow:
    return channel_row(channel, has_access_token=channel.token_set, has_app_secret=channel.secret_set)


def _channel(request: PageRequest, pk: int) -> Any:
    """A number of the admin's tenant; another tenant's id is a 404 like a missing one."""
    channel = _channels_of(request).filter(pk=pk).first()
    if channel is None:
        raise Http404
    return channel


# --- forms ----------------------------------------------------------------------------------------


def _secret_input(autocomplete: str = "off") -> forms.PasswordInput:
    return forms.PasswordInput(render_value=False, attrs={"autocomplete": autocomplete})


class _AgentChoice(SettingsForm):
    """The fields every number has: who answers its new conversations, and who gets them back."""

    default_agent: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label="Default AI agent",
        queryset=None,  # the tenant's agents, set per form
        required=False,
        empty_label="None: the team answers",
        help_text="New conversations on this number start with this agent.",
    )
    handoff_rule = forms.ChoiceField(
        label="Handoff rule", choices=HANDOFF_RULES, help_text="Who gets a conversation an AI agent hands to the team."
    )

    def __init__(self, *args: Any, account: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        agents = agent_directory()
        choices = agents.selectable(account_id=account.pk).order_by("name", "id")
        self.fields["default_agent"].queryset = choices  # type: ignore[attr-defined]
        self.fields["default_agent"].label_from_instance = agents.label  # type: ignore[attr-defined]


class SandboxChannelForm(_AgentChoice):
    """A sandbox number: a name, and who answers it. Nothing comes from Meta."""

    name = forms.CharField(max_length=100, required=False, help_text="A label for your team, e.g. “Sandbox”.")
    field_order = ["name", "default_agent", "handoff_rule"]

    def changes(self, channel: Channel) -> dict[str, Any]:
        data = self.cleaned_data
        changes = {name: data[name] for name in ("name", "handoff_rule") if data[name] != getattr(channel, name)}
        if data["default_agent"] != channel.default_agent:
            changes["default_agent"] = data["default_agent"]
        return changes


class _ChannelForm(_AgentChoice):
    name = forms.CharField(max_length=100, required=False, help_text="A label for your team, e.g. “Sales line”.")
    display_phone_number = forms.CharField(
        label="Display number", max_length=32, help_text="The number as customers see it, e.g. +1 555 078 3881."
    )
    business_account_id = forms.RegexField(
        regex=r"^\d{0,32}$",
        label="WhatsApp Business Account ID",
        required=False,
        max_length=32,
        error_messages={"invalid": "Digits only, as Meta's API Setup shows it."},
    )
    access_token = forms.CharField(
        max_length=1000,
        strip=True,
        widget=_secret_input(),
        help_text="A System User's permanent token with whatsapp_business_messaging.",
    )
    app_secret = forms.CharField(
        max_length=200,
        required=False,
        widget=_secret_input(),
        help_text="App settings → Basic → App secret. Empty: the platform's secret checks this number's messages.",
    )
    verify_token = forms.CharField(
        max_length=200,
        required=False,
        widget=_secret_input(),
        help_text="Any string you choose; you type the same one into Meta's webhook form. Empty: the platform default.",
    )
    field_order = [
        "name",
        "display_phone_number",
        "business_account_id",
        "access_token",
        "app_secret",
        "verify_token",
        "default_agent",
        "handoff_rule",
    ]


class ChannelCreateForm(_ChannelForm):
    phone_number_id = forms.RegexField(
        regex=r"^\d{5,32}$",
        label="Phone number ID",
        max_length=32,
        help_text="Meta's API Setup → “Phone number ID” (digits, not the phone number).",
        error_messages={"invalid": "Digits only (5 to 32), as Meta's API Setup shows it."},
    )
    field_order = ["name", "phone_number_id", *_ChannelForm.field_order[1:]]


class ChannelEditForm(_ChannelForm):
    clear_app_secret = forms.BooleanField(label="Remove this number's own app secret", required=False)
    clear_verify_token = forms.BooleanField(label="Remove this number's own verify token", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("access_token", "app_secret", "verify_token"):
            self.fields[name].required = False
            self.fields[name].help_text = f"{KEEP_HELP} {self.fields[name].help_text}"

    def changes(self, channel: Channel) -> dict[str, Any]:
        """What to write: the plain fields that changed, and a secret only when one was typed (or removed)."""
        data = self.cleaned_data
        changes = {
            name: data[name]
            for name in ("name", "display_phone_number", "business_account_id", "handoff_rule")
            if data[name] != getattr(channel, name)
        }
        if data["default_agent"] != channel.default_agent:
            changes["default_agent"] = data["default_agent"]
        for secret in ("access_token", "app_secret", "verify_token"):
            if data[secret]:
                changes[secret] = data[secret]
        if data["clear_app_secret"] and not data["app_secret"]:
            changes["app_secret"] = ""
        if data["clear_verify_token"] and not data["verify_token"]:
            changes["verify_token"] = ""
        return changes


# --- pages ----------------------------------------------------------------------------------------


def _page_context(**context: Any) -> dict[str, Any]:
    return settings_context(
        "channels", webhook_url=webhook_url(), platform_verify_token=bool(settings.WHATSAPP_VERIFY_TOKEN), **context
    )


@page(role=Role.CLIENT_ADMIN)
def channels(request: PageRequest) -> HttpResponse:
    rows = [_row(channel) for channel in _channels_of(request)]
    return render(request, "accounts/settings/channels.html", _page_context(rows=rows))


@page(role=Role.CLIENT_ADMIN)
@require_http_methods(["GET", "POST"])
def channel_new(request: PageRequest) -> HttpResponse:
    form = ChannelCreateForm(request.POST or None, account=request.account, initial={"handoff_rule": "unassigned"})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                channel = channel_create(
                    account=request.account,
                    actor=request.principal,
                    context=RequestContext.from_request(request),
                    **form.cleaned_data,
                )
            except ApplicationError as error:
                if not show_service_error(form, error):
                    raise
                status = error.status_code
            else:
                messages.success(
                    request, f"Connected {channel}. Now paste the webhook URL and verify token below into Meta."
                )
                return redirect(f"{reverse('settings_web:channels')}#channel-{channel.pk}")
    return render(request, "accounts/settings/channel_form.html", _page_context(form=form), status=status)


@page(role=Role.CLIENT_ADMIN)
@require_http_methods(["GET", "POST"])
def channel_sandbox_new(request: PageRequest) -> HttpResponse:
    """Add a sandbox number: nothing to ask Meta, nothing to paste into Meta."""
    form = SandboxChannelForm(
        request.POST or None, account=request.account, initial={"name": "Sandbox", "handoff_rule": "unassigned"}
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                channel = sandbox_channel_create(
                    account=request.account,
                    actor=request.principal,
                    context=RequestContext.from_request(request),
                    **form.cleaned_data,
                )
            except ApplicationError as error:
                form.add_error(None, error.message)
                status = error.status_code
            else:
                messages.success(
                    request, f"Added the sandbox number {channel}. Write to it as a customer in the simulator."
                )
                return redirect(f"{reverse('settings_web:channels')}#channel-{channel.pk}")
    context = _page_context(form=form, max_sandbox_numbers=MAX_SANDBOX_NUMBERS)
    return render(request, "inbox/sandbox_form.html", context, status=status)


def _sandbox_edit(request: PageRequest, channel: Channel) -> HttpResponse:
    initial = {"name": channel.name, "default_agent": channel.default_agent, "handoff_rule": channel.handoff_rule}
    form = SandboxChannelForm(request.POST or None, account=request.account, initial=initial)
    if request.method == "POST" and form.is_valid():
        changes = form.changes(channel)
        if changes:
            channel_update(
                channel=channel, actor=request.principal, context=RequestContext.from_request(request), **changes
            )
            messages.success(request, f"Saved {channel}.")
        else:
            messages.info(request, f"Nothing to save: {channel} is as it was.")
        return redirect(f"{reverse('settings_web:channels')}#channel-{channel.pk}")
    context = _page_context(form=form, channel=channel, max_sandbox_numbers=MAX_SANDBOX_NUMBERS)
    return render(request, "inbox/sandbox_form.html", context, status=400 if request.method == "POST" else 200)


@page(role=Role.CLIENT_ADMIN)
@require_http_methods(["GET", "POST"])
def channel_edit(request: PageRequest, pk: int) -> HttpResponse:
    channel = _channel(request, pk)
    if channel.is_sandbox:
        return _sandbox_edit(request, channel)
    initial = {
        "name": channel.name,
        "display_phone_number": channel.display_phone_number,
        "business_account_id": channel.business_account_id,
        "default_agent": channel.default_agent,
        "handoff_rule": channel.handoff_rule,
    }
    form = ChannelEditForm(request.POST or None, account=request.account, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            changes = form.changes(channel)
            if changes:
                # The lookup leaves the secrets out; the service saves only the named fields.
                channel_update(
                    channel=channel, actor=request.principal, context=RequestContext.from_request(request), **changes
                )
                messages.success(request, f"Saved {channel}.")
            else:
                messages.info(request, f"Nothing to save: {channel} is as it was.")
            return redirect(f"{reverse('settings_web:channels')}#channel-{channel.pk}")
    context = _page_context(form=form, row=_row(channel), channel=channel)
    return render(request, "accounts/settings/channel_form.html", context, status=status)


@page(role=Role.CLIENT_ADMIN)
@require_POST
def channel_activate(request: PageRequest, pk: int) -> HttpResponse:
    return _switch(request, pk, active=True)


@page(role=Role.CLIENT_ADMIN)
@require_POST
def channel_deactivate(request: PageRequest, pk: int) -> HttpResponse:
    return _switch(request, pk, active=False)


def _switch(request: PageRequest, pk: int, *, active: bool) -> HttpResponse:
    channel = _channel(request, pk)
    channel_update(
        channel=channel, actor=request.principal, context=RequestContext.from_request(request), is_active=active
    )
    if active:
        messages.success(request, f"{channel} is active: its messages come into the inbox again.")
    else:
        messages.success(request, f"{channel} is deactivated: its messages are no longer taken into the inbox.")
    return redirect(f"{reverse('settings_web:channels')}#channel-{channel.pk}")
