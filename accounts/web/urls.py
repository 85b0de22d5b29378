from django.urls import path

from accounts.web import views

app_name = "settings_web"

urlpatterns = [
    path("", views.index, name="index"),
]
