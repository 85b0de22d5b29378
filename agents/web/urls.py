from django.urls import path

from agents.web import views

app_name = "agents_web"

urlpatterns = [
    path("", views.agent_list, name="list"),
]
