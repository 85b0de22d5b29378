"""Django admin for platform staff: plugins (switch one off for every tenant, verify its author, set
a price), the review of their versions (the manifest's diff against the previous version, the
permissions in words, the checksum and the validation report, then publish / reject / yank with a
reason), tenants' reviews (hide or show) and installations (read-only, never a secret). The plugin
list says whether this host's sandbox is complete."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from accounts.admin import AuditedAdmin, ReadOnlyAdmin, staff_principal
from accounts.services.audit import RequestContext, audit_log_record
from core.exceptions import ApplicationError
from plugins.models import Plugin, PluginInstallation, PluginReview, PluginVersion, VersionStatus
from plugins.selectors import permission_words
from plugins.services.reviews import review_hide
from plugins.services.sandbox import readiness_info
from plugins.services.versions import manifest_diff, plugin_verify, version_publish, version_reject, version_yank


@admin.register(Plugin)
class PluginAdmin(AuditedAdmin):
    audit_entity = "plugin"
    list_display = (
        "plugin_id",
        "name",
        "author",
        "category",
        "is_published",
        "is_enabled",
        "is_verified",
        "downloads",
        "rating_average",
        "review_count",
        "price",
    )
    list_filter = ("is_enabled", "is_verified", "category")
    search_fields = ("plugin_id", "name", "author")
    fields = (
        "plugin_id",
        "name",
        "author",
        "description",
        "category",
        "homepage",
        "price",
        "is_published",
        "published_at",
        "is_verified",
        "is_enabled",
        "disabled_reason",
        "is_bundled",
        "downloads",
        "rating_average",
        "review_count",
    )
    # What the newest published manifest says, and the figures services keep exact, are not edited here.
    readonly_fields = (
        "plugin_id",
        "name",
        "author",
        "description",
        "category",
        "homepage",
        "is_published",
        "published_at",
        "is_verified",
        "is_bundled",
        "downloads",
        "rating_average",
        "review_count",
    )
    actions = ["switch_off", "switch_on", "verify_author", "unverify_author"]

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

    @admin.action(description="Mark the author verified")
    def verify_author(self, request: HttpRequest, queryset: QuerySet[Plugin]) -> None:
        self._verify(request, queryset, verified=True)
        self.message_user(request, f"{queryset.count()} plugin(s) now show the verified badge.")

    @admin.action(description="Take the verified mark back")
    def unverify_author(self, request: HttpRequest, queryset: QuerySet[Plugin]) -> None:
        self._verify(request, queryset, verified=False)
        self.message_user(request, f"{queryset.count()} plugin(s) no longer show the verified badge.")

    def _verify(self, request: HttpRequest, queryset: QuerySet[Plugin], *, verified: bool) -> None:
        actor, context = staff_principal(request), RequestContext.from_request(request)
        for plugin in queryset:
            plugin_verify(plugin=plugin, verified=verified, actor=actor, context=context)

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


class ReviewDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("publish", "Publish"), ("reject", "Reject"), ("yank", "Yank")], widget=forms.HiddenInput
    )
    reason = forms.CharField(
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text="Required to reject (the author reads it) or yank (the tenants' admins read it).",
    )


@admin.register(PluginVersion)
class PluginVersionAdmin(ReadOnlyAdmin):
    list_display = ("plugin", "version", "status", "review_link", "sha256", "size", "created_at", "published_at")
    list_filter = ("status",)
    list_select_related = ("plugin",)
    search_fields = ("plugin__plugin_id", "version", "sha256")
    fields = (
        "plugin",
        "version",
        "status",
        "status_reason",
        "sha256",
        "size",
        "manifest",
        "changelog",
        "validation",
        "uploaded_by",
        "published_at",
        "published_by",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[PluginVersion]:
        return super().get_queryset(request).defer("package")

    def get_urls(self) -> list[Any]:
        review = self.admin_site.admin_view(self.review_view)
        return [path("<int:pk>/review/", review, name="plugins_pluginversion_review"), *super().get_urls()]

    @admin.display(description="Review")
    def review_link(self, version: PluginVersion) -> str:
        label = "Review" if version.status == VersionStatus.PENDING_REVIEW else "Open"
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:plugins_pluginversion_review", args=[version.pk]), label
        )

    def review_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The reviewer's page: what changed, what it may do, its checksum and checks; then the decision."""
        if not self.has_view_permission(request):
            return HttpResponse(status=403)
        version = get_object_or_404(PluginVersion.objects.select_related("plugin").defer("package"), pk=pk)
        form = ReviewDecisionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            decision, reason = form.cleaned_data["decision"], form.cleaned_data["reason"]
            actor, audit_context = staff_principal(request), RequestContext.from_request(request)
            try:
                if decision == "publish":
                    version_publish(version=version, actor=actor, context=audit_context)
                    self.message_user(request, f"{version} is published: tenants can install it.")
                elif decision == "reject":
                    version_reject(version=version, reason=reason, actor=actor, context=audit_context)
                    self.message_user(request, f"{version} is rejected.")
                else:
                    stopped = version_yank(version=version, reason=reason, actor=actor, context=audit_context)
                    self.message_user(
                        request, f"{version} is yanked: {len(stopped)} installation(s) stopped, their admins emailed."
                    )
                return HttpResponseRedirect(reverse("admin:plugins_pluginversion_review", args=[version.pk]))
            except ApplicationError as error:
                self.message_user(request, error.message, level=messages.ERROR)
        diff = manifest_diff(version)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Review {version.plugin.plugin_id} {version.version}",
            "version": version,
            "diff": diff,
            "permissions": [(p, permission_words(p), p in diff["added_permissions"]) for p in version.permissions],
            "removed_permissions": [(p, permission_words(p)) for p in diff["removed_permissions"]],
            "form": form,
            "can_publish": version.status == VersionStatus.PENDING_REVIEW,
            "can_reject": version.status == VersionStatus.PENDING_REVIEW,
            "can_yank": version.status == VersionStatus.PUBLISHED,
            "installations": PluginInstallation.objects.filter(version=version).count(),
        }
        return TemplateResponse(request, "admin/plugins/pluginversion/review.html", context)


@admin.register(PluginReview)
class PluginReviewAdmin(ReadOnlyAdmin):
    list_display = ("plugin", "account", "rating", "is_hidden", "version", "created_at", "edited_at")
    list_filter = ("is_hidden", "rating")
    list_select_related = ("plugin", "account")
    search_fields = ("plugin__plugin_id", "account__name", "text")
    fields = ("plugin", "account", "author", "version", "rating", "text", "is_hidden", "created_at", "edited_at")
    actions = ["hide", "show"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_staff)  # for the actions; fields stay read-only

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return self.fields

    @admin.action(description="Hide (spam, abuse, off-topic): not listed, not counted")
    def hide(self, request: HttpRequest, queryset: QuerySet[PluginReview]) -> None:
        self._hide(request, queryset, hidden=True)
        self.message_user(request, f"{queryset.count()} review(s) hidden.")

    @admin.action(description="Show again")
    def show(self, request: HttpRequest, queryset: QuerySet[PluginReview]) -> None:
        self._hide(request, queryset, hidden=False)
        self.message_user(request, f"{queryset.count()} review(s) shown again.")

    def _hide(self, request: HttpRequest, queryset: QuerySet[PluginReview], *, hidden: bool) -> None:
        actor, context = staff_principal(request), RequestContext.from_request(request)
        for review in queryset:
            review_hide(review=review, hidden=hidden, actor=actor, context=context)


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
