"""Developers → API keys and usage: every key of the tenant with its requests per day, errors and
last use, and one key's usage day by day. Keys are created, rotated and revoked in Settings → API
keys; these pages only read (the accounts selectors, as the API keys API does)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.models import ApiKey, Role
from accounts.scoping import tenant_rows
from accounts.selectors import Usage, api_key_get, api_key_list, api_key_usage, api_key_usage_by_key, usage_total
from accounts.web.api_keys import KeyRow, key_row
from accounts.web.pages import PageRequest, found_or_404, page
from integrations.models import WebhookEndpoint
from integrations.web.charts import Chart, usage_chart, usage_sparkline
from integrations.web.common import developers_context
from integrations.web.forms import DEFAULT_USAGE_DAYS, USAGE_WINDOWS, UsageWindowForm


@dataclass(frozen=True)
class KeyUsageRow:
    row: KeyRow
    usage: Usage
    sparkline: Chart


def _window(request: PageRequest) -> tuple[UsageWindowForm, int]:
    """The number of days asked for (`?days=`), and whether the value was one offered."""
    form = UsageWindowForm(request.GET)
    days = form.cleaned_data["days"] if form.is_valid() else DEFAULT_USAGE_DAYS
    return form, days


def _window_links(days: int) -> list[tuple[int, str, bool]]:
    return [(value, label, value == days) for value, label in USAGE_WINDOWS]


@page(role=Role.CLIENT_ADMIN)
def index(request: PageRequest) -> HttpResponse:
    principal = request.principal
    form, days = _window(request)
    now = timezone.now()
    keys = sorted(api_key_list(principal=principal), key=lambda key: not key.is_active)  # active first, stable
    by_key = api_key_usage_by_key(principal=principal, days=days)
    empty = usage_total([], days=days)
    rows = [
        KeyUsageRow(row=key_row(key, now), usage=(usage := by_key.get(key.pk, empty)), sparkline=usage_sparkline(usage))
        for key in keys
    ]
    total = usage_total(by_key.values(), days=days)
    endpoints = tenant_rows(WebhookEndpoint.objects.all(), principal=request.principal).aggregate(
        total=Count("pk"),
        active=Count("pk", filter=Q(is_active=True)),
        failing=Count("pk", filter=Q(is_active=True, consecutive_failures__gt=0)),
    )
    context = developers_context(
        "api_keys",
        form=form,
        days=days,
        windows=_window_links(days),
        rows=rows,
        total=total,
        chart=usage_chart(total),
        active_keys=sum(1 for row in rows if row.row.status in ("active", "rotating")),
        endpoints=endpoints,
    )
    return render(request, "integrations/developers/index.html", context, status=200 if form.is_valid() else 400)


def _key(request: PageRequest, pk: int) -> ApiKey:
    return found_or_404(request, lambda: api_key_get(principal=request.principal, pk=pk))


@page(role=Role.CLIENT_ADMIN)
def api_key_usage_page(request: PageRequest, pk: int) -> HttpResponse:
    key = _key(request, pk)
    form, days = _window(request)
    usage = api_key_usage(principal=request.principal, api_key=key, days=days)
    context = developers_context(
        "api_keys",
        key=key,
        row=key_row(key, timezone.now()),
        form=form,
        days=days,
        windows=_window_links(days),
        usage=usage,
        newest_first=list(reversed(usage.days)),
        chart=usage_chart(usage),
    )
    status = 200 if form.is_valid() else 400
    return render(request, "integrations/developers/api_key_usage.html", context, status=status)
