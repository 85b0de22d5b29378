"""The inbox: WhatsApp channels, contacts, conversations, messages, leads, and the raw webhook
events they are built from. Every row carries its tenant (`account`)."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q

from accounts.models import Account, User
from core.crypto import EncryptedTextField
from core.hashing import keyed_digest
from core.models import TimeStampedModel

VERIFY_TOKEN_PURPOSE = "whatsapp.verify_token"


def verify_token_digest(token: str) -> str:
    """What `Channel.verify_token_digest` holds for this token: empty for no token."""
    return keyed_digest(token, purpose=VERIFY_TOKEN_PURPOSE) if token else ""


class SandboxFailure(models.TextChoices):
    """A failure a sandbox number's next reply meets, switched on from the customer simulator."""

    NONE = "", "None: replies are delivered"
    UNDELIVERABLE = "131026", "Undeliverable (error 131026)"
    SERVER_ERROR = "500", "Server error (HTTP 500)"


class Channel(TimeStampedModel):
    """A WhatsApp Cloud API phone number of a tenant, or a sandbox number that lives inside the
    platform (`is_sandbox`: no Meta account; see inbox/services/sandbox.py). Token and secrets are
    encrypted at rest."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="channels")
    name = models.CharField(max_length=100, blank=True)
    phone_number_id = models.CharField(max_length=32, unique=True)
    display_phone_number = models.CharField(max_length=32)
    business_account_id = models.CharField(max_length=32, blank=True)
    uuid = models.UUIDField(
        default=uuid.uuid4,
        unique=True,
        editable=False,
        help_text="The row identity its encrypted columns are bound to; never changes.",
    )
    access_token = EncryptedTextField()
    app_secret = EncryptedTextField(blank=True, help_text="Falls back to WHATSAPP_APP_SECRET when empty.")
    verify_token = EncryptedTextField(blank=True, help_text="Falls back to WHATSAPP_VERIFY_TOKEN when empty.")
    # Meta's subscription check finds the channel by this keyed digest instead of decrypting every
    # channel's token; `save()` keeps it in step with `verify_token`.
    verify_token_digest = models.CharField(max_length=64, blank=True, editable=False)
    is_active = models.BooleanField(default=True)
    default_agent = models.ForeignKey(
        "agents.Agent",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="New conversations on this number start with this AI agent.",
    )
    handoff_rule = models.CharField(
        max_length=16,
        choices=[("unassigned", "Leave unassigned"), ("round_robin", "Round robin among USER and admins")],
        default="unassigned",
        help_text="Who gets a conversation an AI agent hands to the team.",
    )
    is_sandbox = models.BooleanField(
        default=False,
        help_text="A number inside the platform: customers are simulated and replies never reach Meta.",
    )
    sandbox_failure = models.CharField(
        max_length=8,
        choices=SandboxFailure.choices,
        default=SandboxFailure.NONE,
        blank=True,
        help_text="Sandbox only: how the next reply fails (switched on from the customer simulator).",
    )
    # Sandbox only: the reply (a digest of recipient and body) the stand-in answers HTTP 500 to,
    # and how many more attempts at it fail, so it fails until the platform stops retrying it.
    sandbox_failing_send = models.CharField(max_length=64, blank=True, editable=False)
    sandbox_failing_attempts = models.PositiveSmallIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["display_phone_number"]
        indexes = [
            models.Index(fields=["account", "-created_at"], name="channel_account_created_idx"),
            models.Index(fields=["verify_token_digest"], name="channel_verify_digest_idx"),
        ]

    def __str__(self) -> str:
        return self.name or self.display_phone_number

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Derived data rather than a business rule: whoever sets the verify token (a service, a
        # factory, the admin), the digest the subscription check looks up must follow it.
        update_fields = kwargs.get("update_fields")
        if update_fields is None and "verify_token" not in self.get_deferred_fields():
            self.verify_token_digest = verify_token_digest(self.verify_token)
        elif update_fields is not None and "verify_token" in update_fields:
            self.verify_token_digest = verify_token_digest(self.verify_token)
            kwargs["update_fields"] = [*update_fields, "verify_token_digest"]
        super().save(*args, **kwargs)


class Contact(TimeStampedModel):
    """A customer, identified per tenant by WhatsApp id (their number)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="contacts")
    wa_id = models.CharField(max_length=32)
    phone = models.CharField(max_length=32, blank=True)
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    attributes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["account", "wa_id"], name="contact_unique_wa_id_per_account")]
        indexes = [models.Index(fields=["account", "-created_at"], name="contact_account_created_idx")]

    def __str__(self) -> str:
        return self.name or self.wa_id


