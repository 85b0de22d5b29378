"""Plugins API under /api/v1: staff publish packages and switch plugins off platform-wide; tenants
list the catalogue, install (CLIENT_ADMIN), configure, try and uninstall plugins.

Tenant routes act in the caller's tenant; platform staff name one with `?account=<id>` (and
`account` in an install body). Another tenant's installation answers the same 404 as none.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db.models import QuerySet
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from skybot_plugin_sdk.manifest import secret_fields
from skybot_plugin_sdk.types import PERMISSIONS

from accounts.apis.base import TenantApi
from accounts.models import Role
from accounts.services.audit import RequestContext, audit_log_record
from agents.models import AgentCategory
from core.exceptions import ApplicationError, NotFound
from core.openapi import error_response, error_responses
from core.serializers import InputSerializer
from plugins.apis import examples
from plugins.models import Plugin, PluginInstallation, PluginVersion
from plugins.selectors import newest_published, plugins_with_versions
from plugins.services.installations import plugin_install, plugin_installation_update, plugin_uninstall
from plugins.services.packages import plugin_publish
from plugins.services.runs import plugin_try

ADMIN_WRITES: dict[str, str] = {
    "GET": Role.VIEWER,
    "HEAD": Role.VIEWER,
    "OPTIONS": Role.VIEWER,
    "POST": Role.CLIENT_ADMIN,
    "PATCH": Role.CLIENT_ADMIN,
    "DELETE": Role.CLIENT_ADMIN,
}
STAFF_ONLY: dict[str, str] = dict.fromkeys(("GET", "HEAD", "OPTIONS", "POST", "PATCH", "DELETE"), Role.SUPER_ADMIN)
ACCOUNT_PARAMETER = OpenApiParameter("account", int, description="Platform staff only: the tenant to act in.")
# What `config_validate` answers for a config its JSON Schema refuses: each failing JSON path.
CONFIG_REFUSED = error_response(
    400,
    "Invalid input. A `config` its JSON Schema refuses answers this: `details` maps each failing JSON path to "
    "its messages.",
    message="The configuration does not match the template's schema.",
    details={"config.min_score": ["2 is greater than the maximum of 1"]},
)


def permission_words(permission: str) -> str:
    if permission.startswith("http:"):
        return f"Call {permission.removeprefix('http:')} over HTTPS or HTTP, through the platform."
    return PERMISSIONS.get(permission, permission)


class PermissionSerializer(serializers.Serializer[Any]):
    permission = serializers.CharField()
    description = serializers.CharField(help_text="What it lets the plugin do, in words.")

    class Meta:
        ref_name = "PluginPermission"


def _permissions(permissions: list[str]) -> list[dict[str, str]]:
    return [{"permission": p, "description": permission_words(p)} for p in permissions]


class PluginSerializer(serializers.Serializer[Any]):
    plugin_id = serializers.SlugField()
    name = serializers.CharField()
    author = serializers.CharField()
    description = serializers.CharField()
    category = serializers.ChoiceField(choices=AgentCategory.choices)
    homepage = serializers.CharField()
    is_verified = serializers.BooleanField()
    is_enabled = serializers.BooleanField(help_text="False: staff switched it off for every tenant.")
    version = serializers.SerializerMethodField(help_text="The newest published version.")
    permissions = serializers.SerializerMethodField()
    config_schema = serializers.SerializerMethodField(help_text="JSON Schema an install's `config` must satisfy.")

    class Meta:
        ref_name = "Plugin"

    def _newest(self, plugin: Plugin) -> PluginVersion | None:
        return newest_published(plugin)  # from `plugins_with_versions` when listed: no query

    def get_version(self, plugin: Plugin) -> str | None:
        newest = self._newest(plugin)
        return newest.version if newest else None

    def get_permissions(self, plugin: Plugin) -> list[dict[str, str]]:
        newest = self._newest(plugin)
        return _permissions(newest.permissions) if newest else []

    def get_config_schema(self, plugin: Plugin) -> dict[str, Any]:
        newest = self._newest(plugin)
        return dict(newest.manifest.get("config_schema") or {}) if newest else {}


class InstallationSerializer(serializers.Serializer[Any]):
    plugin_id = serializers.SlugField(source="plugin.plugin_id")
    name = serializers.CharField(source="plugin.name")
    account = serializers.IntegerField(source="account_id")
    version = serializers.CharField(source="version.version")
    config = serializers.JSONField(help_text="Without its secret fields, which are never shown back.")
    secret_fields = serializers.SerializerMethodField(help_text="Secret fields that hold a value.")
    permissions = serializers.SerializerMethodField(help_text="What the tenant granted at install.")
    agent_template = serializers.CharField(source="template.key", help_text="Create agents from this template.")
    is_active = serializers.BooleanField()
    disabled_reason = serializers.CharField()
    consecutive_failures = serializers.IntegerField()
    created_at = serializers.DateTimeField()

    class Meta:
        ref_name = "PluginInstallation"

    def get_secret_fields(self, installation: PluginInstallation) -> list[str]:
        schema = installation.version.manifest.get("config_schema") or {}
        return secret_fields(schema) if installation.secret_config else []

    def get_permissions(self, installation: PluginInstallation) -> list[dict[str, str]]:
        return _permissions(list(installation.granted_permissions))


def _installations(queryset: QuerySet[PluginInstallation]) -> QuerySet[PluginInstallation]:
    return queryset.select_related("plugin", "template").defer("version__package").select_related("version")


class _PluginApi(TenantApi):
    required_roles = ADMIN_WRITES

    def installation(self, request: Request, plugin_id: str) -> PluginInstallation:
        """The caller's tenant's installation of `plugin_id`: one 404 for none and another tenant's."""
        queryset = _installations(self.scoped(PluginInstallation.objects.filter(plugin__plugin_id=plugin_id)))
        if self.principal.is_platform:
            account = request.query_params.get("account", "")
            if not account.isdigit():
                raise ApplicationError(
                    "Platform staff must name the tenant.",
                    code="validation_error",
                    details={"account": ["Required for platform staff (?account=<id>)."]},
                )
            queryset = queryset.filter(account_id=int(account))
        installation = queryset.first()
        if installation is None:
            raise NotFound("This plugin is not installed.")
        return installation


