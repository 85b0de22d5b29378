"""Agents pages: the list, creating an agent from a template, an agent's page (status and lifecycle
actions, analytics with a chart, report export, executions log) and editing its configuration.

Reads come from the agents selectors and analytics service, writes from the same services as the
REST API, with the API's role rules: lifecycle and configuration changes need CLIENT_ADMIN, a
report export USER, reading VIEWER. Parts of the agent page that change live (status, executions)
and the analytics panel have their own URLs answering the partial alone.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any, cast

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from accounts.scoping import tenant_rows
from accounts.services.audit import RequestContext
from accounts.web.pages import PageRequest, page, row_or_404
from agents.apis.agents import _create_limit_usage
from agents.models import Agent, AgentExecution, AgentRuntime, AgentStatus, AgentTemplate, Report, ReportKind
from agents.selectors import (
    RecentOutcomes,
    agent_executions,
    agent_list_with_activity,
    agents_visible,
    recent_outcomes,
    template_list,
)
from agents.services.agents import (
    agent_activate,
    agent_create,
    agent_deactivate,
    agent_delete,
    agent_deploy,
    agent_update,
)
from agents.services.analytics import AnalyticsRange, AnalyticsRangeError, agent_analytics, analytics_range
from agents.services.lifecycle import can_transition
from agents.services.reports import report_request
from agents.skybot import runner_configured
from agents.web.charts import execution_chart
from agents.web.forms import RANGES, AgentFilterForm, AgentForm, AnalyticsForm, ConfigForm, label_for
from core.exceptions import ApplicationError, RateLimited
from core.filters import parse_id
from core.web import is_htmx
from inbox.models import Channel

AGENTS_PER_PAGE = 50
EXECUTIONS_PER_PAGE = 20
RECENT = timedelta(days=7)


# --- lookups --------------------------------------------------------------------------------------


def _agent(request: PageRequest, pk: int) -> Agent:
    """The tenant's agent (not deleted): the same 404 for a missing one and another tenant's."""
    return row_or_404(request, agents_visible(scoped=Agent.objects.all()), missing=AGENT_MISSING, pk=pk)


AGENT_MISSING = "This agent does not exist (any more)."


def _template(request: PageRequest, key: str) -> AgentTemplate:
    """A template the tenant is offered: a runner template only when this server has a runner."""
    offered = template_list(principal=request.principal, with_runner=runner_configured())
    return get_object_or_404(offered, key=key)


def _channel_choices(request: PageRequest) -> list[tuple[int, str]]:
    channels = tenant_rows(Channel.objects.filter(is_active=True), principal=request.principal).only(
        "id", "name", "display_phone_number"
    )
    return [(channel.pk, str(channel)) for channel in channels]


# --- list -------------------------------------------------------------------------------------------


@page()
def agent_list(request: PageRequest) -> HttpResponse:
    filters = AgentFilterForm(request.GET)
    if not filters.is_valid():
        return render(request, "agents/list.html", {"filters": filters, "page_obj": None}, status=400)
    queryset = agent_list_with_activity(
        principal=request.principal, filters={key: value for key, value in filters.cleaned_data.items() if value}
    )
    page_obj = Paginator(queryset, AGENTS_PER_PAGE).get_page(request.GET.get("page"))
    outcomes = recent_outcomes(agent_ids=[agent.pk for agent in page_obj], since=timezone.now() - RECENT)
    row: Any
    for row in page_obj:
        row.recent = outcomes.get(row.pk, RecentOutcomes())
    context = {"filters": filters, "page_obj": page_obj, "filtered": bool(filters.cleaned_data.get("status"))}
    template = "agents/partials/agent_rows.html" if is_htmx(request) else "agents/list.html"
    return render(request, template, context)


# --- create and edit ------------------------------------------------------------------------------


@page(role=Role.CLIENT_ADMIN)
def agent_new(request: PageRequest) -> HttpResponse:
    """The template catalogue: pick what kind of agent to create. Runner templates are offered only
    when this server has a SkyBot runner; otherwise the page says how many are left out, and why."""
    templates = list(template_list(principal=request.principal))
    offered = [t for t in templates if t.runtime != AgentRuntime.RUNNER or runner_configured()]
    context = {"templates": offered, "runner_templates_left_out": len(templates) - len(offered)}
    return render(request, "agents/new.html", context)


@page(role=Role.CLIENT_ADMIN)
def agent_create_form(request: PageRequest, template_key: str) -> HttpResponse:
    template = _template(request, template_key)
    channels = _channel_choices(request)
    if request.method != "POST":
        context = {
            "template": template,
            "form": AgentForm(channels=channels),
            "config_form": ConfigForm(schema=template.config_schema),
        }
        return render(request, "agents/create.html", context)

    form = AgentForm(request.POST, channels=channels)
    config_form = ConfigForm(request.POST, schema=template.config_schema)
    context = {"template": template, "form": form, "config_form": config_form}
    if not (form.is_valid() & config_form.is_valid()):
        return render(request, "agents/create.html", context, status=400)
    usage = _create_limit_usage(cast(Any, request), request.principal, increment=False)  # the API's limit
    if usage["count"] >= usage["limit"]:
        raise RateLimited("Too many agents created; try again later.", retry_after=usage["time_left"])
    try:
        agent = agent_create(
            account=request.account,
            template=template.key,
            config=config_form.config(),
            actor=request.principal,
            context=RequestContext.from_request(request),
            **_agent_fields(form.cleaned_data),
        )
    except ApplicationError as error:
        if error.code != "validation_error":
            raise
        _show_errors(error, form, config_form)
        return render(request, "agents/create.html", context, status=400)
    _create_limit_usage(cast(Any, request), request.principal, increment=True)
    messages.success(request, f"Agent “{agent.name}” created. Its deployment to the runner has started.")
    return redirect("agents_web:detail", pk=agent.pk)


@page(role=Role.CLIENT_ADMIN)
def agent_edit(request: PageRequest, pk: int) -> HttpResponse:
    agent = _agent(request, pk)
    channels = _channel_choices(request)
    schema = agent.template.config_schema
    if request.method != "POST":
        initial = {
            "name": agent.name,
            "description": agent.description,
            "reply_timeout_seconds": agent.reply_timeout_seconds,
            "channels": [channel.pk for channel in agent.channels.all()],
        }
        context = {
            "agent": agent,
            "template": agent.template,
            "form": AgentForm(initial=initial, channels=channels),
            "config_form": ConfigForm(schema=schema, config=agent.config),
        }
        return render(request, "agents/edit.html", context)

    form = AgentForm(request.POST, channels=channels)
    config_form = ConfigForm(request.POST, schema=schema, config=agent.config)
    context = {"agent": agent, "template": agent.template, "form": form, "config_form": config_form}
    if not (form.is_valid() & config_form.is_valid()):
        return render(request, "agents/edit.html", context, status=400)
    try:
        agent = agent_update(
            agent=agent,
            actor=request.principal,
            context=RequestContext.from_request(request),
            config=config_form.config(),
            **_agent_fields(form.cleaned_data),
        )
    except ApplicationError as error:
        if error.code != "validation_error":
            raise
        _show_errors(error, form, config_form)
        return render(request, "agents/edit.html", context, status=400)
    note = " It is being redeployed with the new configuration." if agent.status == AgentStatus.DEPLOYING else ""
    messages.success(request, f"Agent “{agent.name}” saved.{note}")
    return redirect("agents_web:detail", pk=agent.pk)


def _agent_fields(data: dict[str, Any]) -> dict[str, Any]:
    fields = {
        "name": data["name"],
        "description": data.get("description") or "",
        "reply_timeout_seconds": data["reply_timeout_seconds"],
    }
    if "channels" in data:
        fields["channels"] = list(data["channels"])
    return fields


def _show_errors(error: ApplicationError, form: AgentForm, config_form: ConfigForm) -> None:
    details = error.details if isinstance(error.details, dict) else {}
    config_errors = {key: value for key, value in details.items() if str(key).split(".")[0] == "config"}
    config_form.add_schema_errors(config_errors)
    for key, value in details.items():
        if key in config_errors:
            continue
        target = key if key in form.fields else None
        for message in value if isinstance(value, list) else [value]:
            form.add_error(target, str(message))
    if not details:
        form.add_error(None, str(error.message))


# --- an agent's page ------------------------------------------------------------------------------


def _actions(agent: Agent) -> dict[str, bool]:
    """The lifecycle actions a person may ask for now (the runner decides the others). A plugin
    agent is never deployed: the platform runs it."""
    return {
        "deploy": agent.template.runtime == AgentRuntime.RUNNER and can_transition(agent.status, AgentStatus.DEPLOYING),
        "activate": can_transition(agent.status, AgentStatus.ACTIVE),
        "deactivate": can_transition(agent.status, AgentStatus.INACTIVE),
        "delete": can_transition(agent.status, AgentStatus.DELETED),
    }


def _status_context(agent: Agent) -> dict[str, Any]:
    return {"agent": agent, "actions": _actions(agent)}


def _window(form: AnalyticsForm) -> tuple[str, AnalyticsRange]:
    key, length, interval = form.period()
    latest = analytics_range(date_from=None, date_to=None, interval="day")  # ends now, rounded up
    try:
        window = analytics_range(date_from=latest.date_to - length, date_to=latest.date_to, interval=interval)
    except AnalyticsRangeError as exc:  # not with the offered periods; the service has the last word
        raise ApplicationError("Invalid input.", code="validation_error", details=exc.errors) from None
    return key, window


def _analytics_context(request: PageRequest, agent: Agent) -> tuple[dict[str, Any], int]:
    form = AnalyticsForm(request.GET)
    if not form.is_valid():
        return {"agent": agent, "analytics_form": form, "analytics": None}, 400
    key, window = _window(form)
    answer = agent_analytics(agent=agent, window=window)
    context = {
        "agent": agent,
        "analytics_form": form,
        "analytics": answer,
        "range_key": key,
        "range_label": RANGES[key][0],
        "chart": execution_chart(answer["series"], window.interval),
        "figures": {
            "success_rate": "—" if answer["success_rate"] is None else f"{answer['success_rate']:.1%}",
            "p50": duration_label(answer["p50_duration_ms"]),
            "p95": duration_label(answer["p95_duration_ms"]),
        },
    }
    return context, 200


def duration_label(ms: float | None) -> str:
    """850 ms, 1.2 s, 2 min 5 s; a dash when unknown."""
    if ms is None:
        return "—"
    if ms < 1000:
        return f"{ms:.0f} ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s"


def _executions_context(request: PageRequest, agent: Agent) -> dict[str, Any]:
    before: AgentExecution | None = None
    raw = request.GET.get("before")
    if raw is not None:
        before_id = parse_id(raw)
        before = AgentExecution.objects.filter(agent=agent, pk=before_id).first() if before_id else None
        if before is None:
            raise ApplicationError("Unknown execution.", code="validation_error", details={"before": [raw]})
    rows = list(agent_executions(agent=agent, before=before)[: EXECUTIONS_PER_PAGE + 1])
    for execution in rows:
        execution.duration_label = duration_label(execution.duration_ms)  # type: ignore[attr-defined]
    return {
        "agent": agent,
        "executions": rows[:EXECUTIONS_PER_PAGE],
        "older": rows[EXECUTIONS_PER_PAGE - 1].pk if len(rows) > EXECUTIONS_PER_PAGE else None,
        "first_page": before is None,
    }


@page()
def agent_detail(request: PageRequest, pk: int) -> HttpResponse:
    agent = _agent(request, pk)
    analytics, status = _analytics_context(request, agent)
    context = {**_status_context(agent), **analytics, **_executions_context(request, agent)}
    context["config_rows"] = _config_rows(agent)
    return render(request, "agents/detail.html", context, status=status)


def _config_rows(agent: Agent) -> list[tuple[str, Any]]:
    """The configuration as (label, value) rows in the schema's order, unknown keys last."""
    form = ConfigForm(schema=agent.template.config_schema)
    labels = {spec.path[0]: None for spec in form.specs.values()}
    ordered = [key for key in labels if key in agent.config] + [k for k in agent.config if k not in labels]
    properties = agent.template.config_schema.get("properties") or {}
    return [(label_for(key, properties.get(key) or {}), _shown(agent.config[key])) for key in ordered]


