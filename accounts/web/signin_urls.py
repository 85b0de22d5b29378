"""Web routes under /accounts/ that allauth does not provide, mounted before allauth's own routes, so
a path here also takes precedence over allauth's: magic links, your profile, and the tenant switcher
of platform staff."""

from __future__ import annotations

from django.urls import path

from accounts.web import profile, signin, staff

urlpatterns = [
    path("magic-link/", signin.magic_link_request, name="magic_link_request"),
    path("magic-link/<str:token>/", signin.magic_link_confirm, name="magic_link_confirm"),
    # A person's email is their login and is managed by their tenant's admin, not by allauth's page.
    path("email/", signin.email_managed_by_admin, name="account_email"),
    path("profile/", profile.profile, name="profile"),
    path("staff/workspace/", staff.workspace, name="staff_workspace"),
    path("staff/workspace/stop/", staff.workspace_stop, name="staff_workspace_stop"),
]
