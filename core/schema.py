"""The OpenAPI schema endpoint (`/api/schema/`), built once per process instead of once per request.

Generating the schema walks every view and serializer (a large share of a second, several seconds on
a small server) and its answer depends only on the code and the settings, both fixed for the life of
a process: a deploy starts new processes, and the development server restarts when the code
changes. So each variant is generated and rendered on its first request and the bytes are kept in
the process: one per language (`?lang=`, only the configured ones) and renderer (`?format=json|yaml`
or the `Accept` header). Nothing else a client sends shapes a variant: the API has one version, in
its path, so drf-spectacular's `?version=` is ignored, and media-type parameters of `Accept` are
dropped; the number of variants is bounded (`MAX_VARIANTS`) all the same. A change of settings
(tests) empties the cache.

`schema_builds` counts the generations (`skybot_openapi_schema_builds_total` on `/metrics`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpResponse
from django.utils import translation
from drf_spectacular.views import SpectacularAPIView
from prometheus_client import Counter
from rest_framework.request import Request

schema_builds = Counter(
    "skybot_openapi_schema_builds_total",
    "OpenAPI schemas generated for /api/schema/ (once per variant and process; the rest are cached).",
)


@dataclass(frozen=True)
class _Rendered:
    content: bytes
    content_type: str
    content_disposition: str


_rendered: dict[tuple[str | None, str], _Rendered] = {}
# Languages times renderers is a handful; past this, variants are answered without being kept.
MAX_VARIANTS = 16
_lock = threading.Lock()


@receiver(setting_changed)
def _forget(**kwargs: Any) -> None:
    with _lock:
        _rendered.clear()


def forget_schemas() -> None:
    """Empty the cache: the next request of each variant generates its schema again."""
    _forget()


class SchemaView(SpectacularAPIView):
    """drf-spectacular's schema view, answering each variant from the process's cache."""

    def _get_version_parameter(self, request: Request) -> None:
        return None  # one API version (in the path): a client's `?version=` names no other schema

    def _get_schema_response(self, request: Request) -> HttpResponse:
        # `get` has already switched the language for `?lang=`; the negotiated renderer is the format.
        key = (translation.get_language(), type(request.accepted_renderer).__name__)
        rendered = _rendered.get(key)
        if rendered is None:
            with _lock:
                rendered = _rendered.get(key)
                if rendered is None:
                    rendered = self._render(request)
                    if len(_rendered) < MAX_VARIANTS:
                        _rendered[key] = rendered
        response = HttpResponse(rendered.content, content_type=rendered.content_type)
        response["Content-Disposition"] = rendered.content_disposition
        return response

    def _render(self, request: Request) -> _Rendered:
        schema_builds.inc()
        response = super()._get_schema_response(request)
        # Rendered here as DRF would render it after the view, so that the bytes can be kept; the
        # renderer's own media type, not the client's `Accept` with its parameters.
        response.accepted_renderer = request.accepted_renderer
        response.accepted_media_type = request.accepted_renderer.media_type
        response.renderer_context = self.get_renderer_context()
        response.render()
        return _Rendered(
            content=response.content,
            content_type=response["Content-Type"],
            content_disposition=response["Content-Disposition"],
        )
