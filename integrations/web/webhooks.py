"""Developers → Webhooks: the tenant's endpoints, adding and changing one, its signing secret (shown
once, at creation and rotation), a test event, deleting it, and its delivery log with redelivery.

Every rule (which URLs may be called, which event types exist, at most 50 endpoints, no test or
redelivery while an endpoint is off) is the webhook services', the same ones the API calls. Zapier's
REST hook subscriptions are endpoints too: Zapier sets their URL and events, so those (and the secret,
test events and redelivery) are not changed here, but an admin can turn one off or on, or delete it,
like any endpoint; the Zap then receives nothing from SkyBot Inbox.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Role
from accounts.services.audit import RequestContext
from accounts.web.common import show_service_error
from accounts.web.pages import PageRequest, page, row_or_404
from core.exceptions import ApplicationError, Conflict
from core.web import is_htmx, secret_shown_once
from integrations.events import EVENT_TYPES
from integrations.models import (
    DeliveryStatus,
    EndpointSource,
    EventDelivery,
    EventDeliveryAttempt,
    WebhookEndpoint,
)
from integrations.selectors import delivery_list, webhook_endpoint_list, webhook_endpoints_with_last_delivery
from integrations.services.webhooks import (
    IssuedEndpoint,
    delivery_redeliver,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_test,
    webhook_endpoint_update,
    webhook_secret_rotate,
)
from integrations.web.common import developers_context
from integrations.web.forms import DeliveryFilterForm, WebhookEndpointForm, WebhookRotateForm, event_description

DELIVERIES_PER_PAGE = 20
# A pending delivery not attempted yet, or touched this recently (queued, redelivered, just failed
# with a retry due in seconds), is followed: its log reloads itself to show how it went.
FOLLOW_UP = timedelta(minutes=1)
ZAPIER_MANAGED = (
    "Zapier manages this subscription's URL and events: change them in Zapier. You can turn it off or delete it."
)


# --- lookups --------------------------------------------------------------------------------------


def _endpoint(request: PageRequest, pk: int) -> WebhookEndpoint:
    """The tenant's endpoint: the same 404 for a missing one and another tenant's."""
    return row_or_404(
        request, WebhookEndpoint.objects.select_related("account", "created_by", "created_by_api_key"), pk=pk
    )


def _editable(request: PageRequest, pk: int) -> WebhookEndpoint:
    """An endpoint a person may change here: a Zapier subscription's settings are Zapier's to change
    (turning it off or deleting it takes `_endpoint` only)."""
    endpoint = _endpoint(request, pk)
    if endpoint.source == EndpointSource.ZAPIER:
        raise Conflict(ZAPIER_MANAGED, code="managed_by_zapier")
    return endpoint


def _detail_url(endpoint: WebhookEndpoint) -> str:
    return reverse("developers_web:webhook_detail", args=[endpoint.pk])


def _back(request: PageRequest, fallback: str) -> HttpResponseRedirect:
    """Back to the page the button was on (the delivery log's page and filter), else `fallback`."""
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()}):
        return HttpResponseRedirect(referer)
    return HttpResponseRedirect(fallback)


# --- the list -------------------------------------------------------------------------------------


@page(role=Role.CLIENT_ADMIN)
def webhooks(request: PageRequest) -> HttpResponse:
    endpoints = list(
        webhook_endpoints_with_last_delivery(scoped=webhook_endpoint_list(principal=request.principal, filters={}))
    )
    context = developers_context(
        "webhooks",
        endpoints=[endpoint for endpoint in endpoints if endpoint.source != EndpointSource.ZAPIER],
        zapier=[endpoint for endpoint in endpoints if endpoint.source == EndpointSource.ZAPIER],
    )
    return render(request, "integrations/developers/webhooks.html", context)


# --- adding one, and the secret shown once --------------------------------------------------------


def _issued(request: PageRequest, issued: IssuedEndpoint, *, rotated: bool, status: int) -> HttpResponse:
    context = developers_context("webhooks", issued=issued, endpoint=issued.endpoint, rotated=rotated)
    return secret_shown_once(
        request,
        template="integrations/developers/webhook_issued.html",
        partial="integrations/developers/partials/webhook_issued.html",
        context=context,
        status=status,
    )


