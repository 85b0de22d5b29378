"""The baseline every ratio in bench/api is to: Django with no apps, no middleware, no database and
one view answering "ok", served by the same gunicorn as the application."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

SECRET_KEY = "bench-api-no-op-not-secret"  # signs nothing: no sessions, no middleware
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
DATABASES: dict[str, dict[str, str]] = {}
ROOT_URLCONF = "bench.api.settings_noop"
USE_TZ = True


def ok(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("", ok)]
