"""The tenant's installed plugins, under /marketplace/installed/ (CLIENT_ADMIN, linked from Settings):
each one's version and state, why it is off, a newer version's permission changes and the update,
its configuration, turning it off and on, uninstalling, its recent executions and errors, and the
agents built on it.

Every installation is looked up in the admin's tenant by plugin id: another tenant's is the same
404 as none. Writes go through the installation services, as the REST API's do.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from skybot_plugin_sdk.manifest import secret_fields

from accounts.models import Role
from accounts.services.audit import RequestContext
from accounts.web.pages import PageRequest, page, row_or_404
from agents.models import Agent, AgentExecution, AgentStatus, ExecutionStatus
from agents.web.forms import label_for, ordered_properties
from core.exceptions import ApplicationError
from plugins.models import DisabledReason, PluginInstallation, VersionStatus
from plugins.selectors import Upgrade, available_upgrade, icon_url, installations_with_versions
from plugins.services.installations import (
    PermissionsNotAccepted,
    plugin_installation_update,
    plugin_uninstall,
    plugin_upgrade,
)
from plugins.web.forms import PluginConfigForm, SwitchForm, UpgradeForm
from plugins.web.marketplace import installation_url, permission_rows, show_config_error

RECENT_EXECUTIONS = 20
RECENT_ERRORS = 5
AREA = "installed"  # the marketplace's tab these pages are under
MISSING = "This plugin is not installed in your workspace."


def _installations(request: PageRequest) -> QuerySet[PluginInstallation]:
    return installations_with_versions(
        PluginInstallation.objects.filter(account=request.account)
        .select_related("plugin", "template")
        .defer("version__package")
        .select_related("version")
    )


def _installation(request: PageRequest, plugin_id: str) -> PluginInstallation:
    """The tenant's installation of `plugin_id`: the same 404 for none and another tenant's."""
    return row_or_404(request, _installations(request), missing=MISSING, plugin__plugin_id=plugin_id)


def why_off(installation: PluginInstallation) -> str:
    """Why the installation does not run, in words; empty when it runs."""
    plugin = installation.plugin
    if not plugin.is_enabled:
        reason = f" {plugin.disabled_reason}" if plugin.disabled_reason else ""
        return f"SkyBot staff switched this plugin off for every workspace.{reason}"
    if installation.is_active:
        return ""
    if installation.disabled_reason == DisabledReason.FAILING:
        return (
            f"Turned off by itself: its last {installation.consecutive_failures} runs failed. "
            "Check its configuration and recent errors, then turn it back on."
        )
    if installation.disabled_reason == DisabledReason.YANKED:
        return (
            f"Turned off because its author withdrew version {installation.version.version}. "
            "Update to a published version to run it again."
        )
    return "Turned off by an admin of your workspace. Its agents do not answer until it is turned back on."


def _row(installation: PluginInstallation) -> dict[str, Any]:
    return {
        "installation": installation,
        "plugin": installation.plugin,
        "icon_url": icon_url(installation.plugin),
        "upgrade": available_upgrade(installation),
        "why_off": why_off(installation),
    }


@page(role=Role.CLIENT_ADMIN)
def installed_list(request: PageRequest) -> HttpResponse:
    rows = [_row(installation) for installation in _installations(request).order_by("plugin__name", "id")]
    return render(request, "plugins/installed.html", {"area": AREA, "rows": rows})


@page(role=Role.CLIENT_ADMIN)
def installation_detail(request: PageRequest, plugin_id: str) -> HttpResponse:
    return _detail_response(request, _installation(request, plugin_id))


def _detail_response(
    request: PageRequest, installation: PluginInstallation, *, status: int = 200, notice: str = ""
) -> HttpResponse:
    row = _row(installation)
    upgrade: Upgrade | None = row["upgrade"]
    executions = AgentExecution.objects.filter(
        account=request.account, agent__template_id=installation.template_id
    ).select_related("agent")
    context = {
        **row,
        "area": AREA,
        "yanked": installation.version.status == VersionStatus.YANKED,
        "upgrade_form": UpgradeForm(added_permissions=upgrade.added_permissions) if upgrade else None,
        "added": permission_rows(upgrade.added_permissions) if upgrade else [],
        "removed": permission_rows(upgrade.removed_permissions) if upgrade else [],
        "permissions": permission_rows(list(installation.granted_permissions)),
        "config_rows": _config_rows(installation),
        "agents": list(
            Agent.objects.filter(account=request.account, template_id=installation.template_id)
            .exclude(status=AgentStatus.DELETED)
            .order_by("name", "id")
        ),
        "executions": list(executions.order_by("-started_at", "-id")[:RECENT_EXECUTIONS]),
        "errors": list(executions.filter(status=ExecutionStatus.FAILED).order_by("-started_at", "-id")[:RECENT_ERRORS]),
        "notice": notice,
    }
    return render(request, "plugins/installation.html", context, status=status)


def _config_rows(installation: PluginInstallation) -> list[tuple[str, str]]:
    """The configuration as (label, value) in the form's order; a secret one only as set or not."""
    schema = installation.version.manifest.get("config_schema") or {}
    secrets, stored = set(secret_fields(schema)), set(_stored_secrets(installation))
    rows: list[tuple[str, str]] = []
    for name, prop in ordered_properties(schema):
        if name in secrets:
            rows.append((label_for(name, prop), "Set (hidden)" if name in stored else "Not set"))
        elif name in installation.config:
            rows.append((label_for(name, prop), _shown(installation.config[name])))
    return rows


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list) and all(isinstance(item, str | int | float) for item in value):
        return ", ".join(str(item) for item in value) or "—"
    if isinstance(value, list):
        return f"{len(value)} item{'' if len(value) == 1 else 's'}"
    if isinstance(value, dict):
        return "; ".join(f"{label_for(str(key), {})}: {_shown(item)}" for key, item in value.items()) or "—"
    return str(value)


