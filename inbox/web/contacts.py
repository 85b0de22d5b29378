"""Contacts pages: the tenant's contacts, newest first and searched as the API searches them, and a
contact's page, where people with the User role edit it.

A big tenant has a hundred thousand contacts or more, so the table pages by position (keyset: the
creation time and id of the row a page ends at, read through the (account, -created_at) index) and
counts nothing: no page costs more than the first. Searching is the API's `ContactFilter` (trigram
indexes, migration 0008); writes go through `contact_update`, which audits them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_safe

from accounts.models import Role
from accounts.scoping import tenant_rows
from accounts.services.audit import RequestContext
from accounts.web.pages import PageRequest, page, row_or_404
from core.filters import filter_queryset, parse_id
from inbox.models import Contact, Conversation, Lead, LeadStatus
from inbox.selectors import ContactFilter
from inbox.services.crm import contact_update
from inbox.web.forms import ContactForm, Form

PAGE_SIZE = 50
NEWEST_FIRST = ("-created_at", "-id")
OLDEST_FIRST = ("created_at", "id")
# What a row of the table shows; `attributes` (free-form JSON, possibly large) is never shown.
SHOWN_FIELDS = ("id", "account_id", "name", "wa_id", "phone", "email", "created_at")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class Position:
    """Where a page of the table starts or ends: a contact's creation time and id (ties broken by id)."""

    created_at: datetime
    pk: int

    @classmethod
    def of(cls, contact: Contact) -> Position:
        return cls(contact.created_at, contact.pk)

    @classmethod
    def parse(cls, token: str) -> Position | None:
        """The position a link carries (`<microseconds since 1970>-<id>`), or None if it is not one."""
        micros, _, pk_text = token.partition("-")
        pk = parse_id(pk_text)  # a row id the database can compare with, or None
        if pk is None or not (micros.isascii() and micros.isdigit()):
            return None
        try:
            return cls(_EPOCH + int(micros) * _MICROSECOND, pk)
        except OverflowError:
            return None

    def token(self) -> str:
        return f"{(self.created_at - _EPOCH) // _MICROSECOND}-{self.pk}"

    def older(self) -> Q:
        # `created_at <= t` is what the index can seek to; the rest breaks ties at `t`.
        return Q(created_at__lte=self.created_at) & (Q(created_at__lt=self.created_at) | Q(pk__lt=self.pk))

    def newer(self) -> Q:
        return Q(created_at__gte=self.created_at) & (Q(created_at__gt=self.created_at) | Q(pk__gt=self.pk))


class PositionField(forms.CharField):
    """A page link's position; a link that was cut or made up is an error, not the first page."""

    def clean(self, value: Any) -> Position | None:
        text = super().clean(value)
        if not text:
            return None
        if (position := Position.parse(text)) is None:
            raise ValidationError("This page link is broken.", code="invalid")
        return position


class ContactSearchForm(Form):
    """The table's query string: the search and, on a page after the first, where it starts."""

    q = forms.CharField(
        label="Search",
        required=False,
        max_length=100,
        strip=True,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name, number or email"}),
    )
    before = PositionField(required=False, max_length=60)
    after = PositionField(required=False, max_length=60)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("before") and data.get("after"):
            raise ValidationError("A page starts either before or after a contact, not both.")
        return data


@page()
@require_safe
def contact_list(request: PageRequest) -> HttpResponse:
    form = ContactSearchForm(request.GET)
    if not form.is_valid():
        context = {"form": form, "contacts": [], "query": "", "first_page": True}
        return render(request, "inbox/contacts.html", context, status=400)
    return render(request, "inbox/contacts.html", {"form": form, **_table(request, form.cleaned_data)})


def _table(request: PageRequest, data: dict[str, Any]) -> dict[str, Any]:
    """One page of the table: its rows, and the positions of the links to the pages beside it."""
    search = data.get("q") or ""
    before: Position | None = data.get("before")
    after: Position | None = data.get("after")
    contacts = _shown(_searched(request, search))
    newer: Position | None
    older: Position | None
    if after is not None:  # newer rows, read oldest first from `after`, then shown newest first
        rows = list(contacts.filter(after.newer()).order_by(*OLDEST_FIRST)[: PAGE_SIZE + 1])
        if not rows:  # nothing is newer any more: the newest page is the one to show
            return _table(request, {"q": search})
        more_newer = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE][::-1]
        newer = Position.of(rows[0]) if more_newer else None
        older = Position.of(rows[-1])
    else:
        if before is not None:
            contacts = contacts.filter(before.older())
        rows = list(contacts.order_by(*NEWEST_FIRST)[: PAGE_SIZE + 1])
        more_older = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
        newer = Position.of(rows[0]) if before is not None and rows else None
        older = Position.of(rows[-1]) if more_older else None
    links = _Links()
    for contact in rows:
        links.add(_label(contact))
    query = {"q": search} if search else {}
    return {
        "contacts": rows,
        "query": urlencode(query),
        "searched": bool(search),
        "first_page": before is None and (after is None or newer is None),
        "newer_query": urlencode({**query, "after": newer.token()}) if newer else "",
        "older_query": urlencode({**query, "before": older.token()}) if older else "",
    }


