"""Output shapes shared by the inbox API and its live events, so both speak the same fields."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from inbox.models import Contact, Conversation, Lead, Message


class ContactSummarySerializer(serializers.ModelSerializer[Contact]):
    class Meta:
        model = Contact
        fields = ["id", "wa_id", "name"]


class ConversationSerializer(serializers.ModelSerializer[Conversation]):
    contact = ContactSummarySerializer(read_only=True)
    assignee = serializers.IntegerField(source="assignee_id", read_only=True, allow_null=True)
    agent = serializers.IntegerField(
        source="agent_id", read_only=True, allow_null=True, help_text="The AI agent holding the conversation."
    )
    labels = serializers.SerializerMethodField()
    channel = serializers.IntegerField(source="channel_id", read_only=True)

    class Meta:
        model = Conversation
        fields = [
            "id",
            "status",
            "snoozed_until",
            "priority",
            "assignee",
            "agent",
            "labels",
            "channel",
            "contact",
            "last_message_at",
            "last_inbound_at",
            "unread_count",
            "created_at",
            "updated_at",
        ]

    def get_labels(self, conversation: Conversation) -> list[str]:
        names = getattr(conversation, "label_names", None)  # a list page's (inbox.selectors.label_names_attach)
        if names is not None:
            return list(names)
        return sorted(label.name for label in conversation.labels.all())


class MessageSerializer(serializers.ModelSerializer[Message]):
    conversation = serializers.IntegerField(source="conversation_id", read_only=True)
    sender_user = serializers.IntegerField(source="sender_user_id", read_only=True, allow_null=True)
    sender_agent = serializers.IntegerField(
        source="sender_agent_id", read_only=True, allow_null=True, help_text="The AI agent that sent it, if any."
    )

    class Meta:
        model = Message
        fields = [
            "id",
            "conversation",
            "direction",
            "type",
            "text",
            "media",
            "external_id",
            "status",
            "error",
            "sender_user",
            "sender_agent",
            "sent_at",
            "delivered_at",
            "read_at",
            "failed_at",
            "external_timestamp",
            "created_at",
        ]


# A lead as the REST API answers it and the live feed sends it (webhooks: `integrations.events`).
class LeadSerializer(serializers.ModelSerializer[Lead]):
    contact = serializers.IntegerField(source="contact_id", read_only=True, allow_null=True)

    class Meta:
        model = Lead
        ref_name = "Lead"
        fields = [
            "id",
            "name",
            "email",
            "phone",
            "company",
            "source",
            "status",
            "score",
            "contact",
            "metadata",
            "created_at",
            "updated_at",
        ]


def conversation_event_data(conversation: Conversation) -> dict[str, Any]:
    return dict(ConversationSerializer(conversation).data)


def message_event_data(message: Message) -> dict[str, Any]:
    return dict(MessageSerializer(message).data)


def lead_event_data(lead: Lead) -> dict[str, Any]:
    return dict(LeadSerializer(lead).data)
