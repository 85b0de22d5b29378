"""Pages of the plugins app: the "Try it" box on a plugin agent's page (/agents/<pk>/try/)."""

from __future__ import annotations

from django import forms
from django.http import HttpResponse
from django.shortcuts import render

from accounts.models import Role
from accounts.web.pages import PageRequest, page, row_or_404
from agents.models import Agent, AgentRuntime, AgentStatus
from plugins.models import PluginInstallation
from plugins.services.runs import plugin_try


class TryForm(forms.Form):
    message = forms.CharField(max_length=4096, widget=forms.Textarea(attrs={"rows": 3}), label="Customer message")


@page(role=Role.CLIENT_ADMIN)
def agent_try(request: PageRequest, pk: int) -> HttpResponse:
    """POST: run the agent's plugin once on the message, applying nothing; answers the result partial."""
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "POST"})
    agent = row_or_404(
        request,
        Agent.objects.exclude(status=AgentStatus.DELETED).filter(template__runtime=AgentRuntime.PLUGIN),
        missing="This agent does not exist (any more).",
        pk=pk,
    )
    form = TryForm(request.POST)
    if not form.is_valid():
        return render(request, "plugins/partials/try_result.html", {"form": form}, status=400)
    installation = PluginInstallation.objects.select_related("plugin").filter(template_id=agent.template_id).first()
    if installation is None:
        return render(request, "plugins/partials/try_result.html", {"form": form, "missing": True}, status=409)
    result = plugin_try(installation=installation, message=form.cleaned_data["message"], metadata={})
    return render(request, "plugins/partials/try_result.html", {"form": form, "result": result})
