from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Tenants and people"
    default = True


class StaffAdminConfig(admin_apps.AdminConfig):
    """Django admin with `accounts.admin_site.StaffAdminSite` as `admin.site` (its sign-in is limited)."""

    default = False  # named in INSTALLED_APPS in place of "django.contrib.admin"
    default_site = "accounts.admin_site.StaffAdminSite"
