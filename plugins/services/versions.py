"""Staff's review of plugin versions: publish, reject with a reason, yank; verify an author.

A version moves pending_review -> published | rejected, and published -> yanked. Yanking stops every
installation running that version at once (its agents hand their conversations to the team on the
next customer message, and no run of a yanked version starts), and each tenant's admins are emailed.
The plugin row shows what its newest published version describes; a plugin with no published
version left is no longer listed.
"""

from __future__ import annotations

import difflib
import json
from functools import partial
from typing import Any

import structlog
from django.db import transaction
from django.utils import timezone

from accounts.principals import Principal
from accounts.services.audit import SYSTEM, RequestContext, audit_log_record
from core.exceptions import ApplicationError, Conflict
from plugins.models import DisabledReason, Plugin, PluginInstallation, PluginVersion, VersionStatus
from plugins.selectors import newest_published, version_key

logger = structlog.get_logger(__name__)

DESCRIBED_FIELDS = ("name", "author", "description", "category", "homepage", "icon")


def described_by(manifest: dict[str, Any]) -> dict[str, Any]:
    """The plugin's catalogue fields as a manifest states them."""
    return {field: manifest.get(field) or "" for field in DESCRIBED_FIELDS}


def _describe_from_newest(plugin: Plugin) -> None:
    """Make the plugin row show its newest published version (or unlist it when none is left)."""
    if hasattr(plugin, "published_versions"):
        del plugin.published_versions
    newest = newest_published(plugin)
    plugin.is_published = newest is not None
    if newest is not None:
        for field, value in described_by(newest.manifest).items():
            setattr(plugin, field, value)
        plugin.published_at = plugin.published_at or newest.published_at
    plugin.save()


def _locked(version: PluginVersion, expected: tuple[str, ...], verb: str) -> PluginVersion:
    locked = PluginVersion.objects.select_for_update().select_related("plugin").defer("package").get(pk=version.pk)
    if locked.status not in expected:
        state = locked.get_status_display().lower()
        raise Conflict(
            f"{locked.plugin.plugin_id} {locked.version} is {state}: it cannot be {verb}.",
            code="version_state",
        )
    return locked


def _audit(action: str, version: PluginVersion, actor: Principal | None, context: RequestContext, **extra: Any) -> None:
    audit_log_record(
        action=action,
        actor=actor,
        account=None,
        target=version.plugin,
        context=context,
        metadata={"plugin": version.plugin.plugin_id, "version": version.version, **extra},
    )


@transaction.atomic
def version_publish(
    *, version: PluginVersion, actor: Principal | None, context: RequestContext = SYSTEM
) -> PluginVersion:
    """Publish a version waiting for review: tenants can install it, and installations of older
    versions are offered the upgrade."""
    version = _locked(version, (VersionStatus.PENDING_REVIEW,), "published")
    now = timezone.now()
    version.status = VersionStatus.PUBLISHED
    version.published_at = version.status_changed_at = now
    version.published_by = actor.user if actor is not None else None
    version.save(update_fields=["status", "published_at", "status_changed_at", "published_by"])
    _describe_from_newest(version.plugin)
    _audit("plugin.version_published", version, actor, context, sha256=version.sha256)
    logger.info("plugin_version_published", plugin=version.plugin.plugin_id, version=version.version)
    return version


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ApplicationError(
            "Give the reason: the author (rejected) or the tenants (yanked) read it.",
            code="validation_error",
            details={"reason": ["This field is required."]},
        )
    return reason[:1000]


@transaction.atomic
def version_reject(
    *, version: PluginVersion, reason: str, actor: Principal | None, context: RequestContext = SYSTEM
) -> PluginVersion:
    """Refuse a version waiting for review, saying why."""
    reason = _reason(reason)
    version = _locked(version, (VersionStatus.PENDING_REVIEW,), "rejected")
    version.status = VersionStatus.REJECTED
    version.status_reason = reason
    version.status_changed_at = timezone.now()
    version.save(update_fields=["status", "status_reason", "status_changed_at"])
    _audit("plugin.version_rejected", version, actor, context, reason=reason)
    return version


@transaction.atomic
def version_yank(
    *, version: PluginVersion, reason: str, actor: Principal | None, context: RequestContext = SYSTEM
) -> list[int]:
    """Withdraw a published version: every installation running it stops now and its tenant's admins
    are told. Answers the ids of the installations stopped."""
    from plugins.tasks import notify_installation_disabled

    reason = _reason(reason)
    version = _locked(version, (VersionStatus.PUBLISHED,), "yanked")
    now = timezone.now()
    version.status = VersionStatus.YANKED
    version.status_reason = reason
    version.status_changed_at = now
    version.save(update_fields=["status", "status_reason", "status_changed_at"])
    running = PluginInstallation.objects.select_for_update().filter(version=version, is_active=True)
    stopped = list(running.values_list("pk", flat=True))
    PluginInstallation.objects.filter(pk__in=stopped).update(
        is_active=False, disabled_reason=DisabledReason.YANKED, disabled_at=now, updated_at=now
    )
    _describe_from_newest(version.plugin)
    _audit("plugin.version_yanked", version, actor, context, reason=reason, installations_stopped=len(stopped))
    for installation_id in stopped:
        transaction.on_commit(partial(notify_installation_disabled.delay, installation_id))
    logger.info("plugin_version_yanked", plugin=version.plugin.plugin_id, version=version.version, stopped=len(stopped))
    return stopped


@transaction.atomic
def plugin_verify(
    *, plugin: Plugin, verified: bool, actor: Principal | None, context: RequestContext = SYSTEM
) -> Plugin:
    """Mark the plugin's author as checked by staff (the verified badge), or take the mark back."""
    plugin = Plugin.objects.select_for_update().get(pk=plugin.pk)
    if plugin.is_verified != verified:
        plugin.is_verified = verified
        plugin.save(update_fields=["is_verified", "updated_at"])
        audit_log_record(
            action="plugin.verified" if verified else "plugin.unverified",
            actor=actor,
            account=None,
            target=plugin,
            context=context,
            metadata={"plugin": plugin.plugin_id},
        )
    return plugin


def previous_version(version: PluginVersion) -> PluginVersion | None:
    """The plugin's highest version below this one that staff published (or yanked after publishing)."""
    candidates = (
        PluginVersion.objects.filter(
            plugin_id=version.plugin_id, status__in=[VersionStatus.PUBLISHED, VersionStatus.YANKED]
        )
        .exclude(pk=version.pk)
        .defer("package")
    )
    below = [v for v in candidates if version_key(v.version) < version_key(version.version)]
    return max(below, key=lambda v: version_key(v.version), default=None)


def manifest_diff(version: PluginVersion) -> dict[str, Any]:
    """What a reviewer compares: the manifest's lines changed since the previous version and the
    permissions it adds or drops."""
    previous = previous_version(version)
    before = previous.manifest if previous is not None else {}
    lines = difflib.unified_diff(
        json.dumps(before, indent=2, sort_keys=True).splitlines(),
        json.dumps(version.manifest, indent=2, sort_keys=True).splitlines(),
        fromfile=f"{previous.version}/plugin.json" if previous else "(no earlier version)",
        tofile=f"{version.version}/plugin.json",
        lineterm="",
    )
    old_permissions = set(before.get("permissions", []))
    new_permissions = set(version.manifest.get("permissions", []))
    return {
        "previous": previous.version if previous else None,
        "diff": "\n".join(lines),
        "added_permissions": sorted(new_permissions - old_permissions),
        "removed_permissions": sorted(old_permissions - new_permissions),
    }
