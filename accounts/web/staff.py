"""The tenant switcher: platform staff choose the tenant they act in, and stop.

Staff belong to no tenant. Once they choose one here, every page (`accounts.web.pages.page`) shows
and works that tenant for them, under a banner that says so, until they stop or the tenant is
disabled. Entering and leaving are audit rows in the tenant (`accounts.services.staff`). Nobody but
platform staff reaches these views.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Account, User
from accounts.services.audit import RequestContext
from accounts.services.staff import staff_tenant_enter, staff_tenant_leave
from accounts.web.pages import STAFF_TENANT_SESSION_KEY, staff_page, staff_tenant_id
from core.exceptions import ApplicationError

PAGE_SIZE = 50


def _next_url(request: HttpRequest) -> str:
    """Where to go once a tenant is chosen: the page the person asked for, if it is ours."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


def _staff(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # staff_page let only platform staff in
    return user


def _current(request: HttpRequest) -> Account | None:
    account_id = staff_tenant_id(request)
    return Account.objects.filter(pk=account_id).first() if account_id is not None else None


@staff_page
@require_http_methods(["GET", "POST"])
def workspace(request: HttpRequest) -> HttpResponse:
    """GET: the tenants to choose from (searchable). POST `account`: act in that tenant."""
    staff, current, next_url = _staff(request), _current(request), _next_url(request)
    error, status = "", 200
    if request.method == "POST":
        try:
            account = staff_tenant_enter(
                staff=staff,
                account_id=request.POST.get("account"),
                previous=current,
                context=RequestContext.from_request(request),
            )
        except ApplicationError as exc:
            details = exc.details.get("account") if isinstance(exc.details, dict) else None
            error, status = (details[0] if details else exc.message), exc.status_code
        else:
            request.session[STAFF_TENANT_SESSION_KEY] = account.pk
            messages.success(request, f"You now act in {account.name} as platform staff.")
            return redirect(next_url or "inbox_web:conversations")
    query = request.GET.get("q", "").strip()[:100]
    accounts = Account.objects.order_by("-is_active", "name")
    if query:
        accounts = accounts.filter(name__icontains=query) | accounts.filter(slug__icontains=query.lower())
    page_obj = Paginator(accounts, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page_obj": page_obj, "current": current, "query": query, "next": next_url, "error": error}
    return render(request, "accounts/staff_workspace.html", context, status=status)


@staff_page
@require_POST
def workspace_stop(request: HttpRequest) -> HttpResponse:
    """Stop acting in the tenant: back to the switcher, in no tenant."""
    current = _current(request)
    request.session.pop(STAFF_TENANT_SESSION_KEY, None)
    if current is not None:
        staff_tenant_leave(staff=_staff(request), account=current, context=RequestContext.from_request(request))
        messages.success(request, f"You no longer act in {current.name}.")
    return redirect("staff_workspace")
