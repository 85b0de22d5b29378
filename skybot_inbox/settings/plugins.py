"""Plugins: the sandbox that runs them and the limits they live within (docs/plugins/security.md)."""

from __future__ import annotations

from skybot_inbox.settings import env as config

PLUGINS_ALLOW_UNSANDBOXED = config.PLUGINS_ALLOW_UNSANDBOXED
PLUGINS_TIMEOUT_SECONDS = config.PLUGINS_TIMEOUT_SECONDS
PLUGINS_MEMORY_MB = config.PLUGINS_MEMORY_MB
PLUGINS_SANDBOX_UID = config.PLUGINS_SANDBOX_UID
PLUGINS_SANDBOX_SOCKET = config.PLUGINS_SANDBOX_SOCKET
PLUGINS_SANDBOX_SKIP_LAYERS = config.PLUGINS_SANDBOX_SKIP_LAYERS
PLUGINS_MAX_PACKAGE_BYTES = config.PLUGINS_MAX_PACKAGE_BYTES
PLUGINS_STORAGE_BYTES = config.PLUGINS_STORAGE_BYTES
PLUGINS_FAILURE_LIMIT = config.PLUGINS_FAILURE_LIMIT
# What a plugin's HTTP call may take and bring back.
PLUGINS_HTTP_TIMEOUT_SECONDS = 3.0
PLUGINS_HTTP_MAX_RESPONSE_BYTES = 256_000
# The platform version plugins compare their `min_platform_version` with.
PLATFORM_VERSION = "1.0.0"