# --- configure ----------------------------------------------------------------------------------------


def _stored_secrets(installation: PluginInstallation) -> list[str]:
    """The secret fields that hold a value (their names only; the values are never shown)."""
    stored = json.loads(installation.secret_config) if installation.secret_config else {}
    return [name for name in stored if isinstance(name, str)]


@page(role=Role.CLIENT_ADMIN)
def installation_configure(request: PageRequest, plugin_id: str) -> HttpResponse:
    installation = _installation(request, plugin_id)
    schema = installation.version.manifest.get("config_schema") or {}
    stored = _stored_secrets(installation)
    context: dict[str, Any] = {"area": AREA, "installation": installation, "plugin": installation.plugin}
    if request.method != "POST":
        context["form"] = PluginConfigForm(schema=schema, config=installation.config, stored_secrets=stored)
        return render(request, "plugins/configure.html", context)
    form = PluginConfigForm(request.POST, schema=schema, config=installation.config, stored_secrets=stored)
    context["form"] = form
    if not form.is_valid():
        return render(request, "plugins/configure.html", context, status=400)
    try:
        plugin_installation_update(
            installation=installation,
            actor=request.principal,
            context=RequestContext.from_request(request),
            config=form.config(),
        )
    except ApplicationError as error:
        return render(request, "plugins/configure.html", context, status=show_config_error(form, error))
    messages.success(request, f"The configuration of {installation.plugin.name} is saved.")
    return redirect(installation_url(installation.plugin))


# --- off and on -----------------------------------------------------------------------------------------


@page(role=Role.CLIENT_ADMIN)
def installation_switch(request: PageRequest, plugin_id: str) -> HttpResponse:
    """POST is_active=true|false: turn the installation on or off."""
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "POST"})
    installation = _installation(request, plugin_id)
    form = SwitchForm(request.POST)
    if not form.is_valid():
        return _detail_response(request, installation, status=400, notice="Say whether to turn it on or off.")
    is_active = form.cleaned_data["is_active"]
    plugin_installation_update(
        installation=installation,
        actor=request.principal,
        context=RequestContext.from_request(request),
        is_active=is_active,
    )
    name = installation.plugin.name
    if is_active:
        messages.success(request, f"{name} is on: its agents answer again.")
    else:
        messages.success(request, f"{name} is off: its agents stop answering and hand their conversations to the team.")
    return redirect(installation_url(installation.plugin))


