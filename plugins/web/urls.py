"""Pages of the plugins app that sit under /agents/ (a plugin agent's "Try it")."""

from django.urls import path

from plugins.web import views

app_name = "plugins_web"

urlpatterns = [path("<int:pk>/try/", views.agent_try, name="agent-try")]
