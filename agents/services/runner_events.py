"""Applying the SkyBot runner's events: executions, workflow status changes and hand-overs.

The webhook view (`agents.webhooks`) authenticates the request and checks its envelope; this module
applies the event once per event `id` (`RunnerEvent`), so a redelivery changes nothing. The contract
is documented in docs/skybot-webhooks.md.
"""

from __future__ import annotations

from typing import Any

import structlog
from django.db import IntegrityError, transaction
from rest_framework import serializers, status

from accounts.services.audit import audit_log_record
from agents.hooks import AgentLetGo, AgentReplied
from agents.models import Agent, AgentExecution, AgentStatus, ExecutionStatus, RunnerEvent
from agents.services.executions import ExecutionReport, execution_record
from agents.services.lifecycle import agent_transition, can_transition
from core.exceptions import ApplicationError
from core.hooks import announce
from inbox.models import Conversation, Message

logger = structlog.get_logger(__name__)


EXECUTION_STATUSES = {
    "execution.started": ExecutionStatus.RUNNING,
    "execution.succeeded": ExecutionStatus.SUCCEEDED,
    "execution.failed": ExecutionStatus.FAILED,
}
WORKFLOW_STATUS_CHANGED = "workflow.status_changed"
CONVERSATION_HANDOFF = "conversation.handoff"
# Handoff reasons (the runner may send its own, free text, with `conversation.handoff`).
REASON_EXECUTION_FAILED = "agent_execution_failed"
REASON_AGENT_HANDOFF = "agent_handoff"


class EventRejected(ApplicationError):
    """The event is well-formed but cannot be applied (e.g. it names another tenant's agent)."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    code = "event_rejected"


class EnvelopeSerializer(serializers.Serializer[Any]):
    id = serializers.CharField(max_length=128)
    type = serializers.CharField(max_length=64)
    created_at = serializers.DateTimeField(required=False, allow_null=True)
    # `data` (an object) is checked by the view: a field of that name would hide `Serializer.data`.


class AgentRefSerializer(serializers.Serializer[Any]):
    agent_id = serializers.IntegerField(min_value=1)
    workflow_id = serializers.CharField(max_length=128)


class ReplySerializer(serializers.Serializer[Any]):
    text = serializers.CharField(max_length=4096, trim_whitespace=False)


class ExecutionDataSerializer(AgentRefSerializer):
    execution_id = serializers.CharField(max_length=128)
    started_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    finished_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    duration_ms = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=0, max_value=2_147_483_647
    )
    input_summary = serializers.CharField(required=False, allow_blank=True, allow_null=True, default="")
    output_summary = serializers.CharField(required=False, allow_blank=True, allow_null=True, default="")
    error = serializers.CharField(required=False, allow_blank=True, allow_null=True, default="")
    conversation_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    message_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    reply = ReplySerializer(required=False, allow_null=True, default=None)


class WorkflowStatusDataSerializer(AgentRefSerializer):
    status = serializers.ChoiceField(choices=["active", "inactive", "failed"])
    error = serializers.CharField(required=False, allow_blank=True, allow_null=True, default="")


class HandoffDataSerializer(AgentRefSerializer):
    conversation_id = serializers.IntegerField()
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


def _validated(serializer_class: type[serializers.Serializer[Any]], data: dict[str, Any]) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        raise ApplicationError("The event data is invalid.", code="invalid_event", details=serializer.errors)
    return dict(serializer.validated_data)


def _agent_for(data: dict[str, Any]) -> Agent:
    """The agent the event names, which must be the one running that workflow."""
    agent = (
        Agent.objects.select_related("account")
        .filter(pk=data["agent_id"], skybot_workflow_id=data["workflow_id"])
        .first()
    )
    if agent is None:
        raise EventRejected(
            "No agent with this id runs this workflow.",
            code="unknown_agent",
            details={"agent_id": data["agent_id"], "workflow_id": data["workflow_id"]},
        )
    return agent


def _tenant_conversation(agent: Agent, conversation_id: int | None) -> Conversation | None:
    """The conversation when it is the agent's tenant's; another tenant's id is ignored."""
    if conversation_id is None:
        return None
    conversation = Conversation.objects.filter(pk=conversation_id, account_id=agent.account_id).first()
    if conversation is None:
        logger.warning("skybot_event_foreign_conversation", agent=agent.pk, conversation=conversation_id)
    return conversation


def _tenant_message(agent: Agent, message_id: int | None) -> Message | None:
    if message_id is None:
        return None
    message = Message.objects.filter(pk=message_id, account_id=agent.account_id).first()
    if message is None:
        logger.warning("skybot_event_foreign_message", agent=agent.pk, message=message_id)
    return message