# --- staff -------------------------------------------------------------------------------------------


class AdminPluginPublishApi(TenantApi):
    required_roles = STAFF_ONLY
    parser_classes: ClassVar[list[type]] = [MultiPartParser]  # type: ignore[misc]

    @extend_schema(
        operation_id="admin_plugins_publish",
        summary="Publish a plugin package (staff)",
        description=(
            "Multipart field `package`: the zip made by `skybot-plugin pack`. It is checked (size cap, zip "
            "safety, the manifest, the files it names, and that its entrypoint loads in the sandbox) and "
            "stored with its SHA-256. A broken package gets one 400 whose `details.package` lists every "
            "problem; nothing is stored. Sending the same bytes again is safe: it answers the stored version "
            "(201 again, nothing new stored); other bytes under a version already published get 409."
        ),
        request={
            "multipart/form-data": inline_serializer(
                "PluginPublishInput",
                {"package": serializers.FileField(), "changelog": serializers.CharField(required=False)},
            )
        },
        examples=examples.PLUGIN_PUBLISH,
        responses={
            201: PluginSerializer,
            **error_responses(),
            409: error_response(
                409,
                "Code `version_exists`: this version number is already published with other contents.",
                code="version_exists",
                message="faq-answerer 1.1.0 is already published with other contents: raise the version.",
            ),
            400: error_response(
                400,
                "Code `invalid_package`: `details.package` lists every problem.",
                code="invalid_package",
                message="The package cannot be published.",
                details={"package": ["version: '1.0' is not a semantic version (MAJOR.MINOR.PATCH)."]},
            ),
        },
    )
    def post(self, request: Request) -> Response:
        upload = request.FILES.get("package")
        if upload is None:
            raise ApplicationError(
                "Send the package as the multipart field `package`.",
                code="validation_error",
                details={"package": ["This field is required."]},
            )
        if upload.size is not None and upload.size > settings.PLUGINS_MAX_PACKAGE_BYTES:
            raise ApplicationError(
                "The package is too large.",
                code="invalid_package",
                details={"package": [f"The package is larger than {settings.PLUGINS_MAX_PACKAGE_BYTES} bytes."]},
            )
        changelog = str(request.data.get("changelog", ""))[:10_000]
        version = plugin_publish(
            data=upload.read(), actor=self.principal, context=RequestContext.from_request(request), changelog=changelog
        )
        return Response(PluginSerializer(version.plugin).data, status=status.HTTP_201_CREATED)


