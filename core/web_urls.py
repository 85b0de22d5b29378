"""Web UI routes (server-rendered pages)."""

from django.urls import path

from core import web_views

urlpatterns = [
    path("", web_views.home, name="home"),
]
