"""Errors a plugin may see. Each has a stable `code`: the platform answers a capability call that
fails with `{"type": code, "message": ...}` and the sandbox raises the class with that code."""

from __future__ import annotations


class PluginError(Exception):
    """Base of every SDK error; a plugin may raise it to fail a run with a readable message."""

    code = "plugin_error"

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


class PermissionDenied(PluginError):
    """The manifest does not grant the permission this call or action needs."""

    code = "permission_denied"


class NotFound(PluginError):
    """The row asked for does not exist in this tenant."""

    code = "not_found"


class InvalidRequest(PluginError):
    """The call's arguments are wrong (an unknown field, a value of the wrong type...)."""

    code = "invalid"


class HttpError(PluginError):
    """The outside call could not be made or answered (refused address, timeout, body too large)."""

    code = "http_error"


class StorageFull(PluginError):
    """The installation's storage is over its size cap."""

    code = "storage_full"


ERRORS: dict[str, type[PluginError]] = {
    cls.code: cls for cls in (PluginError, PermissionDenied, NotFound, InvalidRequest, HttpError, StorageFull)
}


def error_for(code: str, message: str) -> PluginError:
    """The SDK error for a capability answer's `type` (PluginError for an unknown one)."""
    return ERRORS.get(code, PluginError)(message)
