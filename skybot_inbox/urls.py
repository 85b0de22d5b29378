from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularSwaggerSplitView

from agents.webhooks import skybot_webhook
from core import views as core_views
from core.schema import SchemaView
from handoff.web import urls as handoff_web_urls
from inbox.web import urls as inbox_web_urls
from inbox.webhooks import whatsapp_webhook
from skybot_inbox.web import shell

api_v1 = [
    path("", include("accounts.urls")),
    path("", include("billing.urls")),
    path("", include("inbox.urls")),
    path("", include("agents.urls")),
    path("", include("handoff.urls")),
    path("", include("integrations.urls")),
    path("", include("plugins.urls")),
]

# A thread's actions are the inbox's and those the apps above it add (handoff's "Take over"): one
# namespace, so templates name them all `inbox_web:<name>`.
inbox_pages = ([*inbox_web_urls.urlpatterns, *handoff_web_urls.urlpatterns], inbox_web_urls.app_name)

urlpatterns = [
    path("api/health", core_views.health, name="health"),
    path("api/ready", core_views.ready, name="ready"),
    path("metrics", core_views.metrics, name="metrics"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SchemaView.as_view(), name="schema"),  # built once per process (core/schema.py)
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    # Anything else under /api/ answers the API's JSON 404, also with DEBUG on.
    re_path(r"^api/(?P<path>[\s\S]*)$", core_views.api_not_found),  # [\s\S]: a path may hold %0A
    path("webhooks/whatsapp", whatsapp_webhook, name="whatsapp-webhook"),
    path("webhooks/skybot", skybot_webhook, name="skybot-webhook"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.web.signin_urls")),
    path("accounts/", include("allauth.urls")),
    path("inbox/", include(inbox_pages)),
    path("leads/", include("inbox.web.leads_urls")),
    path("contacts/", include("inbox.web.contacts_urls")),
    path("simulator/", include("inbox.web.simulator_urls")),
    path("agents/", include("plugins.web.urls")),  # a plugin agent's "Try it", beside the agent's pages
    path("agents/", include("agents.web.urls")),
    path("marketplace/", include("plugins.web.marketplace_urls")),
    path("settings/", include("skybot_inbox.web.settings_urls")),
    path("developers/", include("integrations.web.urls")),
    path("favicon.ico", shell.favicon, name="favicon"),
    path("", shell.home, name="home"),
]

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()

handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
