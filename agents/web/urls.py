"""Web UI pages of the agents app, under /agents/ (server-rendered, htmx for partial updates)."""

from django.urls import path

from agents.web import views

app_name = "agents_web"

urlpatterns = [
    path("", views.agent_list, name="list"),
    path("new/", views.agent_new, name="new"),
    path("new/<slug:template_key>/", views.agent_create_form, name="create"),
    path("reports/<int:report_id>/", views.report_status, name="report"),
    path("<int:pk>/", views.agent_detail, name="detail"),
    path("<int:pk>/edit/", views.agent_edit, name="edit"),
    path("<int:pk>/status/", views.agent_status, name="status"),
    path("<int:pk>/executions/", views.agent_executions_part, name="executions"),
    path("<int:pk>/analytics/", views.agent_analytics_part, name="analytics"),
    path("<int:pk>/reports/", views.report_create, name="report-create"),
    path("<int:pk>/delete/", views.agent_remove, name="delete"),
    path("<int:pk>/<str:action>/", views.agent_action, name="action"),
]