def _shown(value: Any) -> str:
    """A configuration value as a person reads it."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list) and all(isinstance(item, str | int | float) for item in value):
        return ", ".join(str(item) for item in value) or "—"
    if isinstance(value, dict) and all(isinstance(item, str | int | float | bool | list) for item in value.values()):
        return "; ".join(f"{label_for(str(key), {})}: {_shown(item)}" for key, item in value.items())
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


@page()
def agent_status(request: PageRequest, pk: int) -> HttpResponse:
    return render(request, "agents/partials/status.html", _status_context(_agent(request, pk)))


@page()
def agent_executions_part(request: PageRequest, pk: int) -> HttpResponse:
    agent = _agent(request, pk)
    context = _executions_context(request, agent)
    template = "agents/partials/executions.html" if is_htmx(request) else "agents/executions.html"
    return render(request, template, context)


@page()
def agent_analytics_part(request: PageRequest, pk: int) -> HttpResponse:
    agent = _agent(request, pk)
    context, status = _analytics_context(request, agent)
    query = request.GET.urlencode()
    page_url = reverse("agents_web:detail", args=[agent.pk]) + (f"?{query}" if query else "")
    if not is_htmx(request):
        return redirect(page_url)
    response = render(request, "agents/partials/analytics.html", context, status=status)
    if status == 200:
        response["HX-Push-Url"] = page_url  # the address bar shows the agent's page with this period
    return response


# --- lifecycle actions ----------------------------------------------------------------------------

ACTIONS = {
    "deploy": (agent_deploy, "Deployment started."),
    "activate": (agent_activate, "Agent activated."),
    "deactivate": (agent_deactivate, "Agent deactivated."),
}


@page(role=Role.CLIENT_ADMIN)
def agent_action(request: PageRequest, pk: int, action: str) -> HttpResponse:
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "POST"})
    if action not in ACTIONS:
        raise Http404
    service, done = ACTIONS[action]
    agent = service(agent=_agent(request, pk), actor=request.principal, context=RequestContext.from_request(request))
    if is_htmx(request):
        return render(request, "agents/partials/status.html", _status_context(_agent(request, agent.pk)))
    messages.success(request, done)
    return redirect("agents_web:detail", pk=agent.pk)


@page(role=Role.CLIENT_ADMIN)
def agent_remove(request: PageRequest, pk: int) -> HttpResponse:
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "POST"})
    agent = agent_delete(
        agent=_agent(request, pk), actor=request.principal, context=RequestContext.from_request(request)
    )
    messages.success(request, f"Agent “{agent.name}” deleted.")
    return redirect("agents_web:list")


# --- report export --------------------------------------------------------------------------------


@page(role=Role.USER)
def report_create(request: PageRequest, pk: int) -> HttpResponse:
    """Ask for a CSV of this agent's executions over the period on screen; the answer polls its status."""
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "POST"})
    agent = _agent(request, pk)
    form = AnalyticsForm(request.POST)
    if not form.is_valid():
        return render(request, "agents/partials/report.html", {"agent": agent, "form_errors": form.errors}, status=400)
    _key, window = _window(form)
    report = report_request(
        account=request.account,
        kind=ReportKind.AGENT_EXECUTIONS,
        agent=agent,
        date_from=window.date_from,
        date_to=window.date_to,
        actor=request.principal,
        context=RequestContext.from_request(request),
    )
    # `report` is the request as made (pending): the fragment polls for the job's progress.
    return render(request, "agents/partials/report.html", {"agent": agent, "report": report})


@page()
def report_status(request: PageRequest, report_id: int) -> HttpResponse:
    report = row_or_404(request, Report.objects.all(), missing="This report does not exist.", pk=report_id)
    return render(request, "agents/partials/report.html", {"report": report})
