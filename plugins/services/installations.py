"""A tenant installs, reconfigures and uninstalls a plugin.

Installing fills the schema's defaults, validates the config against the version's JSON Schema
(400 listing every field error), keeps the secret fields encrypted apart from the rest, grants the
permissions the version asks for, and makes a tenant-only agent template so the tenant can create
agents from the plugin. The plugin's `on_install` runs in the sandbox before anything commits: if it
fails, nothing is installed. Upgrading moves to the newest published version; permissions it adds
must be accepted by name (else 409 naming them). Uninstalling runs `on_uninstall` (a failure there
is logged, the uninstall goes on), deletes the agents made from it, its storage and its secrets;
their executions stay. The plugin's install count follows each install and uninstall.
"""

from __future__ import annotations

import json
from typing import Any

import structlog
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone
from skybot_plugin_sdk.manifest import secret_fields

from accounts.models import Account
from accounts.principals import Principal
from accounts.services.audit import SYSTEM, RequestContext, audit_log_record
from agents.models import Agent, AgentRuntime, AgentStatus, AgentTemplate
from agents.services.agents import agent_delete, config_validate
from core.exceptions import ApplicationError, Conflict, NotFound
from plugins.models import DisabledReason, Plugin, PluginInstallation, PluginVersion
from plugins.sandbox import SandboxError
from plugins.selectors import available_upgrade, newest_published
from plugins.services.capabilities import Capabilities
from plugins.services.sandbox import PluginUnavailable, plugin_code_run

logger = structlog.get_logger(__name__)

# Agents made from a plugin have no config of their own: the installation's config serves them all.
AGENT_CONFIG_SCHEMA: dict[str, Any] = {"type": "object", "properties": {}, "additionalProperties": False}


class PluginHookFailed(ApplicationError):
    status_code = 400
    code = "plugin_hook_failed"
    default_message = "The plugin refused."


def template_key(plugin: Plugin) -> str:
    return f"plugin-{plugin.plugin_id}"[:64]


def installation_config(installation: PluginInstallation) -> dict[str, Any]:
    """The whole config a run sees: the plain fields with the secret ones decrypted."""
    secrets = json.loads(installation.secret_config) if installation.secret_config else {}
    return {**installation.config, **secrets}


def context_payload(installation: PluginInstallation) -> dict[str, Any]:
    return {
        "account_id": installation.account_id,
        "config": installation_config(installation),
        "permissions": list(installation.granted_permissions),
    }


def lifecycle_run(installation: PluginInstallation, hook: str) -> None:
    """Run one lifecycle hook of the installed version in the sandbox; raises `SandboxError`."""
    version = PluginVersion.objects.get(pk=installation.version_id)
    plugin_code_run(
        plugin=installation.plugin,
        version=version,
        op=hook,
        payload={"context": context_payload(installation)},
        capabilities=Capabilities(installation),
    )


