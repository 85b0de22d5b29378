"""Reads of the plugin catalogue: the marketplace's filtered, sorted list, a plugin's versions and
rating summary, and the upgrade an installation could take."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import django_filters
from django.db.models import Count, Prefetch, Q, QuerySet
from django.urls import reverse
from skybot_plugin_sdk.types import PERMISSIONS

from agents.models import AgentCategory
from core.filters import StrictBooleanFilter, filter_queryset
from plugins.models import Plugin, PluginInstallation, PluginReview, PluginVersion, VersionStatus

# The marketplace's sort orders: each is (first field, tie-breaker), index-backed (models.Plugin.Meta).
SORTS: dict[str, tuple[str, ...]] = {
    "installs": ("-downloads", "-id"),
    "rating": ("-rating_average", "-id"),
    "newest": ("-published_at", "-id"),
    "name": ("name", "id"),
}
SORT_LABELS = {"installs": "Most installed", "rating": "Best rated", "newest": "Newest", "name": "Name"}


def permission_words(permission: str) -> str:
    """What a permission lets a plugin do, in words a tenant's admin understands."""
    if permission.startswith("http:"):
        return f"Call {permission.removeprefix('http:')} over HTTPS or HTTP, through the platform."
    return PERMISSIONS.get(permission, permission)


def icon_url(plugin: Plugin) -> str | None:
    """Where the web app serves the plugin's icon (for signed-in people), or None without one."""
    if not plugin.icon:
        return None
    return reverse("marketplace:file", kwargs={"plugin_id": plugin.plugin_id, "path": plugin.icon})


def reviewer_name(review: PluginReview) -> str:
    """The reviewer as other workspaces see them: first name and initial, never the workspace or email."""
    names = review.author.full_name.split() if review.author is not None else []
    if not names:
        return "A verified customer"
    return f"{names[0]} {names[-1][:1]}." if len(names) > 1 else names[0]


class CatalogueFilter(django_filters.FilterSet):
    category = django_filters.ChoiceFilter(choices=AgentCategory.choices)
    q = django_filters.CharFilter(method="filter_text", help_text="Name or description contains this text.")
    verified = StrictBooleanFilter(field_name="is_verified", help_text="true: only plugins by verified authors.")
    free = StrictBooleanFilter(method="filter_free", help_text="true: free ones only; false: paid ones only.")
    sort = django_filters.ChoiceFilter(
        choices=list(SORT_LABELS.items()),
        method="filter_sort",
        help_text="installs (default), rating, newest or name.",
    )

    class Meta:
        model = Plugin
        fields: list[str] = []

    def filter_text(self, queryset: QuerySet[Plugin], name: str, value: str) -> QuerySet[Plugin]:
        value = value.strip()
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value)) if value else queryset

    def filter_free(self, queryset: QuerySet[Plugin], name: str, value: bool) -> QuerySet[Plugin]:
        return queryset.filter(price__isnull=value)

    def filter_sort(self, queryset: QuerySet[Plugin], name: str, value: str) -> QuerySet[Plugin]:
        return queryset  # applied by the caller's ordering (cursor pagination needs it there)


def catalogue_sort(filters: Any) -> str:
    sort = str(filters.get("sort") or "installs")
    return sort if sort in SORTS else "installs"


def catalogue(*, filters: Any) -> QuerySet[Plugin]:
    """Published plugins matching the marketplace's filters (a 400 for a bad value), in the order
    `sort` names, each with its published versions loaded."""
    queryset = filter_queryset(CatalogueFilter, data=filters, queryset=Plugin.objects.filter(is_published=True))
    return plugins_with_versions(queryset.order_by(*SORTS[catalogue_sort(filters)]))


def published_plugin(plugin_id: str) -> Plugin | None:
    return plugins_with_versions(Plugin.objects.filter(plugin_id=plugin_id, is_published=True)).first()


def rating_histogram(plugin: Plugin) -> dict[int, int]:
    """How many visible reviews gave each number of stars, 5 to 1."""
    counts = dict(
        PluginReview.objects.filter(plugin=plugin, is_hidden=False)
        .values_list("rating")
        .annotate(n=Count("id"))
        .values_list("rating", "n")
    )
    return {stars: counts.get(stars, 0) for stars in (5, 4, 3, 2, 1)}


def visible_reviews(plugin: Plugin) -> QuerySet[PluginReview]:
    return PluginReview.objects.filter(plugin=plugin, is_hidden=False).select_related("author", "account")


def published_versions(plugin: Plugin) -> list[PluginVersion]:
    """The plugin's published versions, newest first (loaded by `plugins_with_versions` when listed)."""
    versions = getattr(plugin, "published_versions", None)
    if versions is None:
        versions = list(_published_versions().filter(plugin=plugin))
    return sorted(versions, key=lambda v: version_key(v.version), reverse=True)


def version_key(version: str) -> tuple[int, ...]:
    """A semantic version's MAJOR.MINOR.PATCH as numbers, for comparing (pre-release and build ignored)."""
    core = version.split("+", 1)[0].split("-", 1)[0]
    return tuple(int(part) for part in core.split("."))


def _published_versions() -> QuerySet[PluginVersion]:
    return PluginVersion.objects.filter(status=VersionStatus.PUBLISHED).defer("package", "validation").order_by()


def plugins_with_versions(queryset: QuerySet[Plugin]) -> QuerySet[Plugin]:
    """`queryset` with each plugin's published versions loaded in one more query (`newest_published`
    then needs none)."""
    return queryset.prefetch_related(Prefetch("versions", queryset=_published_versions(), to_attr="published_versions"))


def installations_with_versions(queryset: QuerySet[PluginInstallation]) -> QuerySet[PluginInstallation]:
    """`queryset` with each installation's plugin's published versions loaded (for `available_upgrade`)."""
    return queryset.prefetch_related(
        Prefetch("plugin__versions", queryset=_published_versions(), to_attr="published_versions")
    )


def newest_published(plugin: Plugin) -> PluginVersion | None:
    """The plugin's published version with the highest semantic version (without its package bytes)."""
    return next(iter(published_versions(plugin)), None)


@dataclass(frozen=True)
class Upgrade:
    version: PluginVersion
    added_permissions: list[str]
    removed_permissions: list[str]


def available_upgrade(installation: PluginInstallation) -> Upgrade | None:
    """The newest published version above the installed one (or any published one when the installed
    version was yanked: moving back is the way out), with the permissions it would add and drop
    against what the installation granted; None when there is none."""
    newest = newest_published(installation.plugin)
    if newest is None or newest.pk == installation.version_id:
        return None
    yanked = installation.version.status == VersionStatus.YANKED
    if not yanked and version_key(newest.version) <= version_key(installation.version.version):
        return None
    granted, asked = set(installation.granted_permissions), set(newest.permissions)
    return Upgrade(
        version=newest, added_permissions=sorted(asked - granted), removed_permissions=sorted(granted - asked)
    )
