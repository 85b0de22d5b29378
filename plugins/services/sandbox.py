"""The one way the platform runs plugin code: `plugin_code_run`, through the sandbox (plugins/sandbox).

It decides whether a plugin may run at all (the platform-wide switch; a third-party plugin needs a
complete sandbox unless PLUGINS_ALLOW_UNSANDBOXED), builds the sandbox configuration from the
settings, and hands the capability calls of the running code to `Capabilities`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog
from django.conf import settings

from core.exceptions import ApplicationError
from plugins.models import Plugin, PluginVersion, VersionStatus
from plugins.sandbox import SandboxConfig, SandboxError, SandboxResult, SandboxStatus, run, sandbox_status
from plugins.services.capabilities import Capabilities

logger = structlog.get_logger(__name__)


class PluginUnavailable(ApplicationError):
    """The plugin may not run here now (switched off by staff, or the sandbox is incomplete)."""

    status_code = 409
    code = "plugin_unavailable"
    default_message = "This plugin cannot run right now."


def sandbox_config(*, timeout_seconds: float | None = None) -> SandboxConfig:
    return SandboxConfig(
        timeout_seconds=timeout_seconds or settings.PLUGINS_TIMEOUT_SECONDS,
        memory_mb=settings.PLUGINS_MEMORY_MB,
        uid=settings.PLUGINS_SANDBOX_UID,
        socket_path=settings.PLUGINS_SANDBOX_SOCKET or None,
        skip_layers=tuple(settings.PLUGINS_SANDBOX_SKIP_LAYERS),
    )


def platform_sandbox_status() -> SandboxStatus:
    """Which layers the sandbox applies on this host (probed once per process)."""
    return sandbox_status(sandbox_config())


def readiness_info() -> dict[str, Any]:
    """What `/api/ready` says about plugins (informational: an incomplete sandbox does not make the
    platform unready, it keeps third-party plugins from running)."""
    try:
        status = platform_sandbox_status()
    except SandboxError as exc:
        return {"sandbox": "unavailable", "error": exc.code, "third_party_plugins": "refused"}
    runs_third_party = status.complete or settings.PLUGINS_ALLOW_UNSANDBOXED
    return {
        "sandbox": "complete" if status.complete else "incomplete",
        "missing": status.missing,
        "third_party_plugins": "allowed" if runs_third_party else "refused",
        "allow_unsandboxed": settings.PLUGINS_ALLOW_UNSANDBOXED,
    }


@dataclass(frozen=True)
class CodeRun:
    value: Any
    logs: list[dict[str, Any]]
    duration_ms: float


def plugin_code_run(
    *,
    plugin: Plugin,
    version: PluginVersion,
    op: str,
    payload: dict[str, Any],
    capabilities: Capabilities | None,
    timeout_seconds: float | None = None,
) -> CodeRun:
    """Run `op` of the version's code in a fresh sandboxed child and answer its result.

    Raises `PluginUnavailable` when the plugin is switched off platform-wide, and `SandboxError`
    (code: timeout, plugin_error, invalid_output, load_error, checksum_mismatch, sandbox_incomplete,
    crashed, protocol, unavailable) when the run fails.
    """
    if not plugin.is_enabled:
        raise PluginUnavailable(
            "Staff switched this plugin off for every tenant"
            + (f": {plugin.disabled_reason}" if plugin.disabled_reason else ".")
        )
    if version.status == VersionStatus.YANKED:
        raise PluginUnavailable(f"Staff withdrew version {version.version} of this plugin: {version.status_reason}")
    require_complete = not (settings.PLUGINS_ALLOW_UNSANDBOXED or plugin.is_bundled)
    result: SandboxResult = run(
        package=bytes(version.package),
        sha256=version.sha256,
        entrypoint=str(version.manifest["entrypoint"]),
        op=op,
        payload=payload,
        handler=capabilities.handle if capabilities is not None else _no_capabilities,
        config=sandbox_config(timeout_seconds=timeout_seconds),
        require_complete=require_complete,
    )
    return CodeRun(value=result.value, logs=list(result.logs), duration_ms=result.duration_ms)


def _no_capabilities(call: str, args: dict[str, Any]) -> Any:
    from skybot_plugin_sdk.errors import PermissionDenied

    raise PermissionDenied(f"{call} is not available while the package is checked.")
