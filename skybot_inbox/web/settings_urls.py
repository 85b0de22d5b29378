"""The Settings area (/settings/), for CLIENT_ADMIN: people, API keys, WhatsApp numbers, audit log, billing.

Each page belongs to its app; the area only gathers them under one address and one URL namespace."""

from django.urls import path

from accounts.web import api_keys, audit, users
from billing.web import views as billing
from inbox.web import channels as web_channels
from skybot_inbox.web import settings_index

app_name = "settings_web"

urlpatterns = [
    path("", settings_index.index, name="index"),
    path("time-zone/", settings_index.time_zone, name="time_zone"),
    path("users/", users.users, name="users"),
    path("users/new/", users.user_new, name="user_new"),
    path("users/<int:pk>/role/", users.user_role, name="user_role"),
    path("users/<int:pk>/deactivate/", users.user_deactivate, name="user_deactivate"),
    path("users/<int:pk>/reactivate/", users.user_reactivate, name="user_reactivate"),
    path("api-keys/", api_keys.api_keys, name="api_keys"),
    path("api-keys/new/", api_keys.api_key_new, name="api_key_new"),
    path("api-keys/<int:pk>/", api_keys.api_key_detail, name="api_key_detail"),
    path("api-keys/<int:pk>/rotate/", api_keys.api_key_rotate_view, name="api_key_rotate"),
    path("api-keys/<int:pk>/revoke/", api_keys.api_key_revoke_view, name="api_key_revoke"),
    path("whatsapp/", web_channels.channels, name="channels"),
    path("whatsapp/new/", web_channels.channel_new, name="channel_new"),
    path("whatsapp/sandbox/", web_channels.channel_sandbox_new, name="channel_sandbox_new"),
    path("whatsapp/<int:pk>/", web_channels.channel_edit, name="channel_edit"),
    path("whatsapp/<int:pk>/activate/", web_channels.channel_activate, name="channel_activate"),
    path("whatsapp/<int:pk>/deactivate/", web_channels.channel_deactivate, name="channel_deactivate"),
    path("audit/", audit.audit, name="audit"),
    path("billing/", billing.billing, name="billing"),
    path("billing/portal/", billing.billing_portal, name="billing_portal"),
]
