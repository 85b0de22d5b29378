"""Who may open a web page: `page(role=...)`, which every page view of every app is wrapped in.

It signs the person in if needed, resolves their tenant once (`request.account`) and their
`Principal` (`request.principal`, what services take as the actor), and refuses a role below the
page's with the 403 page. The same role rules as the API apply, so a hidden button is never the only
protection. Platform staff belong to no tenant: they act in the one they chose with the tenant
switcher (`accounts.web.staff`), with every right there; until they choose, pages send them to it.
The view runs in the viewer's time zone (theirs, else the tenant's), so every date a page shows is.

It is also where a session that lost its access ends, before any view runs: the tenant was disabled,
or the person's sign-ins were ended (password changed or reset, deactivated, another role). The
person is signed out and sent to the sign-in page with a notice saying why; an htmx request gets a
401 whose `HX-Redirect` takes the whole page there. Nothing the request asked for is done.

A service's `ApplicationError` becomes what a person can act on (`core.web`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, NoReturn, ParamSpec, TypeVar, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth.views import redirect_to_login
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.utils import timezone
from django.utils.http import urlencode

from accounts.models import Account, Role, User
from accounts.principals import Principal
from accounts.scoping import tenant_row
from accounts.services.audit import RequestContext
from accounts.services.staff import staff_tenant_leave
from core.exceptions import ApplicationError, NotFound
from core.timezones import zone
from core.web import application_error_response, forbidden, is_htmx

P = ParamSpec("P")
R = TypeVar("R", bound=HttpResponse)
T = TypeVar("T")
ModelT = TypeVar("ModelT", bound=models.Model)


class PageRequest(HttpRequest):
    """The request a page view receives (for type checkers): `page` sets these two."""

    account: Account
    principal: Principal


def page(*, role: str = Role.VIEWER) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Wrap a page view: signed-in person of a tenant (or staff acting in one), at least `role`,
    dates in the viewer's time zone, application errors shown."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            # Read before `request.user`: resolving it drops a session whose sign-in was ended.
            session_user_id = request.session.get(SESSION_KEY)
            user = request.user
            if not user.is_authenticated:
                if session_user_id is not None:
                    return signed_out(request, _ended_sign_in_notice(session_user_id))
                return redirect_to_login(request.get_full_path())
            assert isinstance(user, User)
            if user.is_platform_staff:
                acting = _staff_tenant(request, user)
                if isinstance(acting, HttpResponse):
                    return acting
                account, principal = acting
            else:
                if user.account is None:  # a SUPER_ADMIN switched off, say: no tenant and no staff rights
                    return forbidden(request, "Your login belongs to no workspace.")
                account = user.account
                if not account.is_active:
                    return signed_out(request, WORKSPACE_DISABLED)
                principal = Principal.for_user(user)
            if not principal.has_role(role):
                return forbidden(request, "Your role does not give access to this page.")
            page_request = cast(PageRequest, request)
            page_request.account = account
            page_request.principal = principal
            # Dates on the page are the viewer's; forms read typed dates in the same zone.
            with timezone.override(zone(user.time_zone_in(account))):
                try:
                    return view(page_request, *args, **kwargs)
                except ApplicationError as error:
                    return application_error_response(request, error)

        wrapper.page_role = role  # type: ignore[attr-defined]  # tests check every web view has one
        return wrapper

    return decorator


def staff_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wrap a page only platform staff use, in no tenant (the tenant switcher): others get the 403 page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        session_user_id = request.session.get(SESSION_KEY)
        user = request.user
        if not user.is_authenticated:
            if session_user_id is not None:
                return signed_out(request, _ended_sign_in_notice(session_user_id))
            return redirect_to_login(request.get_full_path())
        assert isinstance(user, User)
        if not user.is_platform_staff:
            return forbidden(request, "Only platform staff choose a workspace to act in.")
        with timezone.override(zone(user.time_zone_in(None))):
            try:
                return view(request, *args, **kwargs)
            except ApplicationError as error:
                return application_error_response(request, error)

    wrapper.page_role = Role.SUPER_ADMIN  # type: ignore[attr-defined]
    return wrapper


# --- platform staff in a tenant -------------------------------------------------------------------

# The session remembers the tenant platform staff chose to act in (accounts.web.staff sets it).
STAFF_TENANT_SESSION_KEY = "staff_tenant_id"
STAFF_TENANT_DISABLED = "{name} has been disabled, so you no longer act in it. Choose another workspace."


def staff_tenant_id(request: HttpRequest) -> int | None:
    value = request.session.get(STAFF_TENANT_SESSION_KEY)
    return value if isinstance(value, int) else None


def _staff_tenant(request: HttpRequest, user: User) -> tuple[Account, Principal] | HttpResponse:
    """The tenant staff chose and their principal in it, or the way to the switcher when there is none."""
    account_id = staff_tenant_id(request)
    account = Account.objects.filter(pk=account_id).first() if account_id is not None else None
    if account is not None and account.is_active:
        return account, Principal.for_staff_in(user, account)
    request.session.pop(STAFF_TENANT_SESSION_KEY, None)
    if account is not None:
        staff_tenant_leave(
            staff=user, account=account, context=RequestContext.from_request(request), reason="workspace disabled"
        )
        messages.warning(request, STAFF_TENANT_DISABLED.format(name=account.name))
    if is_htmx(request):
        return forbidden(request, "Choose a workspace to act in first.")
    switcher = resolve_url("staff_workspace")
    if request.method == "GET":
        return HttpResponseRedirect(f"{switcher}?{urlencode({'next': request.get_full_path()})}")
    return HttpResponseRedirect(switcher)


WORKSPACE_DISABLED = "This workspace has been disabled, so you were signed out. Ask SkyBot support to turn it back on."
SIGN_IN_ENDED = "You were signed out because your password or your access changed. Sign in again."


def _ended_sign_in_notice(user_id: Any) -> str:
    account_active = User.objects.filter(pk=user_id).values_list("account__is_active", flat=True).first()
    return WORKSPACE_DISABLED if account_active is False else SIGN_IN_ENDED


def signed_out(request: HttpRequest, notice: str) -> HttpResponse:
    """End the session and send the person to the sign-in page, which shows `notice`."""
    logout(request)
    messages.warning(request, notice)
    if is_htmx(request):
        response = HttpResponse(status=401)
        response["HX-Redirect"] = resolve_url(settings.LOGIN_URL)
        return response
    if request.method == "GET":
        return redirect_to_login(request.get_full_path())
    return HttpResponseRedirect(resolve_url(settings.LOGIN_URL))


# --- rows of the page's tenant --------------------------------------------------------------------


def not_found(request: HttpRequest, message: str = "") -> NoReturn:
    """A 404: the 404 page, or for a part of a page (htmx) a notice rather than that page swapped in."""
    if is_htmx(request):
        raise NotFound(message or "This does not exist (any more).")
    raise Http404(message)


def row_or_404(request: PageRequest, queryset: models.QuerySet[ModelT], *, missing: str = "", **lookup: Any) -> ModelT:
    """The one row of the page's tenant matching `lookup` (`accounts.scoping.tenant_row`, as the API
    uses); the same 404 for a missing row and another tenant's."""
    return found_or_404(request, lambda: tenant_row(queryset, principal=request.principal, **lookup), missing=missing)


def found_or_404(request: HttpRequest, lookup: Callable[[], T], *, missing: str = "") -> T:
    """What a selector's tenant-scoped lookup answers, its `NotFound` shown as the page's 404."""
    try:
        return lookup()
    except NotFound:
        not_found(request, missing)


def shell_principal(request: HttpRequest) -> Principal | None:
    """Who the page shell (navigation, banner) is for: the page's principal once `page()` ran, else the
    signed-in person of a tenant, or platform staff in the tenant they act in; None for nobody's."""
    principal = getattr(request, "principal", None)
    if isinstance(principal, Principal):
        return principal
    user = getattr(request, "user", None)
    if not isinstance(user, User) or not user.is_authenticated:
        return None
    if user.account is not None:
        return Principal.for_user(user)
    account_id = staff_tenant_id(request) if user.is_platform_staff else None
    account = Account.objects.filter(pk=account_id, is_active=True).first() if account_id is not None else None
    return Principal.for_staff_in(user, account) if account is not None else None
