"""Web sign-in routes that allauth does not provide (magic links), mounted at /accounts/ before
allauth's own routes, so a path here also takes precedence over allauth's."""

from __future__ import annotations

from django.urls import path

from accounts.web import signin

urlpatterns = [
    path("magic-link/", signin.magic_link_request, name="magic_link_request"),
    path("magic-link/<str:token>/", signin.magic_link_confirm, name="magic_link_confirm"),
    # A person's email is their login and is managed by their tenant's admin, not by allauth's page.
    path("email/", signin.email_managed_by_admin, name="account_email"),
]
