from django.urls import path

from inbox.web import views

app_name = "inbox_web"

urlpatterns = [
    path("", views.conversations, name="conversations"),
]
