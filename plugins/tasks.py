"""Celery tasks of the plugins app: lifecycle hooks of agents starting and stopping, and telling a
tenant's admins that an installation was switched off."""

from __future__ import annotations

import structlog
from celery import shared_task
from django.core.mail import send_mail

from accounts.selectors import account_admin_emails
from plugins.models import DisabledReason, PluginInstallation, PluginVersion
from plugins.sandbox import SandboxError

logger = structlog.get_logger(__name__)

HOOKS = ("on_activate", "on_deactivate")


@shared_task(name="plugins.tasks.run_lifecycle_hook", acks_late=True)
def run_lifecycle_hook(installation_id: int, hook: str) -> None:
    """Run `on_activate` / `on_deactivate` of an installation's plugin; a failure is logged only
    (the agent's status is the person's decision, not the plugin's)."""
    from plugins.services.installations import lifecycle_run
    from plugins.services.sandbox import PluginUnavailable

    if hook not in HOOKS:
        return
    installation = PluginInstallation.objects.select_related("plugin").filter(pk=installation_id).first()
    if installation is None:
        return
    try:
        lifecycle_run(installation, hook)
    except (SandboxError, PluginUnavailable) as exc:
        logger.info("plugin_lifecycle_hook_failed", installation=installation_id, hook=hook, error=str(exc))


@shared_task(name="plugins.tasks.notify_installation_disabled")
def notify_installation_disabled(installation_id: int) -> None:
    """Email the tenant's CLIENT_ADMINs that a plugin was switched off: its runs kept failing, or
    staff withdrew (yanked) the version it ran."""
    installation = PluginInstallation.objects.select_related("account", "plugin").filter(pk=installation_id).first()
    if installation is None or installation.is_active:
        return
    recipients = account_admin_emails(account_id=installation.account_id)
    if not recipients:
        return
    plugin = installation.plugin
    if installation.disabled_reason == DisabledReason.YANKED:
        version = PluginVersion.objects.only("version", "status_reason").get(pk=installation.version_id)
        why = f"its version {version.version} was withdrawn by SkyBot staff: {version.status_reason}"
        remedy = (
            "Update it to a published version from Settings > Plugins (or POST /api/v1/plugins/"
            f"{plugin.plugin_id}/upgrade), or uninstall it.\n"
        )
    else:
        why = f"its last {installation.consecutive_failures} runs failed"
        remedy = (
            "Look at the failed runs in the agent's executions, then turn the plugin back on (Settings > Plugins, "
            f"or PATCH /api/v1/plugins/installed/{plugin.plugin_id} with is_active: true).\n"
        )
    send_mail(
        subject=f"Plugin switched off: {plugin.name}",
        message=(
            f"SkyBot Inbox switched off the plugin {plugin.name} ({plugin.plugin_id}) in {installation.account.name}:\n"
            f"{why}.\n\nConversations its agents held go to your team. {remedy}"
        ),
        from_email=None,
        recipient_list=recipients,
    )
