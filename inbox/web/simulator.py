"""The customer simulator (/simulator/): a phone on which a person writes to a sandbox number as a
customer, and sees the replies the way the customer would.

Who may do what: every signed-in person of the tenant (VIEWER and above) opens the simulator and
reads its chats; writing as a customer, adding a customer, the read receipts the open chat sends and
the failure switches need the User role, like replying in the inbox. Only sandbox numbers have a
simulator: another tenant's number, or a real one, is the same 404 as a missing one.

Everything a customer does goes through `inbox.services.sandbox`, which hands Meta-shaped, signed
notifications to the WhatsApp webhook's own path; the chat reloads itself from the inbox's live feed
(see static/js/app.js), like the inbox's thread does.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST, require_safe

from accounts.models import Role
from accounts.scoping import tenant_rows
from accounts.services.audit import RequestContext
from accounts.web.pages import PageRequest, page, row_or_404
from core.web import is_htmx
from inbox.models import Channel, Conversation, Message, MessageDirection, MessageStatus, SandboxFailure
from inbox.services.sandbox import sandbox_customer_reads, sandbox_customer_writes, sandbox_failure_set
from inbox.web.forms import MAX_TEXT, Form

MAX_CUSTOMERS = 50  # listed beside the phone, most recent first
CHAT_SIZE = 60  # messages the phone shows
SHOWN_TO_CUSTOMER = (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.READ)
WA_ID = r"^\d{6,15}$"
NUMBER_HELP = "Digits only, with the country code, as WhatsApp writes it (e.g. 15550100123)."


# --- forms ------------------------------------------------------------------------------------------


class CustomerForm(Form):
    """Who the phone belongs to: a customer who wrote already, or a new one (a name and a number)."""

    name = forms.CharField(label="Name", max_length=60, required=False, strip=True)
    customer = forms.RegexField(
        label="WhatsApp number",
        regex=WA_ID,
        required=False,
        help_text=NUMBER_HELP,
        error_messages={"invalid": NUMBER_HELP},
    )


class SendForm(Form):
    customer = forms.RegexField(regex=WA_ID, error_messages={"invalid": NUMBER_HELP})
    name = forms.CharField(max_length=60, strip=True)
    text = forms.CharField(
        label="Message",
        max_length=MAX_TEXT,
        strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "Write as the customer"}),
    )


class ReadForm(Form):
    customer = forms.RegexField(regex=WA_ID)


class FailureForm(Form):
    failure = forms.ChoiceField(choices=SandboxFailure.choices, required=False)
    customer = forms.RegexField(regex=WA_ID, required=False)
    name = forms.CharField(max_length=60, required=False)


# --- what the phone shows ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Customer:
    wa_id: str
    name: str
    conversation: Conversation | None = None

    @property
    def query(self) -> str:
        """The address's query that opens this customer's chat."""
        return urlencode({"customer": self.wa_id, "name": self.name})


def _numbers(request: PageRequest) -> Any:
    return tenant_rows(Channel.objects.filter(is_sandbox=True), principal=request.principal).defer(
        "access_token", "verify_token"
    )


def _number(request: PageRequest, pk: int) -> Channel:
    """A sandbox number of the person's tenant: the same 404 for a missing, a real or a foreign one."""
    return row_or_404(request, _numbers(request), missing="This sandbox number does not exist (any more).", pk=pk)


def _customers(channel: Channel) -> list[Customer]:
    """The customers who wrote to the number, most recent first."""
    conversations = (
        Conversation.objects.filter(account_id=channel.account_id, channel=channel)
        .select_related("contact")
        .order_by("-last_message_at", "-id")[:MAX_CUSTOMERS]
    )
    return [Customer(c.contact.wa_id, c.contact.name or f"+{c.contact.wa_id}", c) for c in conversations]


