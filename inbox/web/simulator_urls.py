"""The customer simulator's pages under /simulator/ (`simulator_web` namespace)."""

from django.urls import path

from inbox.web import simulator

app_name = "simulator_web"

urlpatterns = [
    path("", simulator.index, name="index"),
    path("<int:pk>/", simulator.number, name="number"),
    path("<int:pk>/chat", simulator.chat, name="chat"),
    path("<int:pk>/send", simulator.send, name="send"),
    path("<int:pk>/read", simulator.read, name="read"),
    path("<int:pk>/failure", simulator.failure, name="failure"),
]
