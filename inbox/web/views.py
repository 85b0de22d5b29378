"""Inbox pages: the conversation list, an open thread beside it, and what a person does there.

Reads go through `inbox.selectors` and writes through the same services the REST API calls
(`message_send`, `conversation_update`, `contact_update`, `lead_*`), so the rules — the 24-hour
window, who may hold a conversation, audit rows, live events — are theirs. Apps above the inbox add
actions to a thread with `thread_conversation` and `thread_controls_response` (handoff's "Take over").

The page is made of regions that reload themselves from the live feed (see static/js/app.js):
the list, the thread's messages, its composer and its controls. The composer and the controls
answer 204 (nothing to swap) when what they show has not changed, so a message arriving never
wipes a reply being typed or a choice being made.
"""

from __future__ import annotations

import hashlib
import posixpath
from datetime import timedelta
from typing import Any, cast

from django.conf import settings
from django.core.files.storage import default_storage
from django.db.models import OuterRef, Prefetch, QuerySet, Subquery
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.views.decorators.http import require_POST, require_safe

from accounts.models import Role, User
from accounts.services.audit import RequestContext
from accounts.web.pages import PageRequest, page, row_or_404
from core.web import is_htmx
from inbox.hooks import agent_directory
from inbox.models import Channel, Conversation, Label, Lead, Message
from inbox.selectors import conversation_list, label_names_attach, message_list
from inbox.services.conversations import conversation_mark_read, conversation_update
from inbox.services.crm import contact_update, lead_create, lead_update
from inbox.services.messages import customer_window_open, message_send
from inbox.web.forms import (
    AssignForm,
    ContactForm,
    ConversationFilterForm,
    InboxChoices,
    LabelForm,
    LeadForm,
    PriorityForm,
    ReplyForm,
    StatusForm,
    TemplateForm,
)

# The status changes offered as buttons (snoozing asks for a time).
STATUS_BUTTONS = {"open": "Reopen", "pending": "Mark pending", "resolved": "Resolve"}

PAGE_SIZE = 25  # conversations per "Show more"
MAX_PAGES = 20
THREAD_SIZE = 40  # messages per "Show earlier messages"
MAX_THREAD = 1000

# Media a browser may show inline; anything else (SVG, HTML, PDF, ...) is downloaded as a file.
INLINE_MEDIA = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/webp",
        "image/gif",
        "audio/ogg",
        "audio/mpeg",
        "audio/mp4",
        "audio/aac",
        "audio/amr",
        "video/mp4",
        "video/3gpp",
    }
)


# --- pages ----------------------------------------------------------------------------------------


@page()
@require_safe
def conversations(request: PageRequest) -> HttpResponse:
    """The list; on a wide screen an invitation to pick a conversation beside it."""
    return _inbox_page(request, conversation=None)


@page()
@require_safe
def conversation_detail(request: PageRequest, pk: int) -> HttpResponse:
    """The list with one conversation open beside it (on a phone: the conversation alone)."""
    return _inbox_page(request, conversation=_conversation(request, pk))


@page()
@require_safe
def conversation_messages(request: PageRequest, pk: int) -> HttpResponse:
    conversation = _conversation(request, pk)
    shown = _bounded(request.GET.get("shown"), default=THREAD_SIZE, maximum=MAX_THREAD)
    return render(request, "inbox/partials/messages.html", _messages_context(request, conversation, shown=shown))


@page()
@require_safe
def conversation_composer(request: PageRequest, pk: int) -> HttpResponse:
    """The reply box; 204 when the 24-hour window is as the page already shows it."""
    conversation = _conversation(request, pk)
    if not request.principal.has_role(Role.USER):
        return HttpResponse(status=204)
    window = "open" if customer_window_open(conversation) else "closed"
    if request.GET.get("window") == window:
        return HttpResponse(status=204)
    return render(request, "inbox/partials/composer.html", _composer_context(conversation))


