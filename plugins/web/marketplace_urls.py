"""The marketplace's pages under /marketplace/: the catalogue, a plugin's page, its files (icon,
screenshots), installing and reviewing it, and the tenant's installed plugins (`installed/`, which
therefore is no plugin's page)."""

from django.urls import path

from plugins.web import installed, marketplace, views

app_name = "marketplace"

urlpatterns = [
    path("", marketplace.marketplace, name="index"),
    path("installed/", installed.installed_list, name="installed"),
    path("installed/<slug:plugin_id>/", installed.installation_detail, name="installation"),
    path("installed/<slug:plugin_id>/configure/", installed.installation_configure, name="configure"),
    path("installed/<slug:plugin_id>/switch/", installed.installation_switch, name="switch"),
    path("installed/<slug:plugin_id>/update/", installed.installation_upgrade, name="upgrade"),
    path("installed/<slug:plugin_id>/uninstall/", installed.installation_uninstall, name="uninstall"),
    path("<slug:plugin_id>/", marketplace.plugin_detail, name="detail"),
    path("<slug:plugin_id>/install/", marketplace.plugin_install_form, name="install"),
    path("<slug:plugin_id>/review/", marketplace.review_save, name="review"),
    path("<slug:plugin_id>/review/delete/", marketplace.review_remove, name="review-delete"),
    path("<slug:plugin_id>/files/<path:path>", views.plugin_file, name="file"),
]
