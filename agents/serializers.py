"""The shape of an agent execution in the live feed (`execution.*` events), outgoing webhooks and Zapier."""

from __future__ import annotations

from rest_framework import serializers

from agents.models import AgentExecution


class ExecutionEventSerializer(serializers.ModelSerializer[AgentExecution]):
    agent = serializers.IntegerField(source="agent_id", read_only=True)
    conversation = serializers.IntegerField(source="conversation_id", read_only=True, allow_null=True)
    message = serializers.IntegerField(source="message_id", read_only=True, allow_null=True)

    class Meta:
        model = AgentExecution
        fields = [
            "id",
            "agent",
            "external_id",
            "status",
            "started_at",
            "finished_at",
            "duration_ms",
            "input_summary",
            "output_summary",
            "error",
            "conversation",
            "message",
        ]
