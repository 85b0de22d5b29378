"""The Django admin site for platform staff.

Its sign-in form goes through the same failure limits and audit as the API and the web form
(`accounts.services.auth.authenticate_with_password`): a locked email stays locked on every door,
failures here count toward the others, and a limited attempt answers the 429 page with `Retry-After`.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from accounts.adapters import rate_limited_response
from accounts.services.audit import RequestContext
from accounts.services.auth import authenticate_with_password, login_success_record
from core.exceptions import RateLimited, Unauthorized

PASSWORD_BACKEND = "django.contrib.auth.backends.ModelBackend"


class StaffAuthenticationForm(AdminAuthenticationForm):
    """Email and password of a staff member; raises `RateLimited` while the email may not try."""

    def clean(self) -> dict[str, Any]:
        email = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if email is not None and password:
            context = RequestContext.from_request(self.request)
            try:
                user = authenticate_with_password(request=self.request, email=email, password=password, context=context)
            except Unauthorized:
                raise self.get_invalid_login_error() from None
            user.backend = PASSWORD_BACKEND  # type: ignore[attr-defined]  # what `login()` records in the session
            self.confirm_login_allowed(user)  # staff only: others get the wrong-password answer
            self.user_cache = user
            login_success_record(user=user, method="admin", context=context)
        return self.cleaned_data


# django-allauth's apps are labelled "Accounts" and "Social Accounts", which reads as if there were two
# places for tenants (ours are under "Tenants and people"): say what they hold instead.
APP_NAMES = {"account": "Sign-in email addresses", "socialaccount": "Sign-in with Google"}


class StaffAdminSite(admin.AdminSite):
    login_form = StaffAuthenticationForm
    site_header = "SkyBot Inbox administration"
    site_title = "SkyBot Inbox admin"

    def _build_app_dict(self, request: HttpRequest, label: Any = None) -> Any:
        app_dict = super()._build_app_dict(request, label)
        for app in [app_dict] if label else app_dict.values():
            if app and app["app_label"] in APP_NAMES:
                app["name"] = APP_NAMES[app["app_label"]]
        return app_dict

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        try:
            return super().login(request, extra_context)
        except RateLimited as exc:
            return rate_limited_response(request, exc, back_url=reverse("admin:login", current_app=self.name))
