"""The SkyBot plugin SDK: write an AI agent as a small Python package the platform runs in a sandbox.

Start with `skybot-plugin new NAME`; docs/plugins/ in the platform's repository explains the rest.
"""

from skybot_plugin_sdk.errors import (
    HttpError,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    PluginError,
    StorageFull,
)
from skybot_plugin_sdk.types import (
    ACTION_PERMISSIONS,
    PERMISSIONS,
    Action,
    AgentInput,
    AgentOutput,
    AgentPlugin,
    HttpResponse,
    PluginContext,
)

__version__ = "1.0.0"

__all__ = [
    "ACTION_PERMISSIONS",
    "PERMISSIONS",
    "Action",
    "AgentInput",
    "AgentOutput",
    "AgentPlugin",
    "HttpError",
    "HttpResponse",
    "InvalidRequest",
    "NotFound",
    "PermissionDenied",
    "PluginContext",
    "PluginError",
    "StorageFull",
    "__version__",
]
