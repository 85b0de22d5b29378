"""The Settings area's landing page (CLIENT_ADMIN): what is set up, and the latest changes."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.models import Role
from accounts.scoping import tenant_rows
from accounts.selectors import api_key_list, audit_log_scope, user_list
from accounts.services.audit import RequestContext
from accounts.services.profile import account_time_zone_set
from accounts.web.audit import audit_rows
from accounts.web.common import settings_context, show_service_error
from accounts.web.pages import PageRequest, page
from accounts.web.profile import TimeZoneForm
from billing.services import billing_is_configured
from core.exceptions import ApplicationError
from inbox.models import Channel
from plugins.models import PluginInstallation

RECENT_ACTIVITY = 5


@page(role=Role.CLIENT_ADMIN)
def index(request: PageRequest) -> HttpResponse:
    return _overview(request, TimeZoneForm(initial={"time_zone": request.account.time_zone}, empty_label="UTC"))


def _overview(request: PageRequest, time_zone_form: TimeZoneForm, status: int = 200) -> HttpResponse:
    principal = request.principal
    recent = audit_log_scope(principal=principal)[:RECENT_ACTIVITY]
    context = settings_context(
        "overview",
        people=user_list(principal=principal).filter(is_active=True).count(),
        api_keys=api_key_list(principal=principal, filters={"is_active": "true"}).count(),
        channels=tenant_rows(Channel.objects.filter(is_active=True), principal=principal).count(),
        plugins=tenant_rows(PluginInstallation.objects.all(), principal=principal).count(),
        billing_configured=billing_is_configured(),
        recent=audit_rows(recent),
        time_zone_form=time_zone_form,
    )
    return render(request, "accounts/settings/index.html", context, status=status)


@page(role=Role.CLIENT_ADMIN)
@require_http_methods(["POST"])
def time_zone(request: PageRequest) -> HttpResponse:
    """The overview's form: the zone the workspace's people see times in unless they chose their own."""
    form = TimeZoneForm(request.POST, empty_label="UTC")
    if form.is_valid():
        try:
            account_time_zone_set(
                account=request.account,
                time_zone=form.cleaned_data["time_zone"],
                actor=request.principal,
                context=RequestContext.from_request(request),
            )
        except ApplicationError as error:
            if not show_service_error(form, error):
                raise
        else:
            messages.success(request, "Saved: the workspace’s time zone is set.")
            return redirect("settings_web:index")
    return _overview(request, form, status=400)
