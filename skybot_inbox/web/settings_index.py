"""The Settings area's landing page (CLIENT_ADMIN): what is set up, and the latest changes."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from accounts.models import Role
from accounts.scoping import tenant_rows
from accounts.selectors import api_key_list, audit_log_scope, user_list
from accounts.web.audit import audit_rows
from accounts.web.common import settings_context
from accounts.web.pages import PageRequest, page
from billing.services import billing_is_configured
from inbox.models import Channel
from plugins.models import PluginInstallation

RECENT_ACTIVITY = 5


@page(role=Role.CLIENT_ADMIN)
def index(request: PageRequest) -> HttpResponse:
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
    )
    return render(request, "accounts/settings/index.html", context)
