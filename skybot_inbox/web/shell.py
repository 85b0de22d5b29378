"""The web shell: the home page, and the navigation every signed-in page shows, following the role."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse

from accounts.models import Role
from accounts.principals import Principal

# --- Navigation -----------------------------------------------------------------------------------

# (label, URL name, lowest role). A person sees the entries their role reaches, in this order.
NAVIGATION: list[tuple[str, str, str]] = [
    ("Inbox", "inbox_web:conversations", Role.VIEWER),
    ("Agents", "agents_web:list", Role.VIEWER),
    ("Leads", "leads_web:list", Role.VIEWER),
    ("Marketplace", "marketplace:index", Role.VIEWER),
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


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The inbox is where a team starts its day; platform staff without a tenant go to the admin."""
    if getattr(request.user, "account", None) is None:
        return redirect("admin:index")
    return redirect("inbox_web:conversations")
