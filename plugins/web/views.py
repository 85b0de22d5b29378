"""Pages of the plugins app: the "Try it" box on a plugin agent's page (/agents/<pk>/try/), and a
published plugin's files (icon, screenshots) for the marketplace."""

from __future__ import annotations

import io
import mimetypes
import zipfile

from django import forms
from django.core.cache import cache
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.models import Role
from accounts.web.pages import PageRequest, page, row_or_404
from agents.models import Agent, AgentRuntime, AgentStatus
from plugins.models import PluginInstallation, PluginVersion
from plugins.selectors import newest_published, published_plugin
from plugins.services.runs import plugin_try

# The files of a package the marketplace shows: its icon and `screenshots/*.png|jpg`.
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".svg": "image/svg+xml"}
MAX_FILE_BYTES = 512_000


class TryForm(forms.Form):
    message = forms.CharField(max_length=4096, widget=forms.Textarea(attrs={"rows": 3}), label="Customer message")


@page(role=Role.CLIENT_ADMIN)
def agent_try(request: PageRequest, pk: int) -> HttpResponse:
    """POST: run the agent's plugin once on the message, applying nothing; answers the result partial."""
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "POST"})
    agent = row_or_404(
        request,
        Agent.objects.exclude(status=AgentStatus.DELETED).filter(template__runtime=AgentRuntime.PLUGIN),
        missing="This agent does not exist (any more).",
        pk=pk,
    )
    form = TryForm(request.POST)
    if not form.is_valid():
        return render(request, "plugins/partials/try_result.html", {"form": form}, status=400)
    installation = PluginInstallation.objects.select_related("plugin").filter(template_id=agent.template_id).first()
    if installation is None:
        return render(request, "plugins/partials/try_result.html", {"form": form, "missing": True}, status=409)
    result = plugin_try(installation=installation, message=form.cleaned_data["message"], metadata={})
    return render(request, "plugins/partials/try_result.html", {"form": form, "result": result})


def package_images(version: PluginVersion) -> list[str]:
    """The screenshots a version's package holds (`screenshots/<name>.png|jpg`), by name."""
    with zipfile.ZipFile(io.BytesIO(bytes(version.package))) as archive:
        return sorted(
            info.filename
            for info in archive.infolist()
            if info.filename.startswith("screenshots/")
            and "/" not in info.filename.removeprefix("screenshots/")
            and mimetypes.guess_type(info.filename)[0] in ("image/png", "image/jpeg")
            and info.file_size <= MAX_FILE_BYTES
        )


def version_screenshots(version: PluginVersion) -> list[str]:
    """`package_images` of a version, kept in the cache by its checksum (the bytes never change),
    so a plugin's page reads its package only the first time."""
    key = f"plugin-screenshots:{version.sha256}"
    names = cache.get(key)
    if names is None:
        names = package_images(PluginVersion.objects.get(pk=version.pk))
        cache.set(key, names, 3600)
    return list(names)


def _file_bytes(version: PluginVersion, path: str) -> bytes | None:
    key = f"plugin-file:{version.sha256}:{path}"
    data = cache.get(key)
    if data is None:
        with zipfile.ZipFile(io.BytesIO(bytes(version.package))) as archive:
            try:
                info = archive.getinfo(path)
            except KeyError:
                return None
            if info.file_size > MAX_FILE_BYTES:
                return None
            data = archive.read(info)
        cache.set(key, data, 3600)
    return bytes(data)


@require_GET
@page()
def plugin_file(request: PageRequest, plugin_id: str, path: str) -> HttpResponse:
    """The icon or a screenshot of a published plugin's newest version. Only those: any other path
    of the package (its code) is a 404. An SVG is served under a CSP that runs nothing in it."""
    plugin = published_plugin(plugin_id)
    version = newest_published(plugin) if plugin is not None else None
    if version is None:
        raise Http404("No such plugin.")
    version = PluginVersion.objects.get(pk=version.pk)  # with its package bytes
    suffix = "." + path.rsplit(".", 1)[-1].lower() if "." in path else ""
    allowed = path == version.manifest.get("icon") or path in package_images(version)
    data = _file_bytes(version, path) if allowed and suffix in IMAGE_TYPES else None
    if data is None:
        raise Http404("No such file.")
    response = HttpResponse(data, content_type=IMAGE_TYPES[suffix])
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response