@page()
@require_safe
def conversation_controls(request: PageRequest, pk: int) -> HttpResponse:
    """Status, assignment and labels; 204 when none of them changed since the page showed them."""
    conversation = _conversation(request, pk)
    if request.GET.get("v") == _state_version(conversation):
        return HttpResponse(status=204)
    return render(request, "inbox/partials/controls.html", _controls_context(request, conversation))


@page()
@require_safe
def message_media(request: PageRequest, pk: int, message_id: int) -> HttpResponse:
    """A downloaded WhatsApp media file, for the tenant's people only."""
    message = row_or_404(
        request, Message.objects.filter(conversation_id=pk).only("id", "account_id", "media"), pk=message_id
    )
    media = message.media if isinstance(message.media, dict) else {}
    name = str(media.get("file") or "")
    # Only files the download task stored for this tenant (whatsapp/<account id>/...).
    if media.get("download_status") != "stored" or not name.startswith(f"whatsapp/{request.account.pk}/"):
        raise Http404
    try:
        handle = default_storage.open(name)
    except (FileNotFoundError, OSError):
        raise Http404 from None
    mime_type = str(media.get("mime_type") or "").split(";")[0].strip().lower()
    inline = mime_type in INLINE_MEDIA
    response = FileResponse(
        handle,
        as_attachment=not inline,
        filename=str(media.get("filename") or posixpath.basename(name)),
        content_type=mime_type if inline else "application/octet-stream",
    )
    response["Cache-Control"] = "private, max-age=3600"
    return cast(HttpResponse, response)  # a streamed file; `page` passes any response through


# --- actions (USER and above, like the API) -------------------------------------------------------


@page(role=Role.USER)
@require_POST
def reply(request: PageRequest, pk: int) -> HttpResponse:
    """Send free text, or an approved template (the only thing WhatsApp allows after 24 hours)."""
    conversation = _conversation(request, pk)
    if "template" in request.POST:
        template_form = TemplateForm(request.POST)
        if not template_form.is_valid():
            return _respond(request, conversation, "composer", ok=False, template_form=template_form)
        message_send(
            conversation=conversation,
            actor=request.principal,
            context=RequestContext.from_request(request),
            template=template_form.as_template(),
        )
    else:
        reply_form = ReplyForm(request.POST)
        if not reply_form.is_valid():
            return _respond(request, conversation, "composer", ok=False, reply_form=reply_form)
        message_send(
            conversation=conversation,
            actor=request.principal,
            context=RequestContext.from_request(request),
            text=reply_form.cleaned_data["text"],
        )
    response = _respond(request, conversation, "composer", ok=True)
    response["HX-Trigger"] = "inbox:sent"
    return response


@page(role=Role.USER)
@require_POST
def change_status(request: PageRequest, pk: int) -> HttpResponse:
    conversation = _conversation(request, pk)
    form = StatusForm(request.POST)
    if not form.is_valid():
        return _respond(request, conversation, "controls", ok=False, status_form=form)
    changes: dict[str, Any] = {"status": form.cleaned_data["status"]}
    if form.cleaned_data["snoozed_until"] is not None:
        changes["snoozed_until"] = form.cleaned_data["snoozed_until"]
    _update(request, conversation, **changes)
    return _respond(request, conversation, "controls", ok=True)


@page(role=Role.USER)
@require_POST
def change_priority(request: PageRequest, pk: int) -> HttpResponse:
    conversation = _conversation(request, pk)
    form = PriorityForm(request.POST)
    if not form.is_valid():
        return _respond(request, conversation, "controls", ok=False, priority_form=form)
    _update(request, conversation, priority=form.cleaned_data["priority"])
    return _respond(request, conversation, "controls", ok=True)


@page(role=Role.USER)
@require_POST
def assign(request: PageRequest, pk: int) -> HttpResponse:
    """Give the conversation to a teammate, to an AI agent, or to nobody."""
    conversation = _conversation(request, pk)
    form = AssignForm(request.POST, choices=_choices(request))
    if not form.is_valid():
        return _respond(request, conversation, "controls", ok=False, assign_form=form)
    _update(request, conversation, **form.changes())
    return _respond(request, conversation, "controls", ok=True)


