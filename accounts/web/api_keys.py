"""Settings → API keys: list, create, rotate and revoke the tenant's integration keys.

The full key exists only in the answer to creating or rotating it. That answer is sent to an htmx
request (the page's address stays the form's, so reloading it shows an empty form, never the key
again) and is never cached; every other page shows the key's prefix only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import ApiKey, Role
from accounts.selectors import api_key_get, api_key_list
from accounts.services.api_keys import IssuedKey, api_key_create, api_key_revoke, api_key_rotate
from accounts.services.audit import RequestContext
from accounts.web.common import end_of_day, settings_context, show_service_error
from accounts.web.forms import ApiKeyCreateForm, ApiKeyRotateForm
from accounts.web.pages import PageRequest, found_or_404, page
from core.exceptions import ApplicationError
from core.web import is_htmx, secret_shown_once


@dataclass(frozen=True)
class KeyRow:
    """A key as the list shows it: never its secret."""

    key: ApiKey
    status: str  # active, rotating, expired, revoked
    label: str


def key_row(key: ApiKey, now: datetime) -> KeyRow:
    if not key.is_active:
        return KeyRow(key, "revoked", "Revoked")
    if key.expires_at is not None and key.expires_at <= now:
        return KeyRow(key, "expired", "Expired")
    if key.previous_valid_until is not None and key.previous_valid_until > now:
        return KeyRow(key, "rotating", "Active, old secret in grace")
    return KeyRow(key, "active", "Active")


def _template(request: PageRequest, name: str, *, partial: str | None = None) -> str:
    """The whole page, or for htmx only the fragment it swaps in (`partials/<partial or name>`)."""
    if is_htmx(request):
        return f"accounts/settings/partials/{partial or name}.html"
    return f"accounts/settings/{name}.html"


def _key(request: PageRequest, pk: int) -> ApiKey:
    return found_or_404(request, lambda: api_key_get(principal=request.principal, pk=pk))


@page(role=Role.CLIENT_ADMIN)
def api_keys(request: PageRequest) -> HttpResponse:
    now = timezone.now()
    rows = [key_row(key, now) for key in api_key_list(principal=request.principal)]
    return render(request, "accounts/settings/api_keys.html", settings_context("api_keys", rows=rows))


def _issued(request: PageRequest, issued: IssuedKey, *, rotated: bool, status: int) -> HttpResponse:
    context = settings_context(
        "api_keys", issued=issued, rotated=rotated, me_url=f"{settings.SITE_URL}/api/v1/me", now=timezone.now()
    )
    return secret_shown_once(
        request,
        template="accounts/settings/api_key_issued.html",
        partial="accounts/settings/partials/api_key_issued.html",
        context=context,
        status=status,
    )


@page(role=Role.CLIENT_ADMIN)
@require_http_methods(["GET", "POST"])
def api_key_new(request: PageRequest) -> HttpResponse:
    form = ApiKeyCreateForm(request.POST or None, actor=request.principal)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                issued = api_key_create(
                    account=request.account,
                    name=data["name"],
                    scopes=data["scopes"],
                    expires_at=end_of_day(data["expires_on"]) if data["expires_on"] else None,
                    actor=request.principal,
                    context=RequestContext.from_request(request),
                )
            except ApplicationError as error:
                if not show_service_error(form, error, fields={"expires_at": "expires_on"}):
                    raise
                status = error.status_code
            else:
                return _issued(request, issued, rotated=False, status=201)
    template = _template(request, "api_key_new", partial="api_key_form")
    return render(request, template, settings_context("api_keys", form=form), status=status)


@page(role=Role.CLIENT_ADMIN)
def api_key_detail(request: PageRequest, pk: int) -> HttpResponse:
    row = key_row(_key(request, pk), timezone.now())
    context = settings_context("api_keys", row=row, key=row.key, form=ApiKeyRotateForm())
    return render(request, "accounts/settings/api_key_detail.html", context)


@page(role=Role.CLIENT_ADMIN)
@require_POST
def api_key_rotate_view(request: PageRequest, pk: int) -> HttpResponse:
    key = _key(request, pk)
    form = ApiKeyRotateForm(request.POST)
    if form.is_valid():
        issued = api_key_rotate(
            api_key=key,
            grace_seconds=form.cleaned_data["grace_seconds"],
            actor=request.principal,
            context=RequestContext.from_request(request),
        )
        return _issued(request, issued, rotated=True, status=200)
    context = settings_context("api_keys", row=key_row(key, timezone.now()), key=key, form=form)
    template = _template(request, "api_key_detail", partial="api_key_rotate_form")
    return render(request, template, context, status=400)


@page(role=Role.CLIENT_ADMIN)
@require_POST
def api_key_revoke_view(request: PageRequest, pk: int) -> HttpResponse:
    key = api_key_revoke(
        api_key=_key(request, pk), actor=request.principal, context=RequestContext.from_request(request)
    )
    messages.success(request, f"The key “{key.name}” ({key.prefix}) is revoked: it no longer works.")
    return redirect("settings_web:api_keys")
