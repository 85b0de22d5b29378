"""Tenants (`Account`) and their plans' rate limits, people (`User`), integration credentials
(`ApiKey`) and their daily usage, sign-in tokens and the append-only `AuditLog`."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractBaseUser, PermissionsMixin
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac

from core.models import TimeStampedModel
from core.timezones import validate_time_zone


class Role(models.TextChoices):
    """Roles in ascending power; `Role.rank` compares them."""

    VIEWER = "VIEWER", "Viewer"
    USER = "USER", "User"
    CLIENT_ADMIN = "CLIENT_ADMIN", "Client admin"
    SUPER_ADMIN = "SUPER_ADMIN", "Super admin"

    @classmethod
    def rank(cls, role: str) -> int:
        return [member.value for member in cls].index(role)


class Plan(models.TextChoices):
    FREE = "free", "Free"
    STARTER = "starter", "Starter"
    PRO = "pro", "Pro"
    ENTERPRISE = "enterprise", "Enterprise"


class Account(TimeStampedModel):
    """A tenant: every row a business owns points here."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=64, unique=True)
    plan = models.CharField(max_length=20, choices=Plan.choices, default=Plan.FREE)
    is_active = models.BooleanField(default=True)
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        default="",
        validators=[validate_time_zone],
        help_text="IANA name, such as Europe/Lisbon, that its people see times in unless they chose their own; "
        "empty: UTC.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def shown_time_zone(self) -> str:
        """The zone its people see times in unless they chose their own (the site's, UTC, if none)."""
        return self.time_zone or settings.TIME_ZONE


def _rate_limit_field(window: str, who: str, default_variable: str) -> models.PositiveIntegerField[Any, Any]:
    return models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=f"Requests {window} {who}; empty: the installation's default ({default_variable}).",
    )


