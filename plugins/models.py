"""Plugins: packages written with the plugin SDK, published by staff, installed by tenants.

A `Plugin` is one plugin id (`lead-scorer`); each upload of it is a `PluginVersion` holding the
package itself (a zip of at most `PLUGINS_MAX_PACKAGE_BYTES`, stored in the database so every web
and worker host reads the same bytes) and its SHA-256, checked again each time the code is loaded.
A version waits in review (`pending_review`) until staff publish or reject it; a published one can
be yanked, which stops every installation running it. A tenant's `PluginInstallation` pins a
version, keeps the config (secret fields encrypted, bound to the row), the permissions it granted,
and the agent template that lets the tenant create agents from the plugin. `PluginStorageItem` is an
installation's small key/value store. `PluginReview` is one tenant's rating of a plugin it
installed; the plugin row keeps the exact average and count of the visible ones, and its installs.
"""

from __future__ import annotations

import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
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
    icon = models.CharField(max_length=200, blank=True, help_text="The icon's path inside the package.")
    is_published = models.BooleanField(default=False, help_text="Has a published version: tenants see it.")
    published_at = models.DateTimeField(null=True, blank=True, help_text="When its first version was published.")
    is_verified = models.BooleanField(default=False, help_text="Staff checked who the author is.")
    price = models.DecimalField(
        max_digits=8, decimal_places=2, null=True, blank=True, help_text="Per month; empty means free."
    )
    # Kept exact by the services that change them (installations.py, reviews.py), for sorting.
    downloads = models.PositiveIntegerField(default=0, help_text="Tenants that have it installed now.")
    rating_average = models.DecimalField(max_digits=3, decimal_places=2, default=0)
    review_count = models.PositiveIntegerField(default=0)
    is_bundled = models.BooleanField(
        default=False,
        help_text="Ships with the platform (plugins/examples): runs even where the sandbox lacks a layer.",
    )
    # The platform-wide kill switch: staff turn a plugin off for every tenant at once.
    is_enabled = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            # the marketplace's sort orders, over published plugins only
            models.Index(fields=["-downloads", "-id"], condition=Q(is_published=True), name="plugin_by_installs"),
            models.Index(fields=["-rating_average", "-id"], condition=Q(is_published=True), name="plugin_by_rating"),
            models.Index(fields=["-published_at", "-id"], condition=Q(is_published=True), name="plugin_by_newest"),
            models.Index(fields=["name", "id"], condition=Q(is_published=True), name="plugin_by_name"),
        ]

    def __str__(self) -> str:
        return self.plugin_id

    @property
    def is_free(self) -> bool:
        return self.price is None


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
    status = models.CharField(max_length=16, choices=VersionStatus.choices, default=VersionStatus.PENDING_REVIEW)
    validation = models.JSONField(default=dict, blank=True, help_text="What the checks found at upload.")
    uploaded_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    status_reason = models.CharField(max_length=1000, blank=True, help_text="Why it was rejected or yanked.")
    status_changed_at = models.DateTimeField(null=True, blank=True)
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
    YANKED = "yanked", "Its version was withdrawn"


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


class PluginReview(models.Model):
    """One tenant's rating of a plugin it installed (one per tenant and plugin). Staff may hide a
    review; hidden ones do not count in the plugin's average."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="plugin_reviews")
    plugin = models.ForeignKey(Plugin, on_delete=models.CASCADE, related_name="reviews")
    author = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    version = models.CharField(max_length=64, help_text="The version the tenant ran when it wrote the review.")
    rating = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    text = models.TextField(blank=True, max_length=4000)
    is_hidden = models.BooleanField(default=False, help_text="Hidden by staff (abuse, spam, off-topic).")
    created_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "plugin"], name="plugin_review_one_per_tenant"),
            models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="plugin_review_rating_1_to_5"),
        ]
        indexes = [models.Index(fields=["plugin", "-created_at", "-id"], name="plugin_review_by_plugin")]

    def __str__(self) -> str:
        return f"{self.plugin_id} by {self.account_id}: {self.rating}"