@page(role=Role.USER)
@require_POST
def change_labels(request: PageRequest, pk: int) -> HttpResponse:
    conversation = _conversation(request, pk)
    form = LabelForm(request.POST, current=_label_names(conversation))
    if not form.is_valid():
        return _respond(request, conversation, "controls", ok=False, label_form=form)
    _update(request, conversation, labels=form.labels())
    return _respond(request, conversation, "controls", ok=True)


@page(role=Role.USER)
@require_POST
def mark_read(request: PageRequest, pk: int) -> HttpResponse:
    conversation_mark_read(conversation=_conversation(request, pk), actor=request.principal)
    return HttpResponse(status=204) if is_htmx(request) else redirect("inbox_web:conversation", pk=pk)


@page(role=Role.USER)
@require_POST
def edit_contact(request: PageRequest, pk: int) -> HttpResponse:
    conversation = _conversation(request, pk)
    contact = conversation.contact
    form = ContactForm(request.POST, initial={"name": contact.name, "phone": contact.phone, "email": contact.email})
    if not form.is_valid():
        return _respond(request, conversation, "contact", ok=False, contact_form=form)
    if changes := {name: form.cleaned_data[name] for name in form.changed_data}:
        contact_update(
            contact=contact, actor=request.principal, context=RequestContext.from_request(request), **changes
        )
    return _respond(request, conversation, "contact", ok=True, saved="contact")


@page(role=Role.USER)
@require_POST
def save_lead(request: PageRequest, pk: int) -> HttpResponse:
    """Create the contact's lead, or update it."""
    conversation = _conversation(request, pk)
    lead = _lead_of(conversation)
    form = LeadForm(request.POST, instance=lead) if lead else LeadForm(request.POST)
    if not form.is_valid():
        return _respond(request, conversation, "contact", ok=False, lead_form=form)
    context = RequestContext.from_request(request)
    if lead is None:
        lead_create(
            account=request.account,
            actor=request.principal,
            context=context,
            contact=conversation.contact,
            **form.cleaned_data,
        )
    elif changes := {name: form.cleaned_data[name] for name in form.changed_data}:
        lead_update(lead=lead, actor=request.principal, context=context, **changes)
    return _respond(request, conversation, "contact", ok=True, saved="lead")


# --- for actions the apps above the inbox add to a thread -----------------------------------------


def thread_conversation(request: PageRequest, pk: int) -> Conversation:
    """The tenant's conversation `pk`, loaded as the thread shows it; another tenant's is a 404."""
    return _conversation(request, pk)


def thread_controls_response(request: PageRequest, conversation: Conversation, *, ok: bool) -> HttpResponse:
    """After an action on the thread's controls: the controls again (htmx), else the thread."""
    return _respond(request, conversation, "controls", ok=ok)


# --- building the page ----------------------------------------------------------------------------


def _conversation(request: PageRequest, pk: int) -> Conversation:
    """The tenant's conversation `pk`; another tenant's is a 404 like a missing one."""
    queryset = Conversation.objects.select_related("account", "contact", "assignee", "agent").prefetch_related(
        Prefetch("labels", queryset=Label.objects.order_by("name"))
    )
    return row_or_404(request, queryset, pk=pk)


def _choices(request: PageRequest) -> InboxChoices:
    account = request.account
    return InboxChoices(
        teammates=list(User.objects.filter(account=account, is_active=True).order_by("full_name", "email")),
        agents=list(agent_directory().active(account_id=account.pk).order_by("name")),
        # Names only: a channel row carries encrypted tokens, costly to load and never shown here.
        channels=list(Channel.objects.filter(account=account).only("id", "name", "display_phone_number", "account_id")),
        labels=list(Label.objects.filter(account=account).order_by("name").values_list("name", flat=True)),
    )