@page()
def contact_edit(request: PageRequest, pk: int) -> HttpResponse:
    """The contact (everyone); its form saves for USER and above."""
    contact = _contact(request, pk)
    if request.method == "POST":
        return _contact_save(request, contact)
    return render(request, "inbox/contact_form.html", {"form": _form(contact), "contact": contact})


@page(role=Role.USER)
def _contact_save(request: PageRequest, contact: Contact) -> HttpResponse:
    form = _form(contact, data=request.POST)
    if not form.is_valid():
        return render(request, "inbox/contact_form.html", {"form": form, "contact": contact}, status=400)
    if changes := {name: form.cleaned_data[name] for name in form.changed_data}:
        contact_update(
            contact=contact, actor=request.principal, context=RequestContext.from_request(request), **changes
        )
    messages.success(request, f"Contact “{contact}” saved.")
    return redirect("contacts_web:list")


def _form(contact: Contact, data: Any = None) -> ContactForm:
    return ContactForm(data, initial={"name": contact.name, "phone": contact.phone, "email": contact.email})


def _contact(request: PageRequest, pk: int) -> Contact:
    """The tenant's contact `pk`; another tenant's is a 404 like a missing one."""
    return _label(row_or_404(request, _with_conversation_and_lead(Contact.objects.all()), pk=pk))


def _label(contact: Contact) -> Contact:
    """Set what the templates show beside the fields: the lead's status in words, and the phone
    only when it is another number than the WhatsApp one (it usually is the same, with a +)."""
    status = contact.lead_status  # type: ignore[attr-defined]
    contact.lead_status_label = LeadStatus(status).label if status else ""  # type: ignore[attr-defined]
    other = contact.phone and re.sub(r"[^0-9]", "", contact.phone) != contact.wa_id
    contact.other_phone = contact.phone if other else ""  # type: ignore[attr-defined]
    return contact


class _Links:
    """The addresses each row links to, built from one `reverse` per kind instead of three per row
    (150 `{% url %}` tags cost about 10 ms a page)."""

    _MARKER = 9_876_543_210

    def __init__(self) -> None:
        self.contact = self._pattern("contacts_web:edit")
        self.conversation = self._pattern("inbox_web:conversation")
        self.lead = self._pattern("leads_web:edit")

    def _pattern(self, name: str) -> tuple[str, str]:
        head, _, tail = reverse(name, args=[self._MARKER]).partition(str(self._MARKER))
        return head, tail

    def add(self, contact: Contact) -> None:
        contact.url = self._url(self.contact, contact.pk)  # type: ignore[attr-defined]
        contact.conversation_url = self._url(self.conversation, contact.conversation_id)  # type: ignore[attr-defined]
        contact.lead_url = self._url(self.lead, contact.lead_id)  # type: ignore[attr-defined]

    @staticmethod
    def _url(pattern: tuple[str, str], pk: int | None) -> str:
        return f"{pattern[0]}{pk}{pattern[1]}" if pk is not None else ""


def _searched(request: PageRequest, search: str) -> QuerySet[Contact]:
    scoped = tenant_rows(Contact.objects.all(), principal=request.principal)
    return filter_queryset(ContactFilter, data={"q": search}, queryset=scoped) if search else scoped


def _shown(contacts: QuerySet[Contact]) -> QuerySet[Contact]:
    return _with_conversation_and_lead(contacts.only(*SHOWN_FIELDS))


def _with_conversation_and_lead(contacts: QuerySet[Contact]) -> QuerySet[Contact]:
    """Each contact with `conversation_id` (their latest conversation, to open from the table) and
    `lead_id` / `lead_status` (their newest lead), in the page's one query, read per row by index."""
    of_contact = {"contact_id": OuterRef("pk"), "account_id": OuterRef("account_id")}
    latest_conversation: Any = Conversation.objects.filter(**of_contact).order_by("-last_message_at", "-id")
    newest_lead: Any = Lead.objects.filter(**of_contact).order_by("-created_at", "-id")
    return contacts.annotate(
        conversation_id=Subquery(latest_conversation.values("pk")[:1]),
        lead_id=Subquery(newest_lead.values("pk")[:1]),
        lead_status=Subquery(newest_lead.values("status")[:1]),
    )
