"""Server-rendered pages of the web UI that belong to no single app."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The inbox is where a team starts its day; platform staff without a tenant go to the admin."""
    if getattr(request.user, "account", None) is None:
        return redirect("admin:index")
    return redirect("inbox_web:conversations")
