"""Uploading a plugin package: every check first, then one transaction that stores it.

A package is refused with one 400 listing every problem the SDK's static checks find (size, zip
safety, manifest, files) and, when those pass, whether its entrypoint imports inside the sandbox as
an `AgentPlugin`. Nothing is stored for a refused package. A stored version waits for staff review
(services/versions.py) unless the uploader publishes it at once. Uploading the same bytes again
answers the version already stored; other bytes under a version number already stored are refused.
"""

from __future__ import annotations

from typing import Any

import structlog
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from skybot_plugin_sdk.package import inspect_package

from accounts.principals import Principal
from accounts.services.audit import SYSTEM, RequestContext, audit_log_record
from core.exceptions import ApplicationError, Conflict
from plugins.models import Plugin, PluginVersion, VersionStatus
from plugins.sandbox import SandboxError
from plugins.selectors import version_key
from plugins.services.versions import described_by, version_publish

logger = structlog.get_logger(__name__)


class PackageRefused(ApplicationError):
    status_code = 400
    code = "invalid_package"
    default_message = "The package cannot be published."


# Plugin ids that name a page or route of their own (`/api/v1/plugins/installed`, `/marketplace/installed/`).
RESERVED_IDS = frozenset({"installed"})


def package_problems(data: bytes, *, bundled: bool = False) -> tuple[dict[str, Any] | None, str, list[str]]:
    """(manifest, sha256, problems) for a package: the static checks, then the import in the sandbox."""
    report = inspect_package(data, max_bytes=settings.PLUGINS_MAX_PACKAGE_BYTES)
    problems = list(report.problems)
    manifest = report.manifest
    if manifest is not None and manifest.get("id") in RESERVED_IDS:
        problems.append(f"id: {manifest['id']!r} is reserved by the platform; choose another.")
    if manifest is not None and not problems:
        try:
            if version_key(str(manifest["min_platform_version"])) > version_key(settings.PLATFORM_VERSION):
                problems.append(
                    f"min_platform_version: the plugin needs platform {manifest['min_platform_version']}; "
                    f"this is {settings.PLATFORM_VERSION}."
                )
        except (KeyError, ValueError):
            problems.append("min_platform_version: not a semantic version.")
    if manifest is not None and not problems:
        problems.extend(_import_problems(data, report.sha256, manifest, bundled=bundled))
    return manifest, report.sha256, problems


def _import_problems(data: bytes, sha256: str, manifest: dict[str, Any], *, bundled: bool) -> list[str]:
    from plugins.sandbox import run
    from plugins.services.sandbox import sandbox_config

    try:
        run(
            package=data,
            sha256=sha256,
            entrypoint=str(manifest["entrypoint"]),
            op="validate",
            payload={},
            handler=_refuse_calls,
            config=sandbox_config(),
            require_complete=not (settings.PLUGINS_ALLOW_UNSANDBOXED or bundled),
        )
    except SandboxError as exc:
        if exc.code in ("sandbox_incomplete", "unavailable"):
            return [f"The sandbox cannot check this package here ({exc.code}): {exc.message}"]
        return [f"entrypoint: {manifest['entrypoint']} does not load in the sandbox: {exc.message}"]
    return []


def _refuse_calls(call: str, args: dict[str, Any]) -> Any:
    from skybot_plugin_sdk.errors import PermissionDenied

    raise PermissionDenied("A package being checked cannot call the platform.")


def plugin_upload(
    *,
    data: bytes,
    actor: Principal | None,
    context: RequestContext = SYSTEM,
    changelog: str = "",
    publish: bool = False,
    bundled: bool = False,
) -> PluginVersion:
    """Check the package and store it as a new version of its plugin: pending review, or published
    at once when `publish` (staff who reviewed it already, the bundled examples).

    Raises `PackageRefused` (400, `details.package` listing every problem) and `Conflict` (409) for a
    version number already stored with other bytes."""
    manifest, sha256, problems = package_problems(data, bundled=bundled)
    if problems or manifest is None:
        raise PackageRefused(details={"package": problems or ["The package has no manifest."]})
    plugin_id = str(manifest["id"])
    existing = (
        PluginVersion.objects.filter(plugin__plugin_id=plugin_id, version=manifest["version"])
        .select_related("plugin")
        .defer("package")
        .first()
    )
    if existing is not None:
        if existing.sha256 == sha256:
            if publish and existing.status == VersionStatus.PENDING_REVIEW:
                return version_publish(version=existing, actor=actor, context=context)
            return existing
        raise Conflict(
            f"{plugin_id} {manifest['version']} is already uploaded with other contents: raise the version.",
            code="version_exists",
        )
    try:
        with transaction.atomic():
            version = _store(manifest, data, sha256, actor=actor, changelog=changelog, bundled=bundled)
            audit_log_record(
                action="plugin.uploaded",
                actor=actor,
                account=None,
                target=version.plugin,
                context=context,
                metadata={"plugin": plugin_id, "version": version.version, "sha256": sha256},
            )
            if publish:
                version = version_publish(version=version, actor=actor, context=context)
    except IntegrityError:
        raise Conflict(f"{plugin_id} {manifest['version']} was uploaded meanwhile.", code="version_exists") from None
    logger.info("plugin_uploaded", plugin=plugin_id, version=version.version, sha256=sha256, status=version.status)
    return version


def _store(
    manifest: dict[str, Any], data: bytes, sha256: str, *, actor: Principal | None, changelog: str, bundled: bool
) -> PluginVersion:
    plugin, created = Plugin.objects.get_or_create(
        plugin_id=manifest["id"], defaults={**described_by(manifest), "is_bundled": bundled}
    )
    if not created and bundled and not plugin.is_bundled:
        plugin.is_bundled = True
        plugin.save(update_fields=["is_bundled", "updated_at"])
    return PluginVersion.objects.create(
        plugin=plugin,
        version=manifest["version"],
        manifest=manifest,
        package=data,
        sha256=sha256,
        size=len(data),
        changelog=changelog,
        status=VersionStatus.PENDING_REVIEW,
        validation={
            "problems": [],
            "checked_at": timezone.now().isoformat(),
            "checks": [
                "size cap",
                "zip safety",
                "manifest schema",
                "named files",
                "platform version",
                "sandbox import",
            ],
            "size": len(data),
        },
        uploaded_by=actor.user if actor is not None else None,
    )
