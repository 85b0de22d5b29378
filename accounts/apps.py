from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Tenants and people"
    default = True

    def ready(self) -> None:
        # The OpenAPI descriptions of both ways to authenticate (API key, JWT) are drf-spectacular
        # extensions, registered on import: load them here so the schema never depends on which API
        # module happened to be imported first.
        import accounts.schema  # noqa: F401


class StaffAdminConfig(admin_apps.AdminConfig):
    """Django admin with `accounts.admin_site.StaffAdminSite` as `admin.site` (its sign-in is limited)."""

    default = False  # named in INSTALLED_APPS in place of "django.contrib.admin"
    default_site = "accounts.admin_site.StaffAdminSite"
