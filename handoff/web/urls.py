"""The hand-off action of an inbox thread, mounted under /inbox/ in the `inbox_web` namespace
(skybot_inbox/urls.py), beside the inbox's own thread actions."""

from django.urls import path

from handoff.web import views

urlpatterns = [
    path("<int:pk>/handoff", views.handoff, name="handoff"),
]
