"""Reads of the plugin catalogue."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from plugins.models import Plugin, PluginVersion, VersionStatus


def version_key(version: str) -> tuple[int, ...]:
    """A semantic version's MAJOR.MINOR.PATCH as numbers, for comparing (pre-release and build ignored)."""
    core = version.split("+", 1)[0].split("-", 1)[0]
    return tuple(int(part) for part in core.split("."))


def _published_versions() -> QuerySet[PluginVersion]:
    return PluginVersion.objects.filter(status=VersionStatus.PUBLISHED).defer("package")


def plugins_with_versions(queryset: QuerySet[Plugin]) -> QuerySet[Plugin]:
    """`queryset` with each plugin's published versions loaded in one more query (`newest_published`
    then needs none)."""
    return queryset.prefetch_related(Prefetch("versions", queryset=_published_versions(), to_attr="published_versions"))


def newest_published(plugin: Plugin) -> PluginVersion | None:
    """The plugin's published version with the highest semantic version (without its package bytes)."""
    versions = getattr(plugin, "published_versions", None)
    if versions is None:
        versions = list(_published_versions().filter(plugin=plugin))
    return max(versions, key=lambda v: version_key(v.version), default=None)