# --- update to a newer version ----------------------------------------------------------------------


@page(role=Role.CLIENT_ADMIN)
def installation_upgrade(request: PageRequest, plugin_id: str) -> HttpResponse:
    """GET: the new version, its changelog, the permissions it adds (to tick) and drops, and its
    configuration form; POST: update. The short form on the installation's page posts only the ticks."""
    installation = _installation(request, plugin_id)
    upgrade = available_upgrade(installation)
    if upgrade is None:
        messages.info(request, f"{installation.plugin.name} {installation.version.version} is the newest version.")
        return redirect(installation_url(installation.plugin))
    schema = upgrade.version.manifest.get("config_schema") or {}
    stored = [name for name in _stored_secrets(installation) if name in secret_fields(schema)]
    with_config = request.method == "POST" and request.POST.get("with_config") == "1"
    data = request.POST if request.method == "POST" else None
    config_form = PluginConfigForm(
        data if with_config else None, schema=schema, config=installation.config, stored_secrets=stored
    )
    form = UpgradeForm(data, added_permissions=upgrade.added_permissions)
    context: dict[str, Any] = {
        "area": AREA,
        "installation": installation,
        "plugin": installation.plugin,
        "upgrade": upgrade,
        "added": permission_rows(upgrade.added_permissions),
        "removed": permission_rows(upgrade.removed_permissions),
        "form": form,
        "config_form": config_form,
    }
    if request.method != "POST":
        return render(request, "plugins/upgrade.html", context)
    if request.POST.get("version") != upgrade.version.version:
        form.add_error(None, f"Version {upgrade.version.version} is now the newest. Check what it may do, then update.")
        return render(request, "plugins/upgrade.html", context, status=409)
    valid = form.is_valid()
    if with_config:
        valid = config_form.is_valid() and valid
    if not valid:
        return render(request, "plugins/upgrade.html", context, status=400)
    try:
        plugin_upgrade(
            installation=installation,
            actor=request.principal,
            accept_permissions=form.accepted(),
            config=config_form.config() if with_config else None,
            context=RequestContext.from_request(request),
        )
    except PermissionsNotAccepted as error:
        missing = error.details.get("accept_permissions") or []
        words = "; ".join(f"{p}: {w}" for p, w in permission_rows(missing))
        form.add_error("accept_permissions" if "accept_permissions" in form.fields else None, f"Tick each: {words}.")
        return render(request, "plugins/upgrade.html", context, status=error.status_code)
    except ApplicationError as error:
        if with_config:
            status = show_config_error(config_form, error)
        else:  # the short form sent no configuration: the new version wants a change to it
            form.add_error(None, f"{error.message} Check the configuration below, then update.")
            details = error.details if isinstance(error.details, dict) else {}
            for key, problems in details.items():
                for message in problems if isinstance(problems, list) else [problems]:
                    form.add_error(None, f"{key}: {message}")
            status = error.status_code
        return render(request, "plugins/upgrade.html", context, status=status)
    messages.success(request, f"{installation.plugin.name} is updated to {upgrade.version.version}.")
    return redirect(installation_url(installation.plugin))


# --- uninstall ------------------------------------------------------------------------------------------


@page(role=Role.CLIENT_ADMIN)
def installation_uninstall(request: PageRequest, plugin_id: str) -> HttpResponse:
    """GET: what uninstalling removes, to confirm; POST: uninstall."""
    installation = _installation(request, plugin_id)
    if request.method != "POST":
        agents = Agent.objects.filter(account=request.account, template_id=installation.template_id).exclude(
            status=AgentStatus.DELETED
        )
        context = {
            "area": AREA,
            "installation": installation,
            "plugin": installation.plugin,
            "agents": list(agents.order_by("name", "id")),
        }
        return render(request, "plugins/uninstall.html", context)
    name = installation.plugin.name
    plugin_uninstall(installation=installation, actor=request.principal, context=RequestContext.from_request(request))
    messages.success(request, f"{name} is uninstalled; the agents made from it are deleted.")
    return redirect(reverse("marketplace:installed"))