def _selected(channel: Channel, customers: list[Customer], form: CustomerForm) -> Customer | None:
    """The customer the address names (a new one needs a name), else the one who wrote last."""
    if not form.is_valid():
        return None
    wa_id, name = form.cleaned_data["customer"], form.cleaned_data["name"]
    if not wa_id:
        if name:
            form.add_error("customer", "Give the new customer a WhatsApp number.")
            return None
        return customers[0] if customers else None
    for customer in customers:
        if customer.wa_id == wa_id:
            return customer
    conversation = (
        Conversation.objects.filter(account_id=channel.account_id, channel=channel, contact__wa_id=wa_id)
        .select_related("contact")
        .first()
    )
    if conversation is not None:
        return Customer(wa_id, conversation.contact.name or name or f"+{wa_id}", conversation)
    if not name:
        form.add_error("name", "Give the new customer a name: WhatsApp shows it as their profile name.")
        return None
    return Customer(wa_id, name)


def _chat_context(request: PageRequest, channel: Channel, customer: Customer | None) -> dict[str, Any]:
    """The messages on the customer's phone: theirs, and the replies WhatsApp delivered to it (a
    reply still queued, refused or undeliverable never reached the phone)."""
    shown: list[Message] = []
    if customer is not None and customer.conversation is None:
        # The customer may have written since the page was drawn: look for their conversation.
        conversation = Conversation.objects.filter(
            account_id=channel.account_id, channel=channel, contact__wa_id=customer.wa_id
        ).first()
        if conversation is not None:
            customer = Customer(customer.wa_id, customer.name, conversation)
    if customer is not None and customer.conversation is not None:
        visible = Q(direction=MessageDirection.INBOUND) | Q(
            direction=MessageDirection.OUTBOUND, external_id__isnull=False, status__in=SHOWN_TO_CUSTOMER
        )
        shown = list(
            Message.objects.filter(conversation=customer.conversation)
            .filter(visible)
            .order_by("-created_at", "-id")[:CHAT_SIZE]
        )
        shown.reverse()
    can_write = request.principal.has_role(Role.USER)
    return {
        "channel": channel,
        "customer": customer,
        "chat_messages": shown,
        "can_write": can_write,
        # The phone is open on this chat: the customer reads what was delivered (User role: a
        # viewer watching does not act for the customer).
        "mark_read": can_write
        and any(m.direction == MessageDirection.OUTBOUND and m.status == MessageStatus.DELIVERED for m in shown),
    }


def _phone_context(
    request: PageRequest, channel: Channel, customer: Customer | None, *, send_form: SendForm | None = None
) -> dict[str, Any]:
    return {**_chat_context(request, channel, customer), "send_form": send_form or SendForm()}


def _suggested_number() -> str:
    """A made-up number for a new simulated customer (+1 555 01…, like the demo's customers)."""
    return f"155501{secrets.randbelow(10**5):05d}"


def _number_url(channel: Channel, customer: Customer | None) -> str:
    url = reverse("simulator_web:number", args=[channel.pk])
    return f"{url}?{customer.query}" if customer is not None else url


# --- pages ------------------------------------------------------------------------------------------


@page()
@require_safe
def index(request: PageRequest) -> HttpResponse:
    """The tenant's sandbox numbers; with exactly one, its simulator at once."""
    numbers = list(_numbers(request).order_by("name", "id"))
    if len(numbers) == 1:
        return redirect("simulator_web:number", pk=numbers[0].pk)
    return render(request, "inbox/simulator_index.html", {"numbers": numbers})


@page()
@require_safe
def number(request: PageRequest, pk: int) -> HttpResponse:
    """The phone of one customer of a sandbox number, the other customers beside it."""
    channel = _number(request, pk)
    return _simulator_page(request, channel, CustomerForm(request.GET))


