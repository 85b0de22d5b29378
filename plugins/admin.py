"""Django admin for platform staff: plugins (switch one off for every tenant, verify its author),
their versions (manifest and checksum, read-only) and tenants' installations (read-only, never a
secret). The plugin list says whether this host's sandbox is complete."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from accounts.admin import AuditedAdmin, ReadOnlyAdmin, staff_principal
from accounts.services.audit import RequestContext, audit_log_record
from plugins.models import Plugin, PluginInstallation, PluginVersion
from plugins.services.sandbox import readiness_info


@admin.register(Plugin)
class PluginAdmin(AuditedAdmin):
    audit_entity = "plugin"
    list_display = ("plugin_id", "name", "author", "category", "is_enabled", "is_verified", "is_bundled")
    list_filter = ("is_enabled", "is_verified", "category")
    search_fields = ("plugin_id", "name", "author")
    fields = (
        "plugin_id",
        "name",
        "author",
        "description",
        "category",
        "homepage",
        "is_published",
        "is_verified",
        "is_enabled",
        "disabled_reason",
        "is_bundled",
    )
    readonly_fields = ("plugin_id", "name", "author", "description", "category", "homepage", "is_bundled")
    actions = ["switch_off", "switch_on"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # published from a package: manage.py plugin_publish or POST /api/v1/admin/plugins

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        info = readiness_info()
        if info.get("third_party_plugins") != "allowed":
            messages.warning(
                request,
                f"The plugin sandbox on this host is {info.get('sandbox')} "
                f"(missing: {', '.join(info.get('missing') or []) or info.get('error', '?')}): "
                "third-party plugins are refused here; bundled examples still run.",
            )
        elif info.get("sandbox") != "complete":
            messages.warning(
                request, "PLUGINS_ALLOW_UNSANDBOXED is set: third-party plugins run without a full sandbox."
            )
        return super().changelist_view(request, extra_context)

    @admin.action(description="Switch off for every tenant")
    def switch_off(self, request: HttpRequest, queryset: QuerySet[Plugin]) -> None:
        count = self._switch(request, queryset, enabled=False)
        self.message_user(request, f"{count} plugin(s) switched off; their runs stop at once.")

    @admin.action(description="Switch on again")
    def switch_on(self, request: HttpRequest, queryset: QuerySet[Plugin]) -> None:
        count = self._switch(request, queryset, enabled=True)
        self.message_user(request, f"{count} plugin(s) switched on.")

    def _switch(self, request: HttpRequest, queryset: QuerySet[Plugin], *, enabled: bool) -> int:
        with transaction.atomic():
            plugins = list(queryset.select_for_update())
            for plugin in plugins:
                plugin.is_enabled = enabled
                plugin.disabled_reason = "" if enabled else "Switched off by staff."
                plugin.save(update_fields=["is_enabled", "disabled_reason", "updated_at"])
                audit_log_record(
                    action="plugin.switched",
                    actor=staff_principal(request),
                    account=None,
                    target=plugin,
                    context=RequestContext.from_request(request),
                    metadata={"plugin": plugin.plugin_id, "is_enabled": enabled, "via": "admin"},
                )
        return len(plugins)


@admin.register(PluginVersion)
class PluginVersionAdmin(ReadOnlyAdmin):
    list_display = ("plugin", "version", "status", "sha256", "size", "published_at")
    list_filter = ("status",)
    list_select_related = ("plugin",)
    search_fields = ("plugin__plugin_id", "version", "sha256")
    fields = ("plugin", "version", "status", "sha256", "size", "manifest", "changelog", "validation", "published_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[PluginVersion]:
        return super().get_queryset(request).defer("package")


@admin.register(PluginInstallation)
class PluginInstallationAdmin(ReadOnlyAdmin):
    list_display = ("plugin", "account", "version", "is_active", "disabled_reason", "consecutive_failures")
    list_filter = ("is_active", "disabled_reason")
    list_select_related = ("plugin", "account", "version")
    search_fields = ("plugin__plugin_id", "account__name", "account__slug")
    # Named one by one: the secret config is never among them.
    fields = (
        "account",
        "plugin",
        "version",
        "config",
        "granted_permissions",
        "template",
        "is_active",
        "disabled_reason",
        "disabled_at",
        "consecutive_failures",
        "installed_by",
        "created_at",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[PluginInstallation]:
        return super().get_queryset(request).defer("version__package")
