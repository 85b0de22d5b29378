"""Magic-link sign-in pages.

Asking for a link always answers the same page, whether or not the email has an account. The link
opens a confirmation page (GET changes nothing, so mail scanners that prefetch links do not spend
it); its button POSTs, which consumes the single-use token and signs the person in.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from accounts.adapters import rate_limited_response
from accounts.services.audit import RequestContext
from accounts.services.auth import (
    login_success_record,
    magic_link_consume,
    magic_link_is_usable,
    magic_link_request_limit,
    magic_link_send,
)
from core.exceptions import RateLimited

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


class MagicLinkRequestForm(forms.Form):
    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))


@never_cache
@require_http_methods(["GET", "POST"])
def magic_link_request(request: HttpRequest) -> HttpResponse:
    form = MagicLinkRequestForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        email: str = form.cleaned_data["email"]
        context = RequestContext.from_request(request)
        try:
            magic_link_request_limit(request=request, email=email, ip=context.ip_address)
        except RateLimited as exc:
            return rate_limited_response(request, exc)
        magic_link_send(email=email, context=context)
        return render(request, "accounts/magic_link_sent.html", {"email": email})
    return render(request, "accounts/magic_link_request.html", {"form": form}, status=400 if form.errors else 200)


@never_cache
@require_http_methods(["GET", "POST"])
def magic_link_confirm(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "GET":
        if not magic_link_is_usable(token=token):
            return _invalid_link(request)
        return render(request, "accounts/magic_link_confirm.html")
    context = RequestContext.from_request(request)
    user = magic_link_consume(token=token, context=context)
    if user is None:
        return _invalid_link(request)
    login(request, user, backend=MODEL_BACKEND)
    login_success_record(user=user, method="magic_link", context=context)
    return redirect("/")


def _invalid_link(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/magic_link_invalid.html", status=400)


@require_GET
def email_managed_by_admin(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/email_managed.html")