class AdminPluginDetailApi(TenantApi):
    required_roles = STAFF_ONLY

    class InputSerializer(InputSerializer):
        is_enabled = serializers.BooleanField(required=False)
        disabled_reason = serializers.CharField(required=False, allow_blank=True, max_length=500)
        is_verified = serializers.BooleanField(required=False)

        class Meta:
            ref_name = "PluginAdminUpdateInput"

    @extend_schema(
        operation_id="admin_plugins_update",
        summary="Switch a plugin off or on for every tenant, or mark its author verified (staff)",
        description="`is_enabled: false` stops every run of the plugin at once, in every tenant.",
        request=InputSerializer,
        responses={
            200: PluginSerializer,
            **error_responses(400, 404, field_errors={"is_enabled": ["Must be true or false."]}),
        },
        examples=examples.PLUGIN_ADMIN_UPDATE,
    )
    def patch(self, request: Request, plugin_id: str) -> Response:
        data = self.validated(self.InputSerializer, request)
        plugin = Plugin.objects.filter(plugin_id=plugin_id).first()
        if plugin is None:
            raise NotFound("No such plugin.")
        for field, value in data.items():
            setattr(plugin, field, value)
        if data.get("is_enabled") is True:
            plugin.disabled_reason = data.get("disabled_reason", "")
        plugin.save()
        audit_log_record(
            action="plugin.switched" if "is_enabled" in data else "plugin.updated",
            actor=self.principal,
            account=None,
            target=plugin,
            context=RequestContext.from_request(request),
            metadata={"plugin": plugin.plugin_id, **data},
        )
        return Response(PluginSerializer(plugin).data)


# --- catalogue ----------------------------------------------------------------------------------------


class PluginListApi(TenantApi):
    @extend_schema(
        operation_id="plugins_list",
        summary="List published plugins",
        description="By name. The marketplace's filters and sorting come with the marketplace.",
        responses={200: PluginSerializer(many=True), **error_responses()},
        examples=examples.PLUGIN_LIST,
    )
    def get(self, request: Request) -> Response:
        plugins = plugins_with_versions(Plugin.objects.filter(is_published=True).order_by("name", "id"))
        return Response(PluginSerializer(plugins, many=True).data)


class PluginDetailApi(TenantApi):
    @extend_schema(
        operation_id="plugins_retrieve",
        summary="Show a plugin",
        description="Its newest published version, the permissions it asks for in words, its config schema.",
        responses={200: PluginSerializer, **error_responses(404)},
        examples=examples.PLUGIN_DETAIL,
    )
    def get(self, request: Request, plugin_id: str) -> Response:
        plugin = Plugin.objects.filter(plugin_id=plugin_id, is_published=True).first()
        if plugin is None:
            raise NotFound("No such plugin.")
        return Response(PluginSerializer(plugin).data)


# --- a tenant's installations --------------------------------------------------------------------------


class InstalledListApi(_PluginApi):
    @extend_schema(
        operation_id="plugins_installed_list",
        summary="List the plugins installed in the tenant",
        parameters=[ACCOUNT_PARAMETER],
        responses={200: InstallationSerializer(many=True), **error_responses()},
        examples=examples.INSTALLED_LIST,
    )
    def get(self, request: Request) -> Response:
        installations = _installations(self.scoped(PluginInstallation.objects.all())).order_by("-created_at", "-id")
        account = request.query_params.get("account", "")
        if self.principal.is_platform and account.isdigit():  # staff without it see every tenant's
            installations = installations.filter(account_id=int(account))
        return Response(InstallationSerializer(installations, many=True).data)


class InstalledDetailApi(_PluginApi):
    class InputSerializer(InputSerializer):
        config = serializers.DictField(
            child=serializers.JSONField(),
            required=False,
            help_text="Validated again; a secret field left out keeps its stored value.",
        )
        is_active = serializers.BooleanField(required=False, help_text="false: its agents stop answering.")

        class Meta:
            ref_name = "PluginInstallationUpdateInput"

    @extend_schema(
        operation_id="plugins_installed_retrieve",
        summary="Show an installed plugin",
        parameters=[ACCOUNT_PARAMETER],
        responses={200: InstallationSerializer, **error_responses(404)},
        examples=examples.INSTALLED_DETAIL,
    )
    def get(self, request: Request, plugin_id: str) -> Response:
        return Response(InstallationSerializer(self.installation(request, plugin_id)).data)

    @extend_schema(
        operation_id="plugins_installed_update",
        summary="Configure an installed plugin, or turn it off or on",
        parameters=[ACCOUNT_PARAMETER],
        request=InputSerializer,
        responses={200: InstallationSerializer, **error_responses(404), 400: CONFIG_REFUSED},
        examples=examples.INSTALLED_UPDATE,
    )
    def patch(self, request: Request, plugin_id: str) -> Response:
        installation = self.installation(request, plugin_id)
        data = self.validated(self.InputSerializer, request)
        installation = plugin_installation_update(
            installation=installation, actor=self.principal, context=RequestContext.from_request(request), **data
        )
        return Response(InstallationSerializer(self.installation(request, plugin_id)).data)


