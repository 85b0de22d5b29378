"""django-allauth hooks: no self sign-up, and password sign-in shares the API's failure limit."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.services.audit import RequestContext
from accounts.services.auth import login_failure_register, login_limit_check, login_success_record
from core.exceptions import RateLimited


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False  # people are invited by their tenant's admin (or created by staff)

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        email = str(credentials.get("email") or "")
        try:
            login_limit_check(request=request, email=email, ip=RequestContext.from_request(request).ip_address)
        except RateLimited as exc:
            response: HttpResponse = render(
                request, "account/login_limited.html", {"retry_after": exc.retry_after}, status=429
            )
            response["Retry-After"] = str(exc.retry_after)
            raise ImmediateHttpResponse(response) from exc

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        context = RequestContext.from_request(request)
        login_failure_register(
            request=request, email=str(credentials.get("email") or ""), ip=context.ip_address, context=context
        )

    def login(self, request: HttpRequest, user: Any) -> None:
        super().login(request, user)
        login_success_record(user=user, method="session", context=RequestContext.from_request(request))


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest, sociallogin: Any) -> bool:
        return False  # Google signs in people who already have an account with that email