def _simulator_page(
    request: PageRequest,
    channel: Channel,
    customer_form: CustomerForm,
    *,
    send_form: SendForm | None = None,
    failure_error: str = "",
) -> HttpResponse:
    customers = _customers(channel)
    customer = _selected(channel, customers, customer_form)
    if customer is not None and all(c.wa_id != customer.wa_id for c in customers):
        customers.insert(0, customer)  # a new customer, who has not written yet
    invalid = bool(customer_form.errors) or bool(send_form and send_form.errors) or bool(failure_error)
    context = {
        **_phone_context(request, channel, customer, send_form=send_form),
        "customers": customers,
        "customer_form": (
            customer_form if customer_form.errors else CustomerForm(initial={"customer": _suggested_number()})
        ),
        "new_customer_open": bool(customer_form.errors),
        "numbers": list(_numbers(request).order_by("name", "id").only("id", "name", "display_phone_number")),
        "failure_choices": [choice for choice in SandboxFailure.choices if choice[0]],
        "failure_error": failure_error,
    }
    return render(request, "inbox/simulator.html", context, status=400 if invalid else 200)


@page()
@require_safe
def chat(request: PageRequest, pk: int) -> HttpResponse:
    """The phone's messages alone (the live feed reloads them)."""
    channel = _number(request, pk)
    form = CustomerForm(request.GET)
    customer = _selected(channel, [], form) if request.GET.get("customer") else None
    if form.errors:
        return HttpResponse("This customer is not valid.", status=400, content_type="text/plain")
    return render(request, "inbox/partials/simulator_chat.html", _chat_context(request, channel, customer))


@page(role=Role.USER)
@require_POST
def send(request: PageRequest, pk: int) -> HttpResponse:
    """Write to the sandbox number as the customer: the message takes the WhatsApp webhook's path."""
    channel = _number(request, pk)
    form = SendForm(request.POST)
    if not form.is_valid():
        if not is_htmx(request):
            return _simulator_page(request, channel, CustomerForm(request.POST), send_form=form)
        customer = None
        if not form.has_error("customer") and not form.has_error("name"):
            customer = _selected(channel, [], CustomerForm(request.POST))
        context = _phone_context(request, channel, customer, send_form=form)
        return render(request, "inbox/partials/simulator_phone.html", context, status=400)
    data = form.cleaned_data
    sandbox_customer_writes(
        channel=channel,
        wa_id=data["customer"],
        name=data["name"],
        text=data["text"],
        actor=request.principal,
        context=RequestContext.from_request(request),
    )
    customer = _selected(channel, [], CustomerForm({"customer": data["customer"], "name": data["name"]}))
    if is_htmx(request):
        return render(request, "inbox/partials/simulator_phone.html", _phone_context(request, channel, customer))
    return redirect(_number_url(channel, customer))


@page(role=Role.USER)
@require_POST
def read(request: PageRequest, pk: int) -> HttpResponse:
    """The customer read the replies delivered to them (the open chat sends this)."""
    channel = _number(request, pk)
    form = ReadForm(request.POST)
    if not form.is_valid():
        return HttpResponse("Name the customer by their WhatsApp number.", status=400, content_type="text/plain")
    sandbox_customer_reads(channel=channel, wa_id=form.cleaned_data["customer"])
    return HttpResponse(status=204)


@page(role=Role.USER)
@require_POST
def failure(request: PageRequest, pk: int) -> HttpResponse:
    """Make the number's next reply fail as WhatsApp would (or stop that)."""
    channel = _number(request, pk)
    form = FailureForm(request.POST)
    if not form.is_valid():
        return _simulator_page(
            request, channel, CustomerForm(request.POST), failure_error="Choose one of the failures offered."
        )
    sandbox_failure_set(
        channel=channel,
        failure=form.cleaned_data["failure"],
        actor=request.principal,
        context=RequestContext.from_request(request),
    )
    chosen = SandboxFailure(form.cleaned_data["failure"])
    if chosen == SandboxFailure.NONE:
        messages.success(request, f"Replies from {channel} are delivered again.")
    else:
        messages.success(request, f"The next reply from {channel} fails: {chosen.label}.")
    data = form.cleaned_data
    customer = Customer(data["customer"], data["name"]) if data["customer"] and data["name"] else None
    return redirect(_number_url(channel, customer))
