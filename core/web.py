"""Building blocks of the web UI: who may open a page, which tenant it shows, how errors look.

Every page view is wrapped in `page(role=...)`. It signs the person in if needed, resolves their
tenant once (`request.account`) and their `Principal` (`request.principal`, what services take as
the actor), and refuses a role below the page's with the 403 page. The same role rules as the API
apply, so a hidden button is never the only protection.

It is also where a session that lost its access ends, before any view runs: the tenant was disabled,
or the person's sign-ins were ended (password changed or reset, deactivated, another role). The
person is signed out and sent to the sign-in page with a notice saying why; an htmx request gets a
401 whose `HX-Redirect` takes the whole page there. Nothing the request asked for is done.

A service's `ApplicationError` becomes what a person can act on: for an htmx request a notice in
the page's toast area (the status code is kept), otherwise a flash message and a redirect back.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.urls import NoReverseMatch, reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme

from accounts.models import Account, Role, User
from core.exceptions import ApplicationError
from core.principals import Principal

P = ParamSpec("P")
R = TypeVar("R", bound=HttpResponse)


class PageRequest(HttpRequest):
    """The request a page view receives (for type checkers): `page` sets these two."""

    account: Account
    principal: Principal


def page(*, role: str = Role.VIEWER) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Wrap a page view: signed-in person of a tenant, at least `role`, application errors shown."""

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
            account = getattr(user, "account", None)
            if account is None:
                # Platform staff belong to no tenant: they work in Django admin and the API.
                return forbidden(request, "Your login belongs to no workspace. Platform staff use the admin.")
            if not account.is_active:
                return signed_out(request, WORKSPACE_DISABLED)
            principal = Principal.for_user(user)
            if not principal.has_role(role):
                return forbidden(request, "Your role does not give access to this page.")
            page_request = cast(PageRequest, request)
            page_request.account = account
            page_request.principal = principal
            try:
                return view(page_request, *args, **kwargs)
            except ApplicationError as error:
                return application_error_response(request, error)

        wrapper.page_role = role  # type: ignore[attr-defined]  # tests check every web view has one
        return wrapper

    return decorator


WORKSPACE_DISABLED = "This workspace has been disabled, so you were signed out. Ask SkyBot support to turn it back on."
SIGN_IN_ENDED = "You were signed out because your password or your access changed. Sign in again."


def _ended_sign_in_notice(user_id: Any) -> str:
    account_active = User.objects.filter(pk=user_id).values_list("account__is_active", flat=True).first()
    return WORKSPACE_DISABLED if account_active is False else SIGN_IN_ENDED


def signed_out(request: HttpRequest, notice: str) -> HttpResponse:
    """End the session and send the person to the sign-in page, which shows `notice`."""
    logout(request)
    messages.warning(request, notice)
    if getattr(request, "htmx", False):
        response = HttpResponse(status=401)
        response["HX-Redirect"] = resolve_url(settings.LOGIN_URL)
        return response
    if request.method == "GET":
        return redirect_to_login(request.get_full_path())
    return HttpResponseRedirect(resolve_url(settings.LOGIN_URL))


def forbidden(request: HttpRequest, message: str) -> HttpResponse:
    if getattr(request, "htmx", False):
        return toast(request, message, status=403)
    return render(request, "error.html", {"title": "Permission denied", "message": message}, status=403)


def toast(request: HttpRequest, message: str, *, level: str = "error", status: int = 200) -> HttpResponse:
    """An htmx answer that shows `message` in the page's toast area instead of the swap target."""
    response = render(request, "partials/toast.html", {"message": message, "level": level}, status=status)
    response["HX-Retarget"] = "#toasts"
    response["HX-Reswap"] = "beforeend"
    return response


def secret_shown_once(
    request: HttpRequest, *, template: str, partial: str, context: dict[str, Any], status: int
) -> HttpResponse:
    """The one answer that shows a new secret (an API key, a signing secret), never cached.

    The whole page, or for htmx the `partial` it swaps in; neither the browser nor a proxy keeps it,
    so Back or a shared cache cannot show the secret again.
    """
    response = render(request, partial if getattr(request, "htmx", False) else template, context, status=status)
    add_never_cache_headers(response)
    return response


def application_error_response(request: HttpRequest, error: ApplicationError) -> HttpResponse:
    if getattr(request, "htmx", False):
        return toast(request, str(error.message), status=error.status_code)
    if request.method == "GET":
        return render(request, "error.html", {"message": error.message}, status=error.status_code)
    messages.error(request, str(error.message))
    return redirect_back(request)


def redirect_back(request: HttpRequest, fallback: str = "home") -> HttpResponseRedirect:
    """Redirect to the page the form was posted from (same site only), else to `fallback`."""
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()}):
        return HttpResponseRedirect(referer)
    return HttpResponseRedirect(reverse(fallback))


# --- Navigation -----------------------------------------------------------------------------------

# (label, URL name, lowest role). A person sees the entries their role reaches, in this order.
NAVIGATION: list[tuple[str, str, str]] = [
    ("Inbox", "inbox_web:conversations", Role.VIEWER),
    ("Agents", "agents_web:list", Role.VIEWER),
    ("Leads", "leads_web:list", Role.VIEWER),
    ("Developers", "developers_web:index", Role.CLIENT_ADMIN),
    ("Settings", "settings_web:index", Role.CLIENT_ADMIN),
]


def ui(request: HttpRequest) -> dict[str, Any]:
    """Template context for the application shell: the tenant, navigation and what the role may do."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or getattr(user, "account", None) is None:
        return {}
    principal = Principal.for_user(user)
    nav = []
    for label, url_name, role in NAVIGATION:
        if not principal.has_role(role):
            continue
        try:
            url = reverse(url_name)
        except NoReverseMatch:  # an area not installed in this deployment
            continue
        nav.append({"label": label, "url": url, "active": request.path.startswith(url)})
    return {
        "ui": {
            "account": user.account,
            "nav": nav,
            "can_write": principal.has_role(Role.USER),
            "is_admin": principal.has_role(Role.CLIENT_ADMIN),
        }
    }
