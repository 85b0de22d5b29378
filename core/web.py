"""Plumbing of the web UI that knows no tenant: how errors, notices and one-time secrets look.

A service's `ApplicationError` becomes what a person can act on: for an htmx request a notice in
the page's toast area (the status code is kept), otherwise a flash message and a redirect back.
Who may open a page is `accounts.web.pages.page`; the shell's navigation is `skybot_inbox.web`.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme

from core.exceptions import ApplicationError


def is_htmx(request: Any) -> bool:
    """Whether htmx sent the request (it then wants a fragment, not a whole page)."""
    return bool(getattr(request, "htmx", False))


def forbidden(request: HttpRequest, message: str) -> HttpResponse:
    if is_htmx(request):
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
    response = render(request, partial if is_htmx(request) else template, context, status=status)
    add_never_cache_headers(response)
    return response


def application_error_response(request: HttpRequest, error: ApplicationError) -> HttpResponse:
    if is_htmx(request):
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