def _inbox_page(request: PageRequest, conversation: Conversation | None, **overrides: Any) -> HttpResponse:
    choices = _choices(request)
    filters = ConversationFilterForm(request.GET, choices=choices)
    list_context = _list_context(request, filters, choices, current=conversation)
    status = 200 if filters.is_valid() else 400
    if _htmx_target(request) == "conversation-list":
        return render(request, "inbox/partials/conversation_list.html", list_context, status=status)
    context: dict[str, Any] = {**list_context, "filters": filters, "current": conversation}
    if conversation is not None:
        context.update(_thread_context(request, conversation, choices=choices, **overrides))
    if any(getattr(form, "errors", None) for form in overrides.values()):
        status = 400
    return render(request, "inbox/conversations.html", context, status=status)


def _list_context(
    request: PageRequest, filters: ConversationFilterForm, choices: InboxChoices, *, current: Conversation | None
) -> dict[str, Any]:
    if not filters.is_valid():
        return {"rows": [], "filters": filters, "filter_errors": True, "pages": 1}
    pages = filters.cleaned_data.get("pages") or 1
    limit = pages * PAGE_SIZE
    queryset = conversation_list(principal=request.principal, filters=filters.selector_filters())
    rows = list(_with_last_message_id(queryset.select_related("assignee", "agent"))[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    last_messages = Message.objects.only("id", "direction", "type", "text").in_bulk(
        [row.last_message_id for row in rows if row.last_message_id]  # type: ignore[attr-defined]
    )
    label_names_attach(rows)
    channel_names = choices.channel_names
    for row in rows:
        row.last_message = last_messages.get(row.last_message_id)  # type: ignore[attr-defined]
        row.channel_name = channel_names.get(row.channel_id, "")  # type: ignore[attr-defined]
    return {
        "rows": rows,
        "filters": filters,
        "current": current,
        "pages": pages,
        "has_more": has_more and pages < MAX_PAGES,
        # The list stops growing here: say so, instead of a "Show more" that silently disappears.
        "capped": len(rows) if has_more and pages >= MAX_PAGES else 0,
        "query": urlencode(filters.query()),
        "more_query": urlencode(filters.query(pages=pages + 1)),
        "filtered": bool(filters.selector_filters()),
        "several_channels": len(choices.channels) > 1,
    }


def _with_last_message_id(queryset: QuerySet[Conversation]) -> QuerySet[Conversation]:
    newest = Message.objects.filter(conversation=OuterRef("pk")).order_by("-created_at", "-id").values("pk")[:1]
    return queryset.annotate(last_message_id=Subquery(newest))


def _thread_context(
    request: PageRequest, conversation: Conversation, *, choices: InboxChoices | None = None, **overrides: Any
) -> dict[str, Any]:
    context = {
        **_messages_context(request, conversation, shown=THREAD_SIZE),
        **_controls_context(request, conversation, choices=choices, **overrides),
        **_contact_context(conversation, **overrides),
    }
    if request.principal.has_role(Role.USER):
        context.update(_composer_context(conversation, **overrides))
    return context


def _messages_context(request: PageRequest, conversation: Conversation, *, shown: int) -> dict[str, Any]:
    newest_first = list(
        message_list(conversation=conversation)
        .select_related("sender_user", "sender_agent")
        .order_by("-created_at", "-id")[: shown + 1]
    )
    return {
        "conversation": conversation,
        "thread_messages": newest_first[:shown][::-1],
        "shown": shown,
        "earlier": min(shown + THREAD_SIZE, MAX_THREAD) if len(newest_first) > shown and shown < MAX_THREAD else 0,
        "capped": shown if len(newest_first) > shown and shown >= MAX_THREAD else 0,
        "mark_read": bool(conversation.unread_count) and request.principal.has_role(Role.USER),
    }


def _composer_context(conversation: Conversation, **overrides: Any) -> dict[str, Any]:
    window_open = customer_window_open(conversation)
    closes_at = (
        conversation.last_inbound_at + timedelta(hours=settings.CUSTOMER_SERVICE_WINDOW_HOURS)
        if conversation.last_inbound_at
        else None
    )
    return {
        "conversation": conversation,
        "window_open": window_open,
        "window_closes_at": closes_at,
        "reply_form": overrides.get("reply_form") or ReplyForm(),
        "template_form": overrides.get("template_form") or TemplateForm(),
    }


def _controls_context(
    request: PageRequest, conversation: Conversation, *, choices: InboxChoices | None = None, **overrides: Any
) -> dict[str, Any]:
    choices = choices or _choices(request)
    if conversation.agent_id:
        holder = f"agent:{conversation.agent_id}"
    elif conversation.assignee_id:
        holder = f"user:{conversation.assignee_id}"
    else:
        holder = ""
    return {
        "conversation": conversation,
        "state_version": _state_version(conversation),
        "label_names": _label_names(conversation),
        "status_buttons": [(value, label) for value, label in STATUS_BUTTONS.items() if value != conversation.status],
        "known_labels": choices.labels,
        "me": request.principal.user,
        "status_form": overrides.get("status_form")
        or StatusForm(initial={"status": conversation.status, "snoozed_until": conversation.snoozed_until}),
        "priority_form": overrides.get("priority_form") or PriorityForm(initial={"priority": conversation.priority}),
        "assign_form": overrides.get("assign_form") or AssignForm(initial={"to": holder}, choices=choices),
        "label_form": overrides.get("label_form") or LabelForm(current=_label_names(conversation)),
    }


def _contact_context(conversation: Conversation, **overrides: Any) -> dict[str, Any]:
    contact = conversation.contact
    lead = _lead_of(conversation)
    if lead is not None:
        lead_form = LeadForm(instance=lead)
    else:
        lead_form = LeadForm(
            initial={
                "name": contact.name or contact.wa_id,
                "phone": contact.phone,
                "email": contact.email,
                "source": "whatsapp",
            }
        )
    return {
        "contact": contact,
        "lead": lead,
        "contact_form": overrides.get("contact_form")
        or ContactForm(initial={"name": contact.name, "phone": contact.phone, "email": contact.email}),
        "lead_form": overrides.get("lead_form") or lead_form,
        "saved": overrides.get("saved", ""),
    }


def _respond(
    request: PageRequest, conversation: Conversation, part: str, *, ok: bool, **overrides: Any
) -> HttpResponse:
    """After an action: the changed region (htmx), else back to the conversation (or the page with
    the form's errors, 400)."""
    if not is_htmx(request):
        if ok:
            return redirect("inbox_web:conversation", pk=conversation.pk)
        return _inbox_page(request, _conversation(request, conversation.pk), **overrides)
    fresh = _conversation(request, conversation.pk)
    if part == "composer":
        context = _composer_context(fresh, **overrides)
        template = "inbox/partials/composer.html"
    elif part == "controls":
        context = _controls_context(request, fresh, **overrides)
        template = "inbox/partials/controls.html"
    else:
        context = _contact_context(fresh, **overrides)
        template = "inbox/partials/contact.html"
    return render(request, template, {**context, "conversation": fresh}, status=200 if ok else 400)


def _update(request: PageRequest, conversation: Conversation, **changes: Any) -> None:
    conversation_update(
        conversation=conversation, actor=request.principal, context=RequestContext.from_request(request), **changes
    )


def _lead_of(conversation: Conversation) -> Lead | None:
    return (
        Lead.objects.filter(account_id=conversation.account_id, contact_id=conversation.contact_id)
        .order_by("-created_at", "-id")
        .first()
    )


def _label_names(conversation: Conversation) -> list[str]:
    return sorted(label.name for label in conversation.labels.all())


def _state_version(conversation: Conversation) -> str:
    """A short fingerprint of what the controls show; equal fingerprints need no reload."""
    state = (
        conversation.status,
        conversation.snoozed_until,
        conversation.priority,
        conversation.assignee_id,
        conversation.agent_id,
        conversation.awaiting_agent_since is not None,
        _label_names(conversation),
    )
    return hashlib.sha256(repr(state).encode()).hexdigest()[:16]


def _bounded(value: str | None, *, default: int, maximum: int) -> int:
    if value and value.isascii() and value.isdigit():
        return max(1, min(int(value), maximum))
    return default


def _htmx_target(request: PageRequest) -> str | None:
    """The id of the element an htmx request will swap (HX-Target), if any."""
    htmx = getattr(request, "htmx", None)
    return htmx.target if htmx else None