class PlanRateLimit(TimeStampedModel):
    """The API rate limits of one plan, set by platform staff; an empty field keeps the default.

    Caller limits apply to each API key and each person of a tenant on the plan; tenant limits to
    all of them together. Read by `accounts.throttling`, which keeps them for up to 30 seconds per
    process.
    """

    plan = models.CharField(max_length=20, choices=Plan.choices, unique=True)
    caller_per_second = _rate_limit_field("a second", "per API key or person", "THROTTLE_BURST")
    caller_per_minute = _rate_limit_field("a minute", "per API key or person", "THROTTLE_SUSTAINED")
    caller_per_hour = _rate_limit_field("an hour", "per API key or person", "THROTTLE_HOURLY")
    tenant_per_second = _rate_limit_field("a second", "per tenant, all callers together", "THROTTLE_TENANT_BURST")
    tenant_per_minute = _rate_limit_field("a minute", "per tenant, all callers together", "THROTTLE_TENANT_SUSTAINED")
    tenant_per_hour = _rate_limit_field("an hour", "per tenant, all callers together", "THROTTLE_TENANT_HOURLY")

    class Meta:
        ordering = ["plan"]

    def __str__(self) -> str:
        return f"Rate limits of the {self.get_plan_display()} plan"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **fields: Any) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        fields.setdefault("role", Role.USER)
        return self._create(email, password, **fields)

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> User:
        """Platform staff: SUPER_ADMIN, no tenant, allowed into Django admin."""
        fields.update(role=Role.SUPER_ADMIN, account=None, is_staff=True, is_superuser=True)
        return self._create(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. Signs in with email; belongs to one tenant unless platform staff (SUPER_ADMIN)."""

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, null=True, blank=True, related_name="users")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.USER)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="May sign in to Django admin.")
    date_joined = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        default="",
        validators=[validate_time_zone],
        help_text="IANA name the person sees times in; empty: their workspace's.",
    )
    access_generation = models.PositiveIntegerField(
        default=0,
        editable=False,
        help_text="Raised each time every sign-in of the person is ended; older sessions and tokens are void.",
    )

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["email"]
        constraints = [
            models.CheckConstraint(
                name="user_account_unless_super_admin",
                condition=Q(role="SUPER_ADMIN") | Q(account__isnull=False),
            ),
        ]
        indexes = [models.Index(fields=["account", "role"], name="user_account_role_idx")]

    def __str__(self) -> str:
        return self.email

    @property
    def is_super_admin(self) -> bool:
        return self.role == Role.SUPER_ADMIN

    @property
    def is_platform_staff(self) -> bool:
        """SUPER_ADMIN of no tenant: may act in any tenant they choose."""
        return self.is_active and self.role == Role.SUPER_ADMIN and self.account_id is None

    def time_zone_in(self, account: Account | None) -> str:
        """The zone this person sees times in, in `account`: their own, else the workspace's."""
        return self.time_zone or (account.shown_time_zone if account is not None else settings.TIME_ZONE)

    # A web session is only valid while the hash it stored still matches: Django ends it when the
    # password changes, and `access_generation` makes every other ending (deactivation, a role change,
    # an admin's "sign out everywhere") do the same. Generation 0 keeps Django's own hash.

    def get_session_auth_hash(self) -> str:
        return self._session_hash(secret=None)

    def get_session_auth_fallback_hash(self) -> Any:
        for fallback_secret in settings.SECRET_KEY_FALLBACKS:
            yield self._session_hash(secret=fallback_secret)

    def _session_hash(self, *, secret: str | bytes | None) -> str:
        if not self.access_generation:
            return super()._get_session_auth_hash(secret=secret)  # type: ignore[misc]
        key_salt = "accounts.models.User.get_session_auth_hash"
        value = f"{self.password}:{self.access_generation}"
        return salted_hmac(key_salt, value, secret=secret, algorithm="sha256").hexdigest()


class ApiKeyScope(models.TextChoices):
    READ = "read", "Read"
    WRITE = "write", "Write"
    ADMIN = "admin", "Admin"


class ApiKey(TimeStampedModel):
    """An integration credential. Only a SHA-256 hash of the secret is stored.

    The full key (`sk_live_<prefix>_<secret>`) is shown once. Rotation keeps the prefix and replaces
    the secret; the previous secret's hash stays valid until `previous_valid_until` (grace period).
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    previous_secret_hash = models.CharField(max_length=64, blank=True)
    previous_valid_until = models.DateTimeField(null=True, blank=True)
    scopes = models.JSONField(default=list)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["account", "-created_at"], name="apikey_account_created_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"


class ApiKeyUsageDay(models.Model):
    """How many requests one API key made on one day (UTC), and how many of them failed.

    One row per key and day, counted by `accounts.services.api_key_usage`: with Redis by the periodic
    flush of its counters, without Redis with one upsert per request. A client error is any 4xx
    answer (401 and 403 included, once the key itself was accepted), a server error any 5xx.
    """

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="usage_days")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    requests = models.PositiveIntegerField(default=0)
    client_errors = models.PositiveIntegerField(default=0, help_text="Answers with a 4xx status.")
    server_errors = models.PositiveIntegerField(default=0, help_text="Answers with a 5xx status.")

    class Meta:
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["api_key", "day"], name="apikey_usage_one_row_per_day")]
        # The developer page sums a tenant's keys over the last days.
        indexes = [models.Index(fields=["account", "day"], name="apikey_usage_account_day_idx")]

    def __str__(self) -> str:
        return f"{self.api_key_id} on {self.day}: {self.requests} requests"


class ApiKeyUsageFlush(models.Model):
    """A batch of usage counters moved from Redis into `ApiKeyUsageDay`, written in the same
    transaction as its counts: a retried flush that finds its batch here adds nothing again.

    `accounts.services.api_key_usage.api_key_usage_flush` writes one a flush and purges those older
    than a day (a batch is retried within a flush interval, never a day later).
    """

    batch_id = models.CharField(max_length=32, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"usage batch {self.batch_id}"


class IssuedRefreshToken(models.Model):
    """One refresh token we issued, by jti (never the token itself).

    Tokens of one sign-in share a `family`; presenting a token that was already rotated revokes the
    whole family, so a stolen refresh token stops working for the thief and the victim alike.
    """

    jti = models.CharField(max_length=64, unique=True)
    family = models.UUIDField(db_index=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    rotated_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"refresh token {self.jti}"


class MagicLinkToken(models.Model):
    """A single-use sign-in link; only the SHA-256 of its token is kept."""

    token_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"magic link for {self.user_id}"


class AuditLogQuerySet(models.QuerySet["AuditLog"]):
    def update(self, **kwargs: Any) -> int:
        raise TypeError("Audit log rows are append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("Audit log rows are append-only.")


class AuditLog(models.Model):
    """Append-only record of who did what. Written in the same transaction as the change."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(Account, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    actor_user = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    actor_api_key = models.ForeignKey(ApiKey, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    actor_label = models.CharField(max_length=255, blank=True, help_text="Email or key prefix, kept if deleted.")
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = AuditLogQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["account", "-created_at"], name="audit_account_created_idx"),
            models.Index(fields=["account", "action", "-created_at"], name="audit_account_action_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_label or 'system'}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise TypeError("Audit log rows are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("Audit log rows are append-only.")
