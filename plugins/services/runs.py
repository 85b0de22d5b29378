"""Plugin agents at work: a customer message in, the plugin's answer out.

`plugin_agent_answer` runs in a worker (the `handoff` app's routing task calls it through the
runtime the plugins app registers with `agents`). The plugin's `execute` runs in the sandbox; its
answer is checked (`output_problems`: shape, limits, and every action's permission) before anything
is done with it. Then, in one transaction: the execution row (status, duration, input, output, log
lines), the reply through the inbox's send path, and the actions, applied by the platform under the
plugin's name. A run that fails, times out or answers something refused is a failed execution and
the conversation goes to the team; an installation that fails `PLUGINS_FAILURE_LIMIT` runs in a row
is switched off and its admins are told.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from skybot_plugin_sdk.outputs import output_problems
from skybot_plugin_sdk.types import AgentOutput

from accounts.principals import Principal
from accounts.services.audit import audit_log_record
from agents.models import Agent, AgentExecution, ExecutionStatus
from agents.services.executions import ExecutionReport, execution_record
from core.exceptions import ApplicationError
from core.transactions import after_commit
from handoff.services import (
    REASON_AGENT_UNAVAILABLE,
    conversation_handoff,
    execution_reply_post,
    handoff_from_agent,
)
from inbox.models import Contact, Conversation, Lead, Message
from inbox.services.conversations import conversation_update
from inbox.services.crm import contact_update, lead_create, lead_update
from plugins.models import DisabledReason, PluginInstallation, PluginVersion
from plugins.sandbox import SandboxError
from plugins.services.capabilities import Capabilities, contact_data, message_data
from plugins.services.installations import context_payload
from plugins.services.sandbox import PluginUnavailable, plugin_code_run

logger = structlog.get_logger(__name__)

RECENT_MESSAGES = 20
REASON_PLUGIN_HANDOFF = "agent_handoff"
SUMMARY_LIMIT = 2000
LOG_LIMIT = 20_000


class RunFailed(Exception):
    def __init__(self, code: str, message: str, logs: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.logs = code, message, logs or []


# --- input ----------------------------------------------------------------------------------------


def agent_input(message: Message, permissions: list[str]) -> dict[str, Any]:
    """The `AgentInput` a plugin gets for `message`: only what its permissions allow."""
    conversation = message.conversation
    metadata: dict[str, Any] = {
        "conversation_id": conversation.pk,
        "channel": {"id": message.channel_id, "type": "whatsapp"},
    }
    if "contacts:read" in permissions:
        metadata["contact"] = contact_data(conversation.contact)
    if "conversations:read" in permissions:
        earlier = (
            Message.objects.filter(conversation=conversation, created_at__lte=message.created_at)
            .exclude(pk=message.pk)
            .order_by("-created_at", "-id")[:RECENT_MESSAGES]
        )
        metadata["recent_messages"] = [message_data(m) for m in reversed(list(earlier))]
    return {"message": message.text or message.media.get("caption", ""), "metadata": metadata}


def _log_text(logs: list[dict[str, Any]]) -> str:
    lines = [f"{str(line.get('level', 'info')).upper()} {line.get('message', '')}" for line in logs]
    return "\n".join(lines)[:LOG_LIMIT]


# --- running --------------------------------------------------------------------------------------


def _execute(installation: PluginInstallation, payload: dict[str, Any]) -> tuple[AgentOutput, Any]:
    """Run `execute` and check its answer; raises `RunFailed`."""
    version = PluginVersion.objects.get(pk=installation.version_id)
    try:
        run = plugin_code_run(
            plugin=installation.plugin,
            version=version,
            op="execute",
            payload=payload,
            capabilities=Capabilities(installation),
        )
    except SandboxError as exc:
        raise RunFailed(exc.code, exc.message, list(getattr(exc, "logs", []) or [])) from None
    except PluginUnavailable as exc:
        raise RunFailed(exc.code, exc.message) from None
    problems = output_problems(run.value, permissions=list(installation.granted_permissions))
    if problems:
        raise RunFailed("output_refused", "The answer was refused: " + "; ".join(problems), run.logs)
    return AgentOutput.from_dict(run.value), run


def plugin_agent_answer(*, message: Message, agent: Agent) -> AgentExecution | None:
    """Answer `message` with the plugin behind `agent` (which holds its conversation)."""
    conversation = message.conversation
    installation = (
        PluginInstallation.objects.select_related("plugin", "account").filter(template_id=agent.template_id).first()
    )
    if installation is None or not installation.is_active or not installation.plugin.is_enabled:
        logger.info("plugin_agent_unavailable", agent=agent.pk, message=message.pk)
        handoff_from_agent(conversation_id=conversation.pk, agent_id=agent.pk, reason=REASON_AGENT_UNAVAILABLE)
        return None
    started_at = timezone.now()
    payload = {
        "input": agent_input(message, installation.granted_permissions),
        "context": context_payload(installation),
    }
    report_base: dict[str, Any] = {
        "external_id": f"plugin-{uuid.uuid4()}",
        "started_at": started_at,
        "input_summary": payload["input"]["message"][:SUMMARY_LIMIT],
        "conversation": conversation,
        "message": message,
    }
    try:
        output, run = _execute(installation, payload)
    except RunFailed as failure:
        _failed(installation, agent, report_base, failure)
        handoff_from_agent(conversation_id=conversation.pk, agent_id=agent.pk, reason=REASON_AGENT_UNAVAILABLE)
        return None

    with transaction.atomic():
        execution = execution_record(
            agent=agent,
            report=ExecutionReport(
                **report_base,
                status=ExecutionStatus.SUCCEEDED,
                finished_at=timezone.now(),
                duration_ms=int(run.duration_ms),
                output_summary=json.dumps(output.to_dict(), ensure_ascii=False)[:SUMMARY_LIMIT],
                log=_log_text(run.logs),
            ),
        )
        if installation.consecutive_failures:
            PluginInstallation.objects.filter(pk=installation.pk).update(consecutive_failures=0)
        if output.response:
            execution_reply_post(execution=execution, agent=agent, conversation=conversation, text=output.response)
        notes = actions_apply(installation=installation, conversation=conversation, output=output)
        if notes:
            execution.error = "\n".join(filter(None, [execution.error, *notes]))[:SUMMARY_LIMIT]
            execution.save(update_fields=["error"])
    return execution


def _failed(installation: PluginInstallation, agent: Agent, report_base: dict[str, Any], failure: RunFailed) -> None:
    with transaction.atomic():
        execution_record(
            agent=agent,
            report=ExecutionReport(
                **report_base,
                status=ExecutionStatus.FAILED,
                finished_at=timezone.now(),
                error=f"{failure.code}: {failure.message}"[:SUMMARY_LIMIT],
                log=_log_text(failure.logs),
            ),
        )
        installation_failure_count(installation=installation)
    logger.info("plugin_run_failed", installation=installation.pk, agent=agent.pk, code=failure.code)


@transaction.atomic
def installation_failure_count(*, installation: PluginInstallation) -> bool:
    """Count one more failed run in a row; switch the installation off at the limit. Answers
    whether it was switched off now."""
    PluginInstallation.objects.filter(pk=installation.pk).update(consecutive_failures=F("consecutive_failures") + 1)
    switched = PluginInstallation.objects.filter(
        pk=installation.pk, is_active=True, consecutive_failures__gte=settings.PLUGINS_FAILURE_LIMIT
    ).update(is_active=False, disabled_reason=DisabledReason.FAILING, disabled_at=timezone.now())
    if not switched:
        return False
    installation.refresh_from_db()
    audit_log_record(
        action="plugin.disabled",
        actor=None,
        account=installation.account,
        target=installation,
        metadata={
            "plugin": installation.plugin.plugin_id,
            "reason": DisabledReason.FAILING,
            "failures": installation.consecutive_failures,
        },
    )
    from plugins.tasks import notify_installation_disabled

    after_commit(notify_installation_disabled.delay, installation.pk)
    logger.warning("plugin_installation_disabled", installation=installation.pk, plugin=installation.plugin.plugin_id)
    return True


# --- actions --------------------------------------------------------------------------------------


def actions_apply(*, installation: PluginInstallation, conversation: Conversation, output: AgentOutput) -> list[str]:
    """Apply the (already checked) actions as the plugin; answers a note for each one refused.
    A hand-over comes last, after the reply and the other actions."""
    actor = Principal.for_plugin(installation.account, installation.plugin.plugin_id)
    notes: list[str] = []
    handoff_reason: str | None = None
    for action in output.actions:
        if action.type == "handoff":
            handoff_reason = str(action.params.get("reason") or "")
            continue
        try:
            with transaction.atomic():
                _apply(action.type, dict(action.params), conversation=conversation, actor=actor)
        except ApplicationError as exc:
            notes.append(f"{action.type} not applied: {exc.message}")
    if handoff_reason is not None:
        held = Conversation.objects.filter(pk=conversation.pk, agent__template_id=installation.template_id).first()
        if held is not None:
            conversation_handoff(conversation=held, actor=actor, reason=handoff_reason[:200] or REASON_PLUGIN_HANDOFF)
    return notes


def _apply(kind: str, params: dict[str, Any], *, conversation: Conversation, actor: Principal) -> None:
    contact: Contact = conversation.contact
    if kind == "update_contact":
        fields = dict(params.get("fields") or {})
        if "attributes" in fields:
            fields["attributes"] = {**contact.attributes, **fields["attributes"]}
        contact_update(contact=contact, actor=actor, **fields)
    elif kind == "update_lead":
        fields = dict(params.get("fields") or {})
        lead_id = params.get("lead_id")
        if lead_id is not None:
            lead = Lead.objects.filter(account_id=conversation.account_id, pk=lead_id).first()
            if lead is None:
                raise ApplicationError("No such lead.")
        else:
            lead = Lead.objects.filter(account_id=conversation.account_id, contact=contact).order_by("id").first()
        if "metadata" in fields and lead is not None:
            fields["metadata"] = {**lead.metadata, **fields["metadata"]}
        if lead is None:
            new_lead: dict[str, Any] = {
                "name": contact.name or contact.wa_id,
                "phone": contact.phone or contact.wa_id,
                "contact": contact,
                "source": f"plugin:{actor.name}"[:50],
                **fields,
            }
            lead_create(account=conversation.account, actor=actor, **new_lead)
        else:
            lead_update(lead=lead, actor=actor, **fields)
    elif kind == "add_label":
        labels = [label.name for label in conversation.labels.all()]
        conversation_update(conversation=conversation, actor=actor, labels=[*labels, str(params["label"])])
    elif kind == "set_priority":
        conversation_update(conversation=conversation, actor=actor, priority=str(params["priority"]))


# --- trying a plugin by hand -----------------------------------------------------------------------


def plugin_try(*, installation: PluginInstallation, message: str, metadata: dict[str, Any]) -> dict[str, Any]:
    """Run `execute` once with the given input, applying nothing: answers the output (with the
    problems the platform would refuse it for) or the error, and the log lines."""
    payload = {
        "input": {"message": message, "metadata": {"conversation_id": None, **metadata}},
        "context": context_payload(installation),
    }
    try:
        output, run = _execute(installation, payload)
    except RunFailed as failure:
        return {
            "ok": False,
            "error": {"code": failure.code, "message": failure.message},
            "logs": failure.logs,
        }
    return {"ok": True, "output": output.to_dict(), "logs": run.logs, "duration_ms": round(run.duration_ms, 1)}
