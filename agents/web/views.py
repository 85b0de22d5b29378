"""Agents pages."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from core.web import PageRequest, page


@page()
def agent_list(request: PageRequest) -> HttpResponse:
    return render(request, "agents/list.html")
