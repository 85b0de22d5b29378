"""Plugins API under /api/v1: staff upload packages, review their versions and switch plugins off
platform-wide; tenants browse the catalogue, install (CLIENT_ADMIN), configure, upgrade, try,
review and uninstall plugins.

Tenant routes act in the caller's tenant; platform staff name one with `?account=<id>` (and
`account` in an install body). Another tenant's installation answers the same 404 as none.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db.models import QuerySet
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from skybot_plugin_sdk.manifest import secret_fields

from accounts.apis.base import TenantApi
from accounts.models import Role
from accounts.services.audit import RequestContext, audit_log_record
from agents.models import AgentCategory
from core.exceptions import ApplicationError, NotFound
from core.openapi import PAGE_PARAMETERS, error_response, error_responses, page_of
from core.pagination import CursorPagination
from core.serializers import InputSerializer
from plugins.apis import examples
from plugins.models import Plugin, PluginInstallation, PluginReview, PluginVersion, VersionStatus
from plugins.selectors import (
    SORTS,
    available_upgrade,
    catalogue,
    catalogue_sort,
    icon_url,
    installations_with_versions,
    newest_published,
    permission_words,
    plugins_with_versions,
    published_plugin,
    published_versions,
    rating_histogram,
    reviewer_name,
    visible_reviews,
)
from plugins.services.installations import (
    plugin_install,
    plugin_installation_update,
    plugin_uninstall,
    plugin_upgrade,
)
from plugins.services.packages import plugin_upload
from plugins.services.reviews import review_create, review_delete, review_update
from plugins.services.runs import plugin_try
from plugins.services.versions import version_publish, version_reject, version_yank

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
    details={"config.min_score": ["How sure before answering must be at most 1."]},
)


class PermissionSerializer(serializers.Serializer[Any]):
    permission = serializers.CharField()
    description = serializers.CharField(help_text="What it lets the plugin do, in words.")

    class Meta:
        ref_name = "PluginPermission"


def _permissions(permissions: list[str]) -> list[dict[str, str]]:
    return [{"permission": p, "description": permission_words(p)} for p in permissions]


class RatingSerializer(serializers.Serializer[Any]):
    average = serializers.FloatField(source="rating_average", min_value=0, max_value=5, help_text="0 when unrated.")
    count = serializers.IntegerField(source="review_count", help_text="Reviews counted (staff-hidden ones are not).")

    class Meta:
        ref_name = "PluginRating"


class PluginSerializer(serializers.Serializer[Any]):
    plugin_id = serializers.SlugField()
    name = serializers.CharField()
    author = serializers.CharField()
    description = serializers.CharField(help_text="Markdown.")
    category = serializers.ChoiceField(choices=AgentCategory.choices)
    homepage = serializers.CharField()
    icon_url = serializers.SerializerMethodField(help_text="Its icon, for signed-in people of the web app.")
    is_verified = serializers.BooleanField(help_text="Staff checked who the author is.")
    is_enabled = serializers.BooleanField(help_text="False: staff switched it off for every tenant.")
    price = serializers.DecimalField(
        max_digits=8, decimal_places=2, allow_null=True, help_text="Per month; null means free."
    )
    installs = serializers.IntegerField(source="downloads", help_text="Tenants that have it installed now.")
    rating = RatingSerializer(source="*")
    published_at = serializers.DateTimeField(allow_null=True, help_text="When its first version was published.")
    version = serializers.SerializerMethodField(help_text="The newest published version.")
    permissions = serializers.SerializerMethodField()
    config_schema = serializers.SerializerMethodField(help_text="JSON Schema an install's `config` must satisfy.")

    class Meta:
        ref_name = "Plugin"

    def _newest(self, plugin: Plugin) -> PluginVersion | None:
        return newest_published(plugin)  # from `plugins_with_versions` when listed: no query

    def get_icon_url(self, plugin: Plugin) -> str | None:
        return icon_url(plugin)

    def get_version(self, plugin: Plugin) -> str | None:
        newest = self._newest(plugin)
        return newest.version if newest else None

    def get_permissions(self, plugin: Plugin) -> list[dict[str, str]]:
        newest = self._newest(plugin)
        return _permissions(newest.permissions) if newest else []

    def get_config_schema(self, plugin: Plugin) -> dict[str, Any]:
        newest = self._newest(plugin)
        return dict(newest.manifest.get("config_schema") or {}) if newest else {}


class VersionSerializer(serializers.Serializer[Any]):
    version = serializers.CharField()
    changelog = serializers.CharField()
    published_at = serializers.DateTimeField()
    permissions = serializers.SerializerMethodField()

    class Meta:
        ref_name = "PluginVersionSummary"

    def get_permissions(self, version: PluginVersion) -> list[str]:
        return version.permissions


class PluginDetailSerializer(PluginSerializer):
    versions = serializers.SerializerMethodField(help_text="Published versions, newest first, with changelogs.")
    rating_histogram = serializers.SerializerMethodField(help_text='Reviews per number of stars: {"5": 12, ...}.')
    installed = serializers.SerializerMethodField(help_text="The caller's tenant has it installed.")

    class Meta:
        ref_name = "PluginDetail"

    def get_versions(self, plugin: Plugin) -> list[dict[str, Any]]:
        return list(VersionSerializer(published_versions(plugin), many=True).data)

    def get_rating_histogram(self, plugin: Plugin) -> dict[str, int]:
        return {str(stars): n for stars, n in rating_histogram(plugin).items()}

    def get_installed(self, plugin: Plugin) -> bool:
        account = self.context.get("account")
        return account is not None and PluginInstallation.objects.filter(account=account, plugin=plugin).exists()


class UpgradeSerializer(serializers.Serializer[Any]):
    version = serializers.CharField(source="version.version")
    changelog = serializers.CharField(source="version.changelog")
    added_permissions = serializers.SerializerMethodField()
    removed_permissions = serializers.SerializerMethodField()

    class Meta:
        ref_name = "PluginUpgrade"

    def get_added_permissions(self, upgrade: Any) -> list[dict[str, str]]:
        return _permissions(upgrade.added_permissions)

    def get_removed_permissions(self, upgrade: Any) -> list[dict[str, str]]:
        return _permissions(upgrade.removed_permissions)


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
    update_available = serializers.SerializerMethodField(
        help_text="The newest published version when it is not the installed one, with the permissions it "
        "would add (to accept when upgrading) and drop; null when up to date."
    )
    created_at = serializers.DateTimeField(help_text="When it was installed.")

    class Meta:
        ref_name = "PluginInstallation"

    @extend_schema_field(UpgradeSerializer(allow_null=True))
    def get_update_available(self, installation: PluginInstallation) -> dict[str, Any] | None:
        upgrade = available_upgrade(installation)
        return dict(UpgradeSerializer(upgrade).data) if upgrade is not None else None

    def get_secret_fields(self, installation: PluginInstallation) -> list[str]:
        schema = installation.version.manifest.get("config_schema") or {}
        return secret_fields(schema) if installation.secret_config else []

    def get_permissions(self, installation: PluginInstallation) -> list[dict[str, str]]:
        return _permissions(list(installation.granted_permissions))


def _installations(queryset: QuerySet[PluginInstallation]) -> QuerySet[PluginInstallation]:
    return installations_with_versions(
        queryset.select_related("plugin", "template").defer("version__package").select_related("version")
    )


class _PluginApi(TenantApi):
    required_roles = ADMIN_WRITES

    def acting_account(self, request: Request) -> Any:
        """The tenant acted in: the caller's own; platform staff name one with `?account=<id>`."""
        account = request.query_params.get("account", "")
        if self.principal.is_platform and not account.isdigit():
            raise ApplicationError(
                "Platform staff must name the tenant.",
                code="validation_error",
                details={"account": ["Required for platform staff (?account=<id>)."]},
            )
        return self.account_for_create(int(account) if self.principal.is_platform else None)

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
        summary="Upload a plugin package (staff)",
        description=(
            "Multipart field `package`: the zip made by `skybot-plugin pack`. It is checked (size cap, zip "
            "safety, the manifest, the files it names, and that its entrypoint loads in the sandbox) and "
            "stored with its SHA-256 as a version pending review (`publish=true` publishes it at once). A "
            "broken package gets one 400 whose `details.package` lists every problem; nothing is stored. "
            "Sending the same bytes again is safe: it answers the stored version (201 again, nothing new "
            "stored); other bytes under a version number already stored get 409. The answer is the plugin "
            "as tenants see it (`version`: its newest published one, null while none is)."
        ),
        request={
            "multipart/form-data": inline_serializer(
                "PluginPublishInput",
                {
                    "package": serializers.FileField(),
                    "changelog": serializers.CharField(required=False),
                    "publish": serializers.BooleanField(
                        required=False,
                        help_text="true: publish at once; otherwise the version waits for review in Django admin.",
                    ),
                },
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
        publish = str(request.data.get("publish", "")).lower()
        if publish not in ("", "true", "false", "1", "0"):
            raise ApplicationError(
                "`publish` is true or false.", code="validation_error", details={"publish": ["Must be true or false."]}
            )
        version = plugin_upload(
            data=upload.read(),
            actor=self.principal,
            context=RequestContext.from_request(request),
            changelog=changelog,
            publish=publish in ("true", "1"),
        )
        plugin = plugins_with_versions(Plugin.objects.filter(pk=version.plugin_id)).get()
        return Response(PluginSerializer(plugin).data, status=status.HTTP_201_CREATED)


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


class CataloguePagination(CursorPagination):
    page_size = 24
    # DRF places the cursor on the first sort field and skips ties by offset, up to this many; many
    # plugins share a value (0 installs, unrated), and the catalogue is small enough to skip them all.
    offset_cutoff = 100_000

    def get_ordering(self, request: Request, queryset: Any, view: Any) -> tuple[str, ...]:
        return SORTS[catalogue_sort(request.query_params)]


class PluginListApi(TenantApi):
    @extend_schema(
        operation_id="plugins_list",
        summary="Browse the published plugins",
        description=(
            "The marketplace: published plugins, most installed first unless `sort` says otherwise, 24 a page. "
            "A bad filter value is a 400 naming it."
        ),
        parameters=[
            OpenApiParameter("category", str, enum=AgentCategory.values),
            OpenApiParameter("q", str, description="Name or description contains this text."),
            OpenApiParameter("verified", bool, description="Only plugins whose author staff verified."),
            OpenApiParameter("free", bool, description="true: free plugins only; false: paid ones only."),
            OpenApiParameter("sort", str, enum=list(SORTS), description="installs (default), rating, newest, name."),
            *PAGE_PARAMETERS,
        ],
        responses={
            200: page_of(PluginSerializer, "PluginPage"),
            **error_responses(
                400, field_errors={"sort": ["Select a valid choice. price is not one of the available choices."]}
            ),
        },
        examples=examples.PLUGIN_LIST,
    )
    def get(self, request: Request) -> Response:
        return self.paginated(
            catalogue(filters=request.query_params), PluginSerializer, pagination_class=CataloguePagination
        )


class PluginDetailApi(TenantApi):
    @extend_schema(
        operation_id="plugins_retrieve",
        summary="Show a plugin",
        description=(
            "Its newest published version, the permissions it asks for in words, its config schema, every "
            "published version with its changelog, the rating summary, and whether the caller's tenant has it."
        ),
        responses={200: PluginDetailSerializer, **error_responses(404)},
        examples=examples.PLUGIN_DETAIL,
    )
    def get(self, request: Request, plugin_id: str) -> Response:
        plugin = published_plugin(plugin_id)
        if plugin is None:
            raise NotFound("No such plugin.")
        return Response(PluginDetailSerializer(plugin, context={"account": self.principal.account}).data)


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


class UpgradeApi(_PluginApi):
    class InputSerializer(InputSerializer):
        accept_permissions = serializers.ListField(
            child=serializers.CharField(max_length=300),
            required=False,
            default=list,
            max_length=50,
            help_text="Each permission the new version adds, accepted by name (see `update_available`).",
        )
        config = serializers.DictField(
            child=serializers.JSONField(),
            required=False,
            help_text="Merged over the current config, then checked against the new version's schema.",
        )

        class Meta:
            ref_name = "PluginUpgradeInput"

    @extend_schema(
        operation_id="plugins_upgrade",
        summary="Upgrade an installed plugin to its newest published version",
        description=(
            "Permissions the new version adds must be accepted by name in `accept_permissions`; otherwise 409 "
            "`permissions_not_accepted` whose `details.accept_permissions` names them, and nothing changes. "
            "An installation stopped because staff yanked its version starts again on the new one."
        ),
        parameters=[ACCOUNT_PARAMETER],
        request=InputSerializer,
        responses={
            200: InstallationSerializer,
            **error_responses(404),
            400: CONFIG_REFUSED,
            409: error_response(
                409,
                "Code `permissions_not_accepted` (`details.accept_permissions` names them), or `up_to_date`.",
                code="permissions_not_accepted",
                message="1.1.0 asks for permissions this installation did not grant: leads:write. "
                "Accept them to upgrade.",
                details={"accept_permissions": ["leads:write"]},
            ),
        },
        examples=examples.UPGRADE,
    )
    def post(self, request: Request, plugin_id: str) -> Response:
        installation = self.installation(request, plugin_id)
        data = self.validated(self.InputSerializer, request)
        plugin_upgrade(
            installation=installation,
            actor=self.principal,
            accept_permissions=data["accept_permissions"],
            config=data.get("config"),
            context=RequestContext.from_request(request),
        )
        return Response(InstallationSerializer(self.installation(request, plugin_id)).data)


# --- reviews ------------------------------------------------------------------------------------------


class ReviewSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    rating = serializers.IntegerField(min_value=1, max_value=5)
    text = serializers.CharField()
    author = serializers.SerializerMethodField(help_text="The reviewer's first name and initial.")
    version = serializers.CharField(help_text="The version the reviewer's team ran.")
    is_yours = serializers.SerializerMethodField(help_text="Written by the caller's tenant.")
    created_at = serializers.DateTimeField()
    edited_at = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "PluginReview"

    def get_author(self, review: PluginReview) -> str:
        return reviewer_name(review)

    def get_is_yours(self, review: PluginReview) -> bool:
        return review.account_id == self.context.get("account_id")


class ReviewPagination(CursorPagination):
    page_size = 20


class ReviewsApi(_PluginApi):
    class CreateSerializer(InputSerializer):
        rating = serializers.IntegerField(min_value=1, max_value=5)
        text = serializers.CharField(required=False, default="", allow_blank=True, max_length=4000)

        class Meta:
            ref_name = "PluginReviewInput"

    class UpdateSerializer(InputSerializer):
        rating = serializers.IntegerField(min_value=1, max_value=5, required=False)
        text = serializers.CharField(required=False, allow_blank=True, max_length=4000)

        class Meta:
            ref_name = "PluginReviewUpdateInput"

    def plugin(self, plugin_id: str) -> Plugin:
        plugin = Plugin.objects.filter(plugin_id=plugin_id, is_published=True).first()
        if plugin is None:
            raise NotFound("No such plugin.")
        return plugin

    def own_review(self, request: Request, plugin: Plugin) -> PluginReview:
        account = self.acting_account(request)
        review = PluginReview.objects.filter(plugin=plugin, account=account).select_related("author").first()
        if review is None:
            raise NotFound("Your team has not reviewed this plugin.")
        return review

    def answer(self, review: PluginReview, status_code: int = status.HTTP_200_OK) -> Response:
        return Response(ReviewSerializer(review, context={"account_id": review.account_id}).data, status=status_code)

    @extend_schema(
        operation_id="plugins_reviews_list",
        summary="Read a plugin's reviews",
        description="Newest first; reviews staff hid are left out.",
        parameters=PAGE_PARAMETERS,
        responses={200: page_of(ReviewSerializer, "PluginReviewPage"), **error_responses(404)},
        examples=examples.REVIEWS_LIST,
    )
    def get(self, request: Request, plugin_id: str) -> Response:
        plugin = self.plugin(plugin_id)
        paginator = ReviewPagination()
        page = paginator.paginate_queryset(visible_reviews(plugin), request, view=self)
        context = {"account_id": self.principal.account.pk if self.principal.account else None}
        return paginator.get_paginated_response(ReviewSerializer(page, many=True, context=context).data)

    @extend_schema(
        operation_id="plugins_reviews_create",
        summary="Review a plugin your team installed",
        description=(
            "One review per tenant and plugin, by an admin of a tenant that has it installed (403 "
            "`not_installed` otherwise; 409 `already_reviewed`: edit that one with PATCH)."
        ),
        parameters=[ACCOUNT_PARAMETER],
        request=CreateSerializer,
        responses={
            201: ReviewSerializer,
            **error_responses(400, 404, field_errors={"rating": ["Ensure this value is less than or equal to 5."]}),
            403: error_response(
                403,
                "Code `not_installed`: only tenants that installed the plugin review it.",
                code="not_installed",
                message="Only a tenant that has installed this plugin can review it.",
            ),
            409: error_response(
                409,
                "Code `already_reviewed`.",
                code="already_reviewed",
                message="Your team has already reviewed this plugin: edit that review.",
            ),
        },
        examples=examples.REVIEW_CREATE,
    )
    def post(self, request: Request, plugin_id: str) -> Response:
        plugin = self.plugin(plugin_id)
        data = self.validated(self.CreateSerializer, request)
        review = review_create(
            account=self.acting_account(request),
            plugin=plugin,
            rating=data["rating"],
            text=data["text"],
            actor=self.principal,
            context=RequestContext.from_request(request),
        )
        return self.answer(review, status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="plugins_reviews_update",
        summary="Edit your team's review",
        parameters=[ACCOUNT_PARAMETER],
        request=UpdateSerializer,
        responses={
            200: ReviewSerializer,
            **error_responses(400, 404, field_errors={"rating": ["Ensure this value is greater than or equal to 1."]}),
        },
        examples=examples.REVIEW_UPDATE,
    )
    def patch(self, request: Request, plugin_id: str) -> Response:
        review = self.own_review(request, self.plugin(plugin_id))
        data = self.validated(self.UpdateSerializer, request)
        review = review_update(
            review=review, actor=self.principal, context=RequestContext.from_request(request), **data
        )
        return self.answer(PluginReview.objects.select_related("author").get(pk=review.pk))

    @extend_schema(
        operation_id="plugins_reviews_destroy",
        summary="Delete your team's review",
        parameters=[ACCOUNT_PARAMETER],
        responses={204: None, **error_responses(404)},
    )
    def delete(self, request: Request, plugin_id: str) -> Response:
        review = self.own_review(request, self.plugin(plugin_id))
        review_delete(review=review, actor=self.principal, context=RequestContext.from_request(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- staff: a version's review ----------------------------------------------------------------------


class AdminVersionApi(TenantApi):
    required_roles = STAFF_ONLY

    class InputSerializer(InputSerializer):
        status = serializers.ChoiceField(
            choices=[VersionStatus.PUBLISHED, VersionStatus.REJECTED, VersionStatus.YANKED],
            help_text="published (from pending_review), rejected (from pending_review), yanked (from published).",
        )
        reason = serializers.CharField(
            required=False, default="", allow_blank=True, max_length=1000, help_text="Required to reject or yank."
        )

        class Meta:
            ref_name = "PluginVersionReviewInput"

    @extend_schema(
        operation_id="admin_plugins_versions_update",
        summary="Publish, reject or yank a plugin version (staff)",
        description=(
            "The review Django admin offers, for scripts. Yanking stops every installation of the version at "
            "once and emails each tenant's admins. 409 `version_state` when the version is not in a state "
            "that allows the change."
        ),
        request=InputSerializer,
        responses={
            200: PluginSerializer,
            **error_responses(400, 404, field_errors={"status": ['"shipped" is not a valid choice.']}),
            409: error_response(
                409,
                "Code `version_state`.",
                code="version_state",
                message="faq-answerer 1.0.0 is yanked: it cannot be published.",
            ),
        },
        examples=examples.VERSION_REVIEW,
    )
    def patch(self, request: Request, plugin_id: str, version: str) -> Response:
        data = self.validated(self.InputSerializer, request)
        row = (
            PluginVersion.objects.filter(plugin__plugin_id=plugin_id, version=version)
            .select_related("plugin")
            .defer("package")
            .first()
        )
        if row is None:
            raise NotFound("No such plugin version.")
        context = RequestContext.from_request(request)
        if data["status"] == VersionStatus.PUBLISHED:
            version_publish(version=row, actor=self.principal, context=context)
        elif data["status"] == VersionStatus.REJECTED:
            version_reject(version=row, reason=data["reason"], actor=self.principal, context=context)
        else:
            version_yank(version=row, reason=data["reason"], actor=self.principal, context=context)
        plugin = plugins_with_versions(Plugin.objects.filter(pk=row.plugin_id)).get()
        return Response(PluginSerializer(plugin).data)


urlpatterns = [
    path("admin/plugins", AdminPluginPublishApi.as_view(), name="admin-plugin-publish"),
    path("admin/plugins/<slug:plugin_id>", AdminPluginDetailApi.as_view(), name="admin-plugin-detail"),
    path(
        "admin/plugins/<slug:plugin_id>/versions/<str:version>",
        AdminVersionApi.as_view(),
        name="admin-plugin-version",
    ),
    path("plugins", PluginListApi.as_view(), name="plugin-list"),
    path("plugins/installed", InstalledListApi.as_view(), name="plugin-installed-list"),
    path("plugins/installed/<slug:plugin_id>", InstalledDetailApi.as_view(), name="plugin-installed-detail"),
    path("plugins/<slug:plugin_id>", PluginDetailApi.as_view(), name="plugin-detail"),
    path("plugins/<slug:plugin_id>/install", InstallApi.as_view(), name="plugin-install"),
    path("plugins/<slug:plugin_id>/uninstall", UninstallApi.as_view(), name="plugin-uninstall"),
    path("plugins/<slug:plugin_id>/execute", ExecuteApi.as_view(), name="plugin-execute"),
    path("plugins/<slug:plugin_id>/upgrade", UpgradeApi.as_view(), name="plugin-upgrade"),
    path("plugins/<slug:plugin_id>/reviews", ReviewsApi.as_view(), name="plugin-reviews"),
]