class InstallApi(_PluginApi):
    class InputSerializer(InputSerializer):
        config = serializers.DictField(
            child=serializers.JSONField(), required=False, default=dict, help_text="Must satisfy `config_schema`."
        )
        account = serializers.IntegerField(required=False, min_value=1, help_text="Platform staff only: the tenant.")

        class Meta:
            ref_name = "PluginInstallInput"

    @extend_schema(
        operation_id="plugins_install",
        summary="Install a plugin",
        description=(
            "Installs the newest published version with `config` (validated against its JSON Schema: 400 naming "
            "each failing JSON path). The tenant grants the permissions the version asks for (see the plugin's "
            "`permissions`). The answer names the agent template to create agents from. 409 when already "
            "installed or switched off by staff."
        ),
        request=InputSerializer,
        responses={
            201: InstallationSerializer,
            **error_responses(404),
            400: CONFIG_REFUSED,
            409: error_response(
                409,
                "Code `already_installed`, or `plugin_unavailable` when staff switched the plugin off.",
                code="already_installed",
                message="This plugin is already installed.",
            ),
        },
        examples=examples.INSTALL,
    )
    def post(self, request: Request, plugin_id: str) -> Response:
        data = self.validated(self.InputSerializer, request)
        account = self.account_for_create(data.pop("account", None))
        installation = plugin_install(
            account=account,
            plugin_id=plugin_id,
            config=data["config"],
            actor=self.principal,
            context=RequestContext.from_request(request),
        )
        fresh = _installations(PluginInstallation.objects.filter(pk=installation.pk)).get()
        return Response(InstallationSerializer(fresh).data, status=status.HTTP_201_CREATED)


class UninstallApi(_PluginApi):
    @extend_schema(
        operation_id="plugins_uninstall",
        summary="Uninstall a plugin",
        description=(
            "Runs the plugin's `on_uninstall`, deletes the agents made from it (their conversations go to the "
            "team), its storage and its secrets. Their executions stay in the agents' history."
        ),
        parameters=[ACCOUNT_PARAMETER],
        responses={204: None, **error_responses(404)},
    )
    def delete(self, request: Request, plugin_id: str) -> Response:
        installation = self.installation(request, plugin_id)
        plugin_uninstall(installation=installation, actor=self.principal, context=RequestContext.from_request(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ExecuteApi(_PluginApi):
    required_roles = {**ADMIN_WRITES, "POST": Role.CLIENT_ADMIN}

    class InputSerializer(InputSerializer):
        message = serializers.CharField(max_length=4096, allow_blank=True)
        metadata = serializers.DictField(
            child=serializers.JSONField(), required=False, default=dict, help_text="Sent to the plugin as given."
        )

        class Meta:
            ref_name = "PluginExecuteInput"

    @extend_schema(
        operation_id="plugins_execute",
        summary="Try an installed plugin",
        description=(
            "Runs `execute` once in the sandbox with this input and answers its `AgentOutput` (`ok: true`) or "
            "its error (`ok: false`), with the lines it logged. No reply is sent and no action is applied."
        ),
        parameters=[ACCOUNT_PARAMETER],
        request=InputSerializer,
        responses={
            200: inline_serializer(
                "PluginExecuteResult",
                {
                    "ok": serializers.BooleanField(),
                    "output": serializers.JSONField(required=False),
                    "error": serializers.JSONField(required=False),
                    "logs": serializers.ListField(child=serializers.JSONField()),
                    "duration_ms": serializers.FloatField(required=False),
                },
            ),
            **error_responses(400, 404, field_errors={"message": ["This field is required."]}),
        },
        examples=examples.EXECUTE,
    )
    def post(self, request: Request, plugin_id: str) -> Response:
        installation = self.installation(request, plugin_id)
        data = self.validated(self.InputSerializer, request)
        return Response(plugin_try(installation=installation, message=data["message"], metadata=data["metadata"]))


urlpatterns = [
    path("admin/plugins", AdminPluginPublishApi.as_view(), name="admin-plugin-publish"),
    path("admin/plugins/<slug:plugin_id>", AdminPluginDetailApi.as_view(), name="admin-plugin-detail"),
    path("plugins", PluginListApi.as_view(), name="plugin-list"),
    path("plugins/installed", InstalledListApi.as_view(), name="plugin-installed-list"),
    path("plugins/installed/<slug:plugin_id>", InstalledDetailApi.as_view(), name="plugin-installed-detail"),
    path("plugins/<slug:plugin_id>", PluginDetailApi.as_view(), name="plugin-detail"),
    path("plugins/<slug:plugin_id>/install", InstallApi.as_view(), name="plugin-install"),
    path("plugins/<slug:plugin_id>/uninstall", UninstallApi.as_view(), name="plugin-uninstall"),
    path("plugins/<slug:plugin_id>/execute", ExecuteApi.as_view(), name="plugin-execute"),
]
