"""Inbox pages."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from core.web import PageRequest, page


@page()
def conversations(request: PageRequest) -> HttpResponse:
    return render(request, "inbox/conversations.html")


@page()
def lead_list(request: PageRequest) -> HttpResponse:
    return render(request, "inbox/leads.html")