def with_defaults(schema: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    """`config` with each top-level property the schema gives a default for and the config lacks."""
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return config
    defaults = {
        name: prop["default"]
        for name, prop in properties.items()
        if isinstance(prop, dict) and "default" in prop and name not in config
    }
    return {**defaults, **config}


def _split_config(version: PluginVersion, config: dict[str, Any]) -> tuple[dict[str, Any], str]:
    schema = version.manifest.get("config_schema") or {}
    config = with_defaults(schema, config)
    config_validate(schema=schema, config=config)
    secret_names = set(secret_fields(schema))
    plain = {name: value for name, value in config.items() if name not in secret_names}
    secrets = {name: value for name, value in config.items() if name in secret_names}
    return plain, json.dumps(secrets) if secrets else ""


def _published_plugin(plugin_id: str) -> tuple[Plugin, PluginVersion]:
    plugin = Plugin.objects.filter(plugin_id=plugin_id, is_published=True).first()
    version = newest_published(plugin) if plugin is not None else None
    if plugin is None or version is None:
        raise NotFound("No such plugin.")
    return plugin, version


def plugin_install(
    *,
    account: Account,
    plugin_id: str,
    config: dict[str, Any],
    actor: Principal,
    context: RequestContext = SYSTEM,
) -> PluginInstallation:
    """Install the newest published version of `plugin_id` in `account` with `config`."""
    plugin, version = _published_plugin(plugin_id)
    if not plugin.is_enabled:
        raise Conflict("Staff switched this plugin off; it cannot be installed now.", code="plugin_unavailable")
    plain, secrets = _split_config(version, config)
    try:
        with transaction.atomic():
            template, _ = AgentTemplate.objects.update_or_create(
                account=account,
                key=template_key(plugin),
                defaults={
                    "name": plugin.name,
                    "category": plugin.category,
                    "description": plugin.description,
                    "config_schema": AGENT_CONFIG_SCHEMA,
                    "runtime": AgentRuntime.PLUGIN,
                    "is_active": True,
                },
            )
            installation = PluginInstallation.objects.create(
                account=account,
                plugin=plugin,
                version=version,
                config=plain,
                secret_config=secrets,
                granted_permissions=version.permissions,
                template=template,
                installed_by=actor.user,
            )
            try:
                lifecycle_run(installation, "on_install")
            except SandboxError as exc:
                raise PluginHookFailed(
                    f"The plugin's on_install failed: {exc.message}", code="plugin_hook_failed"
                ) from None
            Plugin.objects.filter(pk=plugin.pk).update(downloads=F("downloads") + 1)
            audit_log_record(
                action="plugin.installed",
                actor=actor,
                account=account,
                target=installation,
                context=context,
                metadata={"plugin": plugin.plugin_id, "version": version.version, "permissions": version.permissions},
            )
    except IntegrityError:
        raise Conflict("This plugin is already installed.", code="already_installed") from None
    logger.info("plugin_installed", plugin=plugin.plugin_id, account=account.pk, version=version.version)
    return installation


def plugin_uninstall(*, installation: PluginInstallation, actor: Principal, context: RequestContext = SYSTEM) -> None:
    """Remove the installation: its agents are deleted (their conversations go to the team), its
    storage and secrets go with it; executions stay in the agents' history."""
    try:
        lifecycle_run(installation, "on_uninstall")
    except (SandboxError, PluginUnavailable) as exc:
        logger.info("plugin_on_uninstall_failed", installation=installation.pk, error=exc.code)
    for agent in Agent.objects.filter(template_id=installation.template_id).exclude(status=AgentStatus.DELETED):
        agent_delete(agent=agent, actor=actor, context=context)
    with transaction.atomic():
        AgentTemplate.objects.filter(pk=installation.template_id).update(is_active=False, updated_at=timezone.now())
        audit_log_record(
            action="plugin.uninstalled",
            actor=actor,
            account=installation.account,
            target=installation,
            context=context,
            metadata={"plugin": installation.plugin.plugin_id, "version": installation.version.version},
        )
        installation.delete()  # its storage rows cascade
        Plugin.objects.filter(pk=installation.plugin_id).update(downloads=Greatest(F("downloads") - 1, 0))
    logger.info("plugin_uninstalled", plugin=installation.plugin.plugin_id, account=installation.account_id)


@transaction.atomic
def plugin_installation_update(
    *,
    installation: PluginInstallation,
    actor: Principal,
    context: RequestContext = SYSTEM,
    config: dict[str, Any] | None = None,
    is_active: bool | None = None,
) -> PluginInstallation:
    """Change the config (validated again; secret fields left out keep their stored value) or turn
    the installation on or off (off: its agents stop running it; each conversation they hold goes to
    the team when its customer next writes)."""
    installation = (
        PluginInstallation.objects.select_for_update().select_related("plugin", "version").get(pk=installation.pk)
    )
    changed: list[str] = []
    if config is not None:
        schema = installation.version.manifest.get("config_schema") or {}
        kept = {k: v for k, v in installation_config(installation).items() if k in secret_fields(schema)}
        plain, secrets = _split_config(installation.version, {**kept, **config})
        installation.config, installation.secret_config = plain, secrets
        changed.append("config")
    if is_active is not None and is_active != installation.is_active:
        installation.is_active = is_active
        installation.disabled_reason = "" if is_active else DisabledReason.MANUAL
        installation.disabled_at = None if is_active else timezone.now()
        installation.consecutive_failures = 0
        changed.append("is_active")
    if changed:
        installation.save()
        audit_log_record(
            action="plugin.updated",
            actor=actor,
            account=installation.account,
            target=installation,
            context=context,
            metadata={"plugin": installation.plugin.plugin_id, "fields": changed},
        )
    return installation


class PermissionsNotAccepted(ApplicationError):
    status_code = 409
    code = "permissions_not_accepted"
    default_message = "The new version asks for more permissions: accept them to upgrade."


def plugin_upgrade(
    *,
    installation: PluginInstallation,
    actor: Principal,
    accept_permissions: list[str] | None = None,
    config: dict[str, Any] | None = None,
    context: RequestContext = SYSTEM,
) -> PluginInstallation:
    """Move the installation to the plugin's newest published version.

    Permissions the new version adds must each be in `accept_permissions` (409 naming the missing
    ones; nothing changes). The config is checked against the new version's schema (`config` given
    here is merged over the current one; secret fields left out keep their value). An installation
    stopped because its version was yanked starts again on the new one."""
    with transaction.atomic():
        installation = (
            PluginInstallation.objects.select_for_update()
            .select_related("plugin", "account")
            .defer("version__package")
            .select_related("version")
            .get(pk=installation.pk)
        )
        upgrade = available_upgrade(installation)
        if upgrade is None:
            raise Conflict(
                f"{installation.plugin.name} {installation.version.version} is the newest published version.",
                code="up_to_date",
            )
        unaccepted = sorted(set(upgrade.added_permissions) - set(accept_permissions or []))
        if unaccepted:
            raise PermissionsNotAccepted(
                f"{upgrade.version.version} asks for permissions this installation did not grant: "
                f"{', '.join(unaccepted)}. Accept them to upgrade.",
                details={"accept_permissions": unaccepted},
            )
        current = installation_config(installation)
        plain, secrets = _split_config(upgrade.version, {**current, **(config or {})})
        previous = installation.version.version
        installation.version = upgrade.version
        installation.config, installation.secret_config = plain, secrets
        installation.granted_permissions = upgrade.version.permissions
        if not installation.is_active and installation.disabled_reason == DisabledReason.YANKED:
            installation.is_active, installation.disabled_reason, installation.disabled_at = True, "", None
            installation.consecutive_failures = 0
        installation.save()
        audit_log_record(
            action="plugin.upgraded",
            actor=actor,
            account=installation.account,
            target=installation,
            context=context,
            metadata={
                "plugin": installation.plugin.plugin_id,
                "from": previous,
                "to": upgrade.version.version,
                "added_permissions": upgrade.added_permissions,
                "removed_permissions": upgrade.removed_permissions,
            },
        )
    logger.info("plugin_upgraded", plugin=installation.plugin.plugin_id, account=installation.account_id)
    return installation
