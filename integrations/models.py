"""Outgoing webhooks and the Zapier integration.

A tenant's `WebhookEndpoint` subscribes a URL to public event types (see `integrations.events`).
Each occurrence of an event is stored once as a `WebhookEvent` (the exact body sent), in the same
transaction as the change that caused it; each subscribed endpoint gets an `EventDelivery` for it,
and every HTTP attempt of that delivery is an `EventDeliveryAttempt`. Zapier's REST hook
subscriptions are endpoints too (`source=zapier`), delivered by the same machinery.

`IdempotencyKey` remembers the answer to an action sent with an `Idempotency-Key` header, so a
retried action creates nothing new.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from accounts.models import Account, ApiKey, User
from core.crypto import EncryptedTextField
from core.models import TimeStampedModel


class EndpointSource(models.TextChoices):
    API = "api", "API"
    WEB = "web", "Web UI"
    ZAPIER = "zapier", "Zapier"


class DisabledReason(models.TextChoices):
    MANUAL = "manual", "Turned off by a person"
    FAILING = "failing", "Deliveries kept failing"
    GONE = "gone", "The receiver answered 410 Gone"


class WebhookEndpoint(TimeStampedModel):
    """A URL of a tenant's that receives signed POSTs for the event types it subscribed to.

    The secret (`whsec_<base64>`) is encrypted at rest and shown once. After a rotation the previous
    secret keeps signing too (a second signature) until `previous_secret_expires_at`.
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="webhook_endpoints")
    source = models.CharField(max_length=16, choices=EndpointSource.choices, default=EndpointSource.API)
    url = models.URLField(max_length=1000)
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list, help_text="Public event types this endpoint receives.")
    is_active = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=16, choices=DisabledReason.choices, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    uuid = models.UUIDField(
        default=uuid.uuid4,
        unique=True,
        editable=False,
        help_text="The row identity its encrypted columns are bound to; never changes.",
    )
    secret = EncryptedTextField()
    previous_secret = EncryptedTextField(blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(
        default=0, help_text="Failed attempts since the last successful one."
    )
    failing_since = models.DateTimeField(null=True, blank=True, help_text="First failed attempt of the current run.")
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_by_api_key = models.ForeignKey(ApiKey, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["account", "-created_at", "-id"], name="webhook_account_created_idx"),
            # Every published event looks up the active endpoints of its tenant.
            models.Index(fields=["account"], condition=Q(is_active=True), name="webhook_account_active_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                name="webhook_disabled_has_reason",
                condition=Q(is_active=True) | ~Q(disabled_reason=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.url} ({self.account_id})"


class WebhookEvent(models.Model):
    """One occurrence of a public event in a tenant: the body every subscribed endpoint receives.

    `message_id` (`msg_<hex>`) is sent as `webhook-id`: the same on every attempt and every
    endpoint, so a receiver can use it to process an event once.
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    type = models.CharField(max_length=64)
    payload = models.TextField(help_text='The JSON body as sent: {"type", "timestamp", "data"}.')
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.type} {self.message_id}"

    @property
    def message_id(self) -> str:
        return f"msg_{self.uuid.hex}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class EventDelivery(models.Model):
    """One event on its way to one endpoint; retried with backoff until it succeeds or gives up."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempt_count = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="Pending: when the next attempt is due (or when a running one expires)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "event deliveries"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="delivery_unique_event_per_endpoint"),
        ]
        indexes = [
            models.Index(fields=["endpoint", "-created_at", "-id"], name="delivery_endpoint_created_idx"),
            # The beat task looks for pending deliveries whose next attempt is due.
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="delivery_due_idx"),
        ]

    def __str__(self) -> str:
        return f"delivery {self.pk} of event {self.event_id} to {self.endpoint_id} ({self.status})"


class EventDeliveryAttempt(models.Model):
    """One HTTP attempt of a delivery: what came back, how long it took, or what went wrong."""

    delivery = models.ForeignKey(EventDelivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveSmallIntegerField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.TextField(blank=True, help_text="The start of the response body.")
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["delivery", "number"]

    def __str__(self) -> str:
        return f"attempt {self.number} of delivery {self.delivery_id}"


class IdempotencyKey(models.Model):
    """The answer to an action sent with an `Idempotency-Key`, replayed for the same key and body."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    operation = models.CharField(max_length=64)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "key"], name="idempotency_unique_key_per_account")]

    def __str__(self) -> str:
        return f"{self.operation} {self.key}"