class Label(TimeStampedModel):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="labels")
    name = models.CharField(max_length=50)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["account", "name"], name="label_unique_name_per_account")]

    def __str__(self) -> str:
        return self.name


class ConversationStatus(models.TextChoices):
    OPEN = "open", "Open"
    PENDING = "pending", "Pending"
    RESOLVED = "resolved", "Resolved"
    SNOOZED = "snoozed", "Snoozed"


class Priority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


class Conversation(TimeStampedModel):
    """The thread between one contact and one channel; a new inbound message reopens it."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="conversations")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="conversations")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="conversations")
    status = models.CharField(max_length=16, choices=ConversationStatus.choices, default=ConversationStatus.OPEN)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    priority = models.CharField(max_length=16, choices=Priority.choices, default=Priority.NORMAL)
    assignee = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    agent = models.ForeignKey(
        "agents.Agent",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="conversations",
        help_text="The AI agent holding the conversation (then it is pending for people).",
    )
    awaiting_agent_since = models.DateTimeField(
        null=True, blank=True, help_text="A customer message went to the agent, which has not answered yet."
    )
    labels = models.ManyToManyField(Label, blank=True, related_name="conversations")
    last_message_at = models.DateTimeField(null=True, blank=True)
    last_inbound_at = models.DateTimeField(null=True, blank=True, help_text="Opens the 24-hour reply window.")
    unread_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-last_message_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "contact"], name="conversation_unique_channel_contact"),
            models.CheckConstraint(
                name="conversation_snoozed_has_until",
                condition=~Q(status="snoozed") | Q(snoozed_until__isnull=False),
            ),
        ]
        indexes = [
            models.Index(fields=["account", "-last_message_at", "-id"], name="conv_account_activity_idx"),
            models.Index(fields=["account", "status", "-last_message_at"], name="conv_account_status_idx"),
            # The hand-off beat task looks for conversations an agent has left waiting too long.
            models.Index(
                fields=["awaiting_agent_since"],
                condition=Q(awaiting_agent_since__isnull=False),
                name="conv_awaiting_agent_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Conversation {self.pk} with {self.contact_id}"


class MessageDirection(models.TextChoices):
    INBOUND = "in", "Inbound"
    OUTBOUND = "out", "Outbound"


class MessageType(models.TextChoices):
    TEXT = "text", "Text"
    IMAGE = "image", "Image"
    AUDIO = "audio", "Audio"
    VIDEO = "video", "Video"
    DOCUMENT = "document", "Document"
    STICKER = "sticker", "Sticker"
    LOCATION = "location", "Location"
    CONTACTS = "contacts", "Contacts"
    INTERACTIVE = "interactive", "Interactive"
    BUTTON = "button", "Button"
    REACTION = "reaction", "Reaction"
    TEMPLATE = "template", "Template"
    UNSUPPORTED = "unsupported", "Unsupported"


MEDIA_TYPES = frozenset({"image", "audio", "video", "document", "sticker"})


class MessageStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    READ = "read", "Read"
    FAILED = "failed", "Failed"


class Message(TimeStampedModel):
    """One WhatsApp message, in or out. Unique per channel by Meta's id (wamid)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    direction = models.CharField(max_length=3, choices=MessageDirection.choices)
    type = models.CharField(max_length=16, choices=MessageType.choices, default=MessageType.TEXT)
    text = models.TextField(blank=True)
    media = models.JSONField(default=dict, blank=True, help_text="Media id, mime type, caption, stored file.")
    payload = models.JSONField(default=dict, blank=True, help_text="The message as Meta sent it, or the template.")
    # NULL until Meta answers a send: NULLs never collide in the per-channel unique constraint.
    external_id = models.CharField(  # noqa: DJ001
        max_length=128, null=True, blank=True, help_text="Meta's message id (wamid)."
    )
    external_timestamp = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=MessageStatus.choices, default=MessageStatus.QUEUED)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True, help_text="Meta's error code and title when failed.")
    sender_user = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    sender_agent = models.ForeignKey("agents.Agent", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"],
                condition=Q(external_id__isnull=False),
                name="message_unique_external_id_per_channel",
            ),
        ]
        indexes = [
            models.Index(fields=["conversation", "-created_at", "-id"], name="message_conversation_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.type} {self.external_id or self.pk}"


class ConversationWords(models.Model):
    """The distinct words of a conversation's messages, for the inbox search (PostgreSQL only).

    A `tsvector` of lexemes without positions (the `simple` configuration, as the search), kept by a
    statement trigger on `inbox_message` (migration 0009), so every way of storing messages (the
    ingest, a reply, COPY) adds its words in the same statement. Past 128 KB of words a conversation
    stops collecting (`complete` false) and the search reads its messages instead. On SQLite the
    table stays empty and the search reads the messages. No database foreign keys (so the migration
    that adds the trigger locks nothing the ingest writes): Django deletes the row with its
    conversation.
    """

    conversation = models.OneToOneField(
        Conversation, on_delete=models.CASCADE, primary_key=True, related_name="+", db_constraint=False
    )
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    words = SearchVectorField()
    complete = models.BooleanField(default=True)

    class Meta:
        indexes = [
            # The few conversations the search must read message by message. (On PostgreSQL also
            # `conversation_words_idx`, GIN on (account_id, words): created by migration 0009 only.)
            models.Index(fields=["account"], condition=Q(complete=False), name="conversation_words_partial_idx"),
        ]

    def __str__(self) -> str:
        return f"words of conversation {self.conversation_id}"


class LeadStatus(models.TextChoices):
    NEW = "new", "New"
    QUALIFIED = "qualified", "Qualified"
    NURTURE = "nurture", "Nurture"
    WON = "won", "Won"
    LOST = "lost", "Lost"


class Lead(TimeStampedModel):
    """A sales lead, optionally linked to the contact it came from."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="leads")
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=32, blank=True)
    company = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=50, blank=True)
    status = models.CharField(max_length=16, choices=LeadStatus.choices, default=LeadStatus.NEW)
    score = models.PositiveSmallIntegerField(default=0)
    contact = models.ForeignKey(Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="leads")
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(name="lead_score_0_100", condition=Q(score__lte=100))]
        indexes = [
            models.Index(fields=["account", "-created_at", "-id"], name="lead_account_created_idx"),
            models.Index(fields=["account", "status", "-created_at"], name="lead_account_status_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class WebhookEventStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PROCESSED = "processed", "Processed"
    IGNORED = "ignored", "Ignored"
    FAILED = "failed", "Failed"


class InboundWebhookEvent(models.Model):
    """A verified webhook delivery, stored before we answer so nothing is lost; processed by a task."""

    provider = models.CharField(max_length=16, default="whatsapp")
    body = models.TextField()
    received_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=16, choices=WebhookEventStatus.choices, default=WebhookEventStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    retry_at = models.DateTimeField(null=True, blank=True, help_text="Deferred: not processed again before this.")
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["id"], condition=Q(status="pending"), name="inbound_event_pending_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} event {self.pk} ({self.status})"


class RouterConfig(TimeStampedModel):
    """A tenant's own n8n router, overriding N8N_MASTER_ROUTER_URL / _SECRET."""

    account = models.OneToOneField(Account, on_delete=models.CASCADE, related_name="router_config")
    url = models.URLField(max_length=500)
    uuid = models.UUIDField(
        default=uuid.uuid4,
        unique=True,
        editable=False,
        help_text="The row identity its encrypted columns are bound to; never changes.",
    )
    secret = EncryptedTextField(blank=True)
    is_active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"router for {self.account_id}"


class RouterDelivery(models.Model):
    """One attempt to forward an inbound message to the n8n router."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="router_deliveries")
    url = models.URLField(max_length=500)
    attempt = models.PositiveSmallIntegerField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    succeeded = models.BooleanField(default=False)
    duration_ms = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["message", "attempt"], name="router_delivery_message_idx")]

    def __str__(self) -> str:
        return f"delivery of {self.message_id} #{self.attempt}"
