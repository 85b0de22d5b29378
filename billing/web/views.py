"""Settings → Billing: open the external billing portal, signed in, through the billing SSO service."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.services.audit import RequestContext
from accounts.web.common import settings_context
from accounts.web.pages import PageRequest, page
from billing.services import billing_is_configured, billing_sso_issue


def _portal_origin() -> str:
    parts = urlsplit(settings.BILLING_PORTAL_URL)
    return f"{parts.scheme}://{parts.netloc}"


@page(role=Role.CLIENT_ADMIN)
def billing(request: PageRequest) -> HttpResponse:
    configured = billing_is_configured()
    context = settings_context(
        "billing", configured=configured, portal_host=urlsplit(settings.BILLING_PORTAL_URL).netloc
    )
    response = render(request, "billing/settings.html", context)
    if configured:
        # The portal button's POST answers a redirect to the portal: the page's CSP must let the form go there.
        response._csp_update = {"form-action": [_portal_origin()]}  # type: ignore[attr-defined]
    return response


@page(role=Role.CLIENT_ADMIN)
@require_POST
def billing_portal(request: PageRequest) -> HttpResponse:
    link = billing_sso_issue(
        account=request.account, actor=request.principal, context=RequestContext.from_request(request)
    )
    return HttpResponseRedirect(link.url)
