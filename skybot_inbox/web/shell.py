"""The web shell: the home page, and the navigation every signed-in page shows, following the role."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from accounts.models import Role
from accounts.web.pages import shell_principal

# --- Navigation -----------------------------------------------------------------------------------

# (label, URL name, lowest role). A person sees the entries their role reaches, in this order.
NAVIGATION: list[tuple[str, str, str]] = [
    ("Inbox", "inbox_web:conversations", Role.VIEWER),
    ("Agents", "agents_web:list", Role.VIEWER),
    ("Leads", "leads_web:list", Role.VIEWER),
    ("Contacts", "contacts_web:list", Role.VIEWER),
    ("Simulator", "simulator_web:index", Role.VIEWER),
    ("Marketplace", "marketplace:index", Role.VIEWER),
    ("Developers", "developers_web:index", Role.CLIENT_ADMIN),
    ("Settings", "settings_web:index", Role.CLIENT_ADMIN),
]


NO_SHELL: dict[str, Any] = {
    "account": None,
    "nav": [],
    "role_label": "",
    "staff_acting": False,
    "can_write": False,
    "is_admin": False,
}


def ui(request: HttpRequest) -> dict[str, Any]:
    """Template context for the application shell: the tenant, navigation and what the role may do."""
    principal = shell_principal(request)
    if principal is None or principal.account is None:
        # Every key, empty: templates test `ui.staff_acting` on sign-in pages too, and a missing
        # variable would be logged with the page's context (a reset link's token) at DEBUG.
        return {"ui": NO_SHELL}
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
            "account": principal.account,
            "nav": nav,
            "role_label": "Platform staff" if principal.is_staff_acting else Role(principal.role).label,
            "staff_acting": principal.is_staff_acting,
            "can_write": principal.has_role(Role.USER),
            "is_admin": principal.has_role(Role.CLIENT_ADMIN),
        }
    }


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The inbox is where a team starts its day; platform staff first choose a tenant to act in."""
    if getattr(request.user, "account", None) is None and shell_principal(request) is None:
        return redirect("staff_workspace")
    return redirect("inbox_web:conversations")


@require_GET
@cache_control(max_age=86400, public=True)
def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, which browsers and tools ask for by themselves: the icon in the static files."""
    return redirect(static("favicon.ico"), permanent=True)
