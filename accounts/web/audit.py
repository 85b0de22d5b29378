"""Settings → Audit log: who did what in the tenant, newest first, filtered as the audit API filters.

Each entry reads as a sentence with links (`accounts.web.audit_sentences`); its action code stays
beside it as a link that filters the log by that action."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.safestring import SafeString

from accounts.models import AuditLog, Role
from accounts.selectors import AuditLogFilter, actor_type, audit_log_actions, audit_log_scope
from accounts.web.audit_sentences import audit_sentence, resolve_targets
from accounts.web.common import settings_context, start_of_day, start_of_next_day
from accounts.web.forms import AuditFilterForm
from accounts.web.pages import PageRequest, page

PAGE_SIZE = 50
# The audit filter's argument → the form field a person typed it in.
FILTER_FIELDS = {"action": "action", "actor": "actor", "created_after": "date_from", "created_before": "date_to"}
ACTOR_KINDS = {"user": "", "api_key": "API key", "platform_key": "Platform key", "system": "System"}


@dataclass(frozen=True)
class AuditRow:
    entry: AuditLog
    actor: str
    actor_kind: str
    details: str
    sentence: SafeString


def _describe(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value) or "none"
    return str(value)


def audit_rows(entries: Iterable[AuditLog]) -> list[AuditRow]:
    """Entries as a person reads them: a sentence of who did what, and the recorded details in one line."""
    entries = list(entries)
    targets = resolve_targets(entries)
    rows = []
    for entry in entries:
        kind = actor_type(entry)
        actor = entry.actor_label.removeprefix("api_key:") if kind != "system" else "System"
        details = "; ".join(f"{key.replace('_', ' ')}: {_describe(value)}" for key, value in entry.metadata.items())
        sentence = audit_sentence(entry, targets)
        rows.append(
            AuditRow(entry=entry, actor=actor, actor_kind=ACTOR_KINDS[kind], details=details, sentence=sentence)
        )
    return rows


def _filter_data(form: AuditFilterForm) -> dict[str, str]:
    data = form.cleaned_data
    query: dict[str, str] = {}
    if data.get("action"):
        query["action"] = data["action"]
    if data.get("actor", "").strip():
        query["actor"] = data["actor"].strip()
    if data.get("date_from"):
        query["created_after"] = start_of_day(data["date_from"]).isoformat()
    if data.get("date_to") and (end := start_of_next_day(data["date_to"])) is not None:
        query["created_before"] = end.isoformat()
    return query


@page(role=Role.CLIENT_ADMIN)
def audit(request: PageRequest) -> HttpResponse:
    principal = request.principal
    form = AuditFilterForm(request.GET or None, actions=audit_log_actions(principal=principal))
    entries = audit_log_scope(principal=principal)
    status = 200
    if form.is_bound and not form.is_valid():
        entries, status = entries.none(), 400
    elif form.is_bound:
        filterset = AuditLogFilter(_filter_data(form), queryset=entries)
        if filterset.is_valid():
            entries = filterset.qs
        else:  # a date the database cannot compare, say: the audit filter's own checks
            for name, errors in filterset.errors.items():
                for error in errors:
                    form.add_error(FILTER_FIELDS.get(name), error)
            entries, status = entries.none(), 400
    page_obj = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    filtered = form.is_bound and any(request.GET.get(name) for name in FILTER_FIELDS.values())
    context = settings_context(
        "audit", form=form, page_obj=page_obj, rows=audit_rows(page_obj.object_list), filtered=filtered
    )
    return render(request, "accounts/settings/audit.html", context, status=status)
