"""Settings pages (CLIENT_ADMIN)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from accounts.models import Role
from core.web import PageRequest, page


@page(role=Role.CLIENT_ADMIN)
def index(request: PageRequest) -> HttpResponse:
    return render(request, "accounts/settings/index.html")
