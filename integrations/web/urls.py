"""The Developers area (/developers/), for CLIENT_ADMIN: API keys with their usage, webhook endpoints."""

from django.urls import path

from integrations.web import usage, webhooks

app_name = "developers_web"

urlpatterns = [
    path("", usage.index, name="index"),
    path("api-keys/<int:pk>/", usage.api_key_usage_page, name="api_key_usage"),
    path("webhooks/", webhooks.webhooks, name="webhooks"),
    path("webhooks/new/", webhooks.webhook_new, name="webhook_new"),
    path("webhooks/<int:pk>/", webhooks.webhook_detail, name="webhook_detail"),
    path("webhooks/<int:pk>/deliveries/", webhooks.webhook_deliveries, name="webhook_deliveries"),
    path("webhooks/<int:pk>/edit/", webhooks.webhook_edit, name="webhook_edit"),
    path("webhooks/<int:pk>/rotate/", webhooks.webhook_rotate, name="webhook_rotate"),
    path("webhooks/<int:pk>/turn-on/", webhooks.webhook_turn_on, name="webhook_turn_on"),
    path("webhooks/<int:pk>/turn-off/", webhooks.webhook_turn_off, name="webhook_turn_off"),
    path("webhooks/<int:pk>/test/", webhooks.webhook_test, name="webhook_test"),
    path("webhooks/<int:pk>/delete/", webhooks.webhook_delete, name="webhook_delete"),
    path("webhooks/deliveries/<int:pk>/redeliver/", webhooks.delivery_redeliver_view, name="delivery_redeliver"),
]