@page(role=Role.CLIENT_ADMIN)
@require_http_methods(["GET", "POST"])
def webhook_new(request: PageRequest) -> HttpResponse:
    form = WebhookEndpointForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                issued = webhook_endpoint_create(
                    account=request.account,
                    actor=request.principal,
                    url=data["url"],
                    events=data["events"],
                    description=data["description"],
                    source=EndpointSource.WEB,
                    context=RequestContext.from_request(request),
                )
            except ApplicationError as error:
                if not show_service_error(form, error):
                    raise
                status = error.status_code
            else:
                return _issued(request, issued, rotated=False, status=201)
    context = developers_context("webhooks", form=form)
    if is_htmx(request):
        template = "integrations/developers/partials/webhook_form.html"
    else:
        template = "integrations/developers/webhook_new.html"
    return render(request, template, context, status=status)


# --- one endpoint and its delivery log ------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryRow:
    delivery: EventDelivery
    attempts: list[EventDeliveryAttempt]
    last: EventDeliveryAttempt | None
    payload: str
    in_flight: bool


def _payload(raw: str) -> str:
    try:
        return json.dumps(json.loads(raw), indent=2, ensure_ascii=False)
    except ValueError:
        return raw


def _log_context(request: PageRequest, endpoint: WebhookEndpoint) -> tuple[dict[str, object], int]:
    """The delivery log's page: deliveries newest first with their attempts, filtered by status."""
    form = DeliveryFilterForm(request.GET)
    if form.is_valid():
        status_filter, status = form.cleaned_data["status"], 200
    else:
        status_filter, status = "", 400
    deliveries = delivery_list(endpoint=endpoint, filters={"status": status_filter} if status_filter else {})
    page_obj = Paginator(deliveries, DELIVERIES_PER_PAGE).get_page(request.GET.get("page"))
    recently = timezone.now() - FOLLOW_UP
    rows = []
    for delivery in page_obj.object_list:
        attempts = list(delivery.attempts.all())
        rows.append(
            DeliveryRow(
                delivery=delivery,
                attempts=attempts,
                last=attempts[-1] if attempts else None,
                payload=_payload(delivery.event.payload),
                in_flight=delivery.status == DeliveryStatus.PENDING
                and (delivery.attempt_count == 0 or delivery.updated_at >= recently),
            )
        )
    context: dict[str, object] = {
        "endpoint": endpoint,
        "filter_form": form,
        "status_filter": status_filter,
        "page_obj": page_obj,
        "rows": rows,
        "follow": any(row.in_flight for row in rows),
        "can_change": endpoint.source != EndpointSource.ZAPIER,
    }
    return context, status


