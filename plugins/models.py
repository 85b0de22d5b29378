"""Plugins: packages written with the plugin SDK, published by staff, installed by tenants.

A `Plugin` is one plugin id (`lead-scorer`); each upload of it is a `PluginVersion` holding the
package itself (a zip of at most `PLUGINS_MAX_PACKAGE_BYTES`, stored in the database so every web
and worker host reads the same bytes) and its SHA-256, checked again each time the code is loaded.
A tenant's `PluginInstallation` pins a version, keeps the config (secret fields encrypted, bound to
the row), the permissions it granted, and the agent template that lets the tenant create agents
from the plugin. `PluginStorageItem` is an installation's small key/value store.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from accounts.models import Account, User
from agents.models import AgentCategory, AgentTemplate
from core.crypto import EncryptedTextField
from core.models import TimeStampedModel


class Plugin(TimeStampedModel):
    """One plugin of the catalogue, by its manifest `id`; the newest published version describes it."""

    plugin_id = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=100)
    author = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    category = models.CharField(max_length=16, choices=AgentCategory.choices)
    homepage = models.URLField(blank=True)
    is_published = models.BooleanField(default=True)
    is_verified = models.BooleanField(default=False, help_text="Staff checked who the author is.")
    is_bundled = models.BooleanField(
        default=False,
        help_text="Ships with the platform (plugins/examples): runs even where the sandbox lacks a layer.",
    )
    # The platform-wide kill switch: staff turn a plugin off for every tenant at once.
    is_enabled = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.plugin_id


class VersionStatus(models.TextChoices):
    PENDING_REVIEW = "pending_review", "Pending review"
    PUBLISHED = "published", "Published"
    REJECTED = "rejected", "Rejected"
    YANKED = "yanked", "Yanked"


class PluginVersion(models.Model):
    plugin = models.ForeignKey(Plugin, on_delete=models.CASCADE, related_name="versions")
    version = models.CharField(max_length=64)
    manifest = models.JSONField()
    package = models.BinaryField(help_text="The zip as uploaded.")
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    changelog = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=VersionStatus.choices, default=VersionStatus.PUBLISHED)
    validation = models.JSONField(default=dict, blank=True, help_text="What the checks found when it was published.")
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["plugin", "version"], name="plugin_version_unique")]

    def __str__(self) -> str:
        return f"{self.plugin_id}@{self.version}"

    @property
    def permissions(self) -> list[str]:
        return list(self.manifest.get("permissions", []))


class DisabledReason(models.TextChoices):
    MANUAL = "manual", "Turned off by a person"
    FAILING = "failing", "Its runs kept failing"


class PluginInstallation(TimeStampedModel):
    """A plugin installed in one tenant: the version it runs, its config, what it may do."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="plugin_installations")
    plugin = models.ForeignKey(Plugin, on_delete=models.PROTECT, related_name="installations")
    version = models.ForeignKey(PluginVersion, on_delete=models.PROTECT, related_name="installations")
    uuid = models.UUIDField(
        default=uuid.uuid4,
        unique=True,
        editable=False,
        help_text="The row identity its encrypted columns are bound to; never changes.",
    )
    config = models.JSONField(default=dict, blank=True, help_text="The config without its secret fields.")
    secret_config = EncryptedTextField(blank=True, help_text="The secret fields, as a JSON object.")
    granted_permissions = models.JSONField(default=list)
    template = models.OneToOneField(
        AgentTemplate, on_delete=models.PROTECT, related_name="plugin_installation", help_text="Agents made from it."
    )
    is_active = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=16, choices=DisabledReason.choices, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    installed_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "plugin"], name="plugin_installation_unique_per_account")
        ]

    def __str__(self) -> str:
        return f"{self.plugin_id} in {self.account_id}"


class PluginStorageItem(models.Model):
    """One key of an installation's storage; `size` is the JSON value's length, summed for the cap."""

    installation = models.ForeignKey(PluginInstallation, on_delete=models.CASCADE, related_name="storage_items")
    key = models.CharField(max_length=200)
    value = models.JSONField(null=True)
    size = models.PositiveIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["installation", "key"], name="plugin_storage_key_unique"),
            models.CheckConstraint(condition=~Q(key=""), name="plugin_storage_key_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.installation_id}:{self.key}"