def _apply_execution(event_type: str, raw: dict[str, Any]) -> None:
    data = _validated(ExecutionDataSerializer, raw)
    agent = _agent_for(data)
    message = _tenant_message(agent, data["message_id"])
    conversation = _tenant_conversation(agent, data["conversation_id"])
    if conversation is None and message is not None and data["conversation_id"] is None:
        conversation = message.conversation
    execution = execution_record(
        agent=agent,
        report=ExecutionReport(
            external_id=data["execution_id"],
            status=EXECUTION_STATUSES[event_type],
            started_at=data["started_at"],
            finished_at=data["finished_at"],
            duration_ms=data["duration_ms"],
            input_summary=data["input_summary"] or "",
            output_summary=data["output_summary"] or "",
            error=data["error"] or "",
            conversation=conversation,
            message=message,
        ),
    )
    reply = data["reply"]
    if reply and reply.get("text"):
        announce(AgentReplied(execution=execution, agent=agent, conversation=conversation, text=reply["text"]))
    if event_type == "execution.failed":
        _handoff_after_failure(agent, execution, conversation)


def _handoff_after_failure(agent: Agent, execution: AgentExecution, conversation: Conversation | None) -> None:
    """A customer waiting on an agent whose run failed goes to the team instead of waiting on."""
    if conversation is None:
        return
    waiting = Conversation.objects.filter(
        pk=conversation.pk, agent_id=agent.pk, awaiting_agent_since__isnull=False
    ).exists()
    if waiting:
        logger.info("skybot_execution_failed_handoff", agent=agent.pk, execution=execution.pk)
        _handoff(conversation, reason=REASON_EXECUTION_FAILED)


def _handoff(conversation: Conversation, *, reason: str) -> None:
    """Give the conversation back to the team (the `handoff` app does, in this transaction)."""
    announce(AgentLetGo(conversation=conversation, reason=reason))


def _apply_workflow_status(raw: dict[str, Any]) -> None:
    data = _validated(WorkflowStatusDataSerializer, raw)
    agent = _agent_for(data)
    agent_status_from_runner(agent=agent, status=data["status"], error=data["error"] or "")


def agent_status_from_runner(*, agent: Agent, status: str, error: str) -> None:
    """Apply the workflow status the runner reports through the agent state machine.

    A report the state machine does not allow (the agent was deleted, or is failed and not yet
    redeployed), one that changes nothing, or one arriving while the agent is being deployed is
    recorded and otherwise ignored.
    """
    agent = Agent.objects.select_for_update().get(pk=agent.pk)
    previous = agent.status
    # While a deployment runs, its job decides the outcome; a report about the workflow being
    # replaced must not race it.
    if previous == AgentStatus.DEPLOYING or not can_transition(previous, status, by_runner=True):
        logger.info("skybot_workflow_status_ignored", agent=agent.pk, current=previous, reported=status)
        return
    changes: dict[str, Any] = {}
    if status == AgentStatus.FAILED:
        changes["last_error"] = (error or "The runner reported the workflow failed.")[:2000]
    elif status == AgentStatus.ACTIVE:
        changes["last_error"] = ""
    if agent_transition(agent=agent, target=status, by_runner=True, **changes):
        audit_log_record(
            action="agent.runner_status",
            actor=None,
            account=agent.account,
            target=agent,
            metadata={"from": previous, "to": status, "error": changes.get("last_error", "")},
        )


def _apply_handoff(raw: dict[str, Any]) -> None:
    data = _validated(HandoffDataSerializer, raw)
    agent = _agent_for(data)
    conversation = _tenant_conversation(agent, data["conversation_id"])
    if conversation is None:
        raise EventRejected(
            "No conversation with this id in the agent's tenant.",
            code="unknown_conversation",
            details={"conversation_id": data["conversation_id"]},
        )
    if conversation.agent_id != agent.pk:
        logger.info("skybot_handoff_ignored", conversation=conversation.pk, reason="held_by_another", agent=agent.pk)
        return
    _handoff(conversation, reason=data["reason"] or REASON_AGENT_HANDOFF)


@transaction.atomic
def runner_event_apply(*, event_id: str, event_type: str, data: dict[str, Any]) -> str:
    """Apply one runner event exactly once; answers "processed", "duplicate" or "ignored".

    The `RunnerEvent` row is written first, in the same transaction as the event's effects: a
    concurrent redelivery waits on its unique key and then sees a duplicate; a refused event rolls
    back with its effects, so it can be sent again once fixed.
    """
    try:
        with transaction.atomic():
            RunnerEvent.objects.create(event_id=event_id, type=event_type)
    except IntegrityError:
        return "duplicate"
    if event_type in EXECUTION_STATUSES:
        _apply_execution(event_type, data)
    elif event_type == WORKFLOW_STATUS_CHANGED:
        _apply_workflow_status(data)
    elif event_type == CONVERSATION_HANDOFF:
        _apply_handoff(data)
    else:
        logger.info("skybot_event_type_unknown", event_type=event_type, event_id=event_id)
        return "ignored"
    return "processed"
