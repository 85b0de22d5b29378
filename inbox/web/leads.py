"""Leads pages: the table with the API's filters, its CSV export, and a lead's form.

Filtering is the API's `LeadFilter`, the export is the API's CSV (`inbox.exports`), and writes go
through `lead_create` / `lead_update`, which audit them.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.views.decorators.http import require_safe

from accounts.models import Role
from accounts.scoping import tenant_rows
from accounts.services.audit import RequestContext
from accounts.web.pages import PageRequest, page, row_or_404
from core.filters import filter_queryset
from inbox.exports import leads_csv_response
from inbox.models import Conversation, Lead
from inbox.selectors import LeadFilter
from inbox.services.crm import lead_create, lead_update
from inbox.web.forms import LeadFilterForm, LeadForm

PAGE_SIZE = 50


@page()
@require_safe
def lead_list(request: PageRequest) -> HttpResponse:
    filters = LeadFilterForm(request.GET)
    if not filters.is_valid():
        context = {"filters": filters, "leads": [], "page_obj": None, "query": ""}
        return render(request, "inbox/leads.html", context, status=400)
    leads = _with_conversation(_filtered(request, filters).select_related("contact"))
    page_obj = Paginator(leads, PAGE_SIZE).get_page(request.GET.get("page"))
    query = filters.query()
    return render(
        request,
        "inbox/leads.html",
        {
            "filters": filters,
            "leads": page_obj.object_list,
            "page_obj": page_obj,
            "query": urlencode(query),
            "filtered": bool(query),
        },
    )


@page()
@require_safe
def lead_export(request: PageRequest) -> HttpResponse:
    """Every lead the filters match, as the API's CSV, downloaded as a file."""
    filters = LeadFilterForm(request.GET)
    if not filters.is_valid():
        return render(request, "inbox/leads.html", {"filters": filters, "leads": [], "page_obj": None}, status=400)
    # A streamed file; `page` passes any response through.
    return cast(HttpResponse, leads_csv_response(_filtered(request, filters)))


@page(role=Role.USER)
def lead_new(request: PageRequest) -> HttpResponse:
    form = LeadForm(request.POST or None, initial={"status": "new", "score": 0})
    if request.method == "POST":
        if form.is_valid():
            lead = lead_create(
                account=request.account,
                actor=request.principal,
                context=RequestContext.from_request(request),
                **form.cleaned_data,
            )
            messages.success(request, f"Lead “{lead.name}” created.")
            return redirect("leads_web:list")
        return render(request, "inbox/lead_form.html", {"form": form, "lead": None}, status=400)
    return render(request, "inbox/lead_form.html", {"form": form, "lead": None})


@page()
def lead_edit(request: PageRequest, pk: int) -> HttpResponse:
    """The lead (everyone); its form saves for USER and above."""
    lead = _lead(request, pk)
    if request.method == "POST":
        return _lead_save(request, lead)
    return render(request, "inbox/lead_form.html", {"form": LeadForm(instance=lead), "lead": lead})


@page(role=Role.USER)
def _lead_save(request: PageRequest, lead: Lead) -> HttpResponse:
    form = LeadForm(request.POST, instance=lead)
    if not form.is_valid():
        return render(request, "inbox/lead_form.html", {"form": form, "lead": _lead(request, lead.pk)}, status=400)
    if changes := {name: form.cleaned_data[name] for name in form.changed_data}:
        lead_update(lead=lead, actor=request.principal, context=RequestContext.from_request(request), **changes)
    messages.success(request, f"Lead “{lead.name}” saved.")
    return redirect("leads_web:list")


def _lead(request: PageRequest, pk: int) -> Lead:
    """The tenant's lead `pk`; another tenant's is a 404 like a missing one."""
    return row_or_404(request, _with_conversation(Lead.objects.select_related("contact")), pk=pk)


def _filtered(request: PageRequest, filters: LeadFilterForm) -> QuerySet[Lead]:
    scoped = tenant_rows(Lead.objects.all(), principal=request.principal)
    return filter_queryset(LeadFilter, data=filters.selector_filters(), queryset=scoped)


def _with_conversation(leads: QuerySet[Lead]) -> QuerySet[Lead]:
    """Each lead with `conversation_id`: its contact's latest conversation, to open from the table."""
    latest: Any = (
        Conversation.objects.filter(contact_id=OuterRef("contact_id"), account_id=OuterRef("account_id"))
        .order_by("-last_message_at", "-id")
        .values("pk")[:1]
    )
    return leads.annotate(conversation_id=Subquery(latest))
