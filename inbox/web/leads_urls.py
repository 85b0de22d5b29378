from django.urls import path

from inbox.web import views

app_name = "leads_web"

urlpatterns = [
    path("", views.lead_list, name="list"),
]
