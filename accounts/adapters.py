"""django-allauth hooks: no self sign-up, password sign-in shares the API's failure limit, a
disabled tenant cannot sign in on the web any more than through the API, and a new password (changed,
set or reset by email) ends the person's other sign-ins."""

from __future__ import annotations

import math
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import get_authentication_records
from allauth.account.models import EmailAddress
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialLogin
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers

from accounts.models import User
from accounts.services.audit import RequestContext
from accounts.services.auth import (
    login_failure_register,
    login_limit_check,
    login_success_record,
    user_may_sign_in,
)
from accounts.services.sessions import PASSWORD_CHANGED, user_access_revoke
from core.exceptions import RateLimited


def rate_limited_response(request: HttpRequest, exc: RateLimited, *, back_url: str = "") -> HttpResponse:
    """The 429 page, with `Retry-After`, for every web sign-in form (the admin's too)."""
    context = {
        "message": exc.message,
        "retry_after": exc.retry_after,
        "retry_after_minutes": math.ceil(exc.retry_after / 60),
        "back_url": back_url,
    }
    response = render(request, "account/login_limited.html", context, status=429)
    response["Retry-After"] = str(exc.retry_after)
    add_never_cache_headers(response)
    return response


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False  # people are invited by their tenant's admin (or created by staff)

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        email = str(credentials.get("email") or "")
        try:
            login_limit_check(request=request, email=email, ip=RequestContext.from_request(request).ip_address)
        except RateLimited as exc:
            raise ImmediateHttpResponse(rate_limited_response(request, exc)) from exc

    def authenticate(self, request: HttpRequest, **credentials: Any) -> AbstractBaseUser | None:
        user = super().authenticate(request, **credentials)
        if user is not None and not (isinstance(user, User) and user_may_sign_in(user)):
            # A deactivated person or a disabled tenant: the same answer as a wrong password, as the API gives.
            self.authentication_failed(request, **credentials)
            return None
        return user

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        context = RequestContext.from_request(request)
        login_failure_register(
            request=request, email=str(credentials.get("email") or ""), ip=context.ip_address, context=context
        )

    def pre_login(self, request: HttpRequest, user: AbstractBaseUser, **kwargs: Any) -> HttpResponse | None:
        if isinstance(user, User) and user.account is not None and not user.account.is_active:
            from allauth.account.internal.stagekit import clear_login

            clear_login(request)
            return self.respond_user_inactive(request, user)
        return super().pre_login(request, user, **kwargs)

    def set_password(self, user: AbstractBaseUser, password: str) -> None:
        """allauth's password change, set and emailed reset all end here: every other sign-in ends.

        allauth then keeps the session that changed it (`update_session_auth_hash`, with the new
        generation this leaves on `user`); after a reset nobody is signed in.
        """
        super().set_password(user, password)
        if isinstance(user, User):
            context = RequestContext.from_request(self.request)
            user_access_revoke(user=user, reason=PASSWORD_CHANGED, actor=user, context=context)

    def login(self, request: HttpRequest, user: AbstractBaseUser) -> None:
        method = _sign_in_method(request, user)
        super().login(request, user)
        if isinstance(user, User):
            login_success_record(user=user, method=method, context=RequestContext.from_request(request))


def _sign_in_method(request: HttpRequest, user: AbstractBaseUser) -> str:
    """How this web sign-in was proven: "session" (password form) or the social provider's id."""
    records = get_authentication_records(request, user)
    last = records[-1] if records else {}
    if last.get("method") == "socialaccount" and last.get("provider"):
        return str(last["provider"])
    return "session"


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest, sociallogin: Any) -> bool:
        return False  # Google signs in people who already have an account with that email

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        """Trust the address staff or a tenant admin gave the person when Google verified it too.

        allauth wipes the password of a person matched by an email it has no verified record of (to
        lock out someone who signed up with another's address). Nobody signs up by themselves here, so
        that would only take password and API sign-in away from a legitimate person.
        """
        super().pre_social_login(request, sociallogin)
        user = sociallogin.user
        if not isinstance(user, User) or user.pk is None:
            return
        verified = {address.email.lower() for address in sociallogin.email_addresses if address.verified}
        if user.email.lower() in verified:
            EmailAddress.objects.update_or_create(
                user=user, email__iexact=user.email, defaults={"email": user.email, "verified": True}
            )