@page(role=Role.CLIENT_ADMIN)
def webhook_detail(request: PageRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint(request, pk)
    log, status = _log_context(request, endpoint)
    context = developers_context(
        "webhooks",
        **log,
        rotate_form=WebhookRotateForm(),
        event_descriptions=[(name, event_description(name)) for name in endpoint.events if name in EVENT_TYPES],
    )
    return render(request, "integrations/developers/webhook_detail.html", context, status=status)


@page(role=Role.CLIENT_ADMIN)
def webhook_deliveries(request: PageRequest, pk: int) -> HttpResponse:
    """The delivery log alone (it reloads itself while a delivery is on its way)."""
    endpoint = _endpoint(request, pk)
    log, status = _log_context(request, endpoint)
    return render(request, "integrations/developers/partials/deliveries.html", log, status=status)


# --- changing one ---------------------------------------------------------------------------------


@page(role=Role.CLIENT_ADMIN)
@require_http_methods(["GET", "POST"])
def webhook_edit(request: PageRequest, pk: int) -> HttpResponse:
    endpoint = _editable(request, pk)
    initial = {"url": endpoint.url, "events": endpoint.events, "description": endpoint.description}
    form = WebhookEndpointForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                endpoint = webhook_endpoint_update(
                    endpoint=endpoint,
                    actor=request.principal,
                    context=RequestContext.from_request(request),
                    **form.cleaned_data,
                )
            except ApplicationError as error:
                if not show_service_error(form, error):
                    raise
                status = error.status_code
            else:
                messages.success(request, "Saved. The next events go out with these settings.")
                return redirect(_detail_url(endpoint))
    context = developers_context("webhooks", endpoint=endpoint, form=form)
    return render(request, "integrations/developers/webhook_edit.html", context, status=status)


@page(role=Role.CLIENT_ADMIN)
@require_POST
def webhook_rotate(request: PageRequest, pk: int) -> HttpResponse:
    endpoint = _editable(request, pk)
    form = WebhookRotateForm(request.POST)
    if form.is_valid():
        issued = webhook_secret_rotate(
            endpoint=endpoint,
            actor=request.principal,
            overlap=timedelta(seconds=form.cleaned_data["overlap_seconds"]),
            context=RequestContext.from_request(request),
        )
        return _issued(request, issued, rotated=True, status=200)
    if is_htmx(request):
        context = developers_context("webhooks", endpoint=endpoint, rotate_form=form)
        return render(request, "integrations/developers/partials/webhook_rotate_form.html", context, status=400)
    messages.error(request, "Choose how long the old secret keeps signing.")
    return redirect(_detail_url(endpoint))


@page(role=Role.CLIENT_ADMIN)
@require_POST
def webhook_turn_on(request: PageRequest, pk: int) -> HttpResponse:
    return _set_active(request, pk, active=True)


@page(role=Role.CLIENT_ADMIN)
@require_POST
def webhook_turn_off(request: PageRequest, pk: int) -> HttpResponse:
    return _set_active(request, pk, active=False)


def _set_active(request: PageRequest, pk: int, *, active: bool) -> HttpResponse:
    endpoint = webhook_endpoint_update(
        endpoint=_endpoint(request, pk),
        actor=request.principal,
        context=RequestContext.from_request(request),
        is_active=active,
    )
    if active:
        messages.success(
            request,
            "Turned on: new events are sent again. Failed deliveries are not resent by themselves; "
            "redeliver the ones you need from the log.",
        )
    else:
        messages.success(request, "Turned off: nothing is sent to it until you turn it back on.")
    return redirect(_detail_url(endpoint))


@page(role=Role.CLIENT_ADMIN)
@require_POST
def webhook_delete(request: PageRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint(request, pk)
    url, zapier = endpoint.url, endpoint.source == EndpointSource.ZAPIER
    webhook_endpoint_delete(endpoint=endpoint, actor=request.principal, context=RequestContext.from_request(request))
    if zapier:
        messages.success(
            request,
            f"Deleted the Zapier subscription {url} and its delivery log: its Zap receives nothing more. "
            "Turn the Zap off in Zapier too.",
        )
    else:
        messages.success(request, f"Deleted the endpoint {url} and its delivery log: nothing more is sent to it.")
    return redirect("developers_web:webhooks")


@page(role=Role.CLIENT_ADMIN)
@require_POST
def webhook_test(request: PageRequest, pk: int) -> HttpResponse:
    endpoint = _editable(request, pk)
    webhook_endpoint_test(endpoint=endpoint, actor=request.principal, context=RequestContext.from_request(request))
    messages.success(request, "Sent a test event (ping). How your endpoint answered shows in the delivery log.")
    return redirect(_detail_url(endpoint))


@page(role=Role.CLIENT_ADMIN)
@require_POST
def delivery_redeliver_view(request: PageRequest, pk: int) -> HttpResponse:
    delivery = row_or_404(request, EventDelivery.objects.select_related("endpoint__account"), pk=pk)
    if delivery.endpoint.source == EndpointSource.ZAPIER:
        raise Conflict(ZAPIER_MANAGED, code="managed_by_zapier")
    delivery_redeliver(delivery=delivery, actor=request.principal, context=RequestContext.from_request(request))
    messages.success(request, "Sent the event again. The new attempt shows in the delivery log.")
    return _back(request, _detail_url(delivery.endpoint))
