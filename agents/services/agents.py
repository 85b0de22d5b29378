"""Agents of a tenant: create, update, deploy to the SkyBot runner, activate, deactivate, delete.

A plugin agent (its template's runtime is `plugin`) has no workflow: it is active from creation,
and activate, deactivate and delete change only its status (announcing `AgentStarted` /
`AgentStopped`, which the plugins app turns into the plugin's lifecycle hooks).

Deploying is a background job (`agents.tasks.deploy_agent`) enqueued after commit. Activate,
deactivate and delete talk to the runner synchronously, before the status changes, so the caller
learns at once when the runner refuses (502, code `skybot_rejected`) or cannot be reached or is not
configured (503, `skybot_unavailable` / `skybot_not_configured`); nothing changes then. Those calls
are made outside the database transaction, so no row lock is held while waiting on the network;
the status change that follows is conditional on the status not having moved meanwhile.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import Account
from accounts.principals import Principal
from accounts.services.audit import SYSTEM, RequestContext, audit_log_record
from agents.hooks import AgentStarted, AgentStopped
from agents.models import Agent, AgentRuntime, AgentStatus, AgentTemplate
from agents.services.configuration import config_validate
from agents.services.lifecycle import agent_status_publish, agent_transition, transition_check
from agents.skybot import SkyBotClient, SkyBotNotConfigured, SkyBotRejected, SkyBotUnavailable
from core.exceptions import ApplicationError, Conflict
from core.hooks import announce
from core.transactions import after_commit
from inbox.models import Channel

logger = structlog.get_logger(__name__)

S = AgentStatus
NOT_CONFIGURED_MESSAGE = "The SkyBot runner is not configured: set SKYBOT_API_URL and SKYBOT_API_KEY."


class RunnerRejected(ApplicationError):
    """The runner refused the call (4xx); its message is passed on."""

    status_code = 502
    code = "skybot_rejected"
    default_message = "The SkyBot runner refused the request."


class RunnerUnavailable(ApplicationError):
    status_code = 503
    code = "skybot_unavailable"
    default_message = "The SkyBot runner is not reachable right now; try again later."


def _template_get(key: str, account: Account) -> AgentTemplate:
    """The active template `key` of the catalogue or of the tenant (its own wins)."""
    template = (
        AgentTemplate.objects.filter(Q(account__isnull=True) | Q(account=account), key=key, is_active=True)
        .order_by(F("account").desc(nulls_last=True))
        .first()
    )
    if template is None:
        raise ApplicationError(
            "Unknown template.", code="validation_error", details={"template": [f"Unknown template: {key}."]}
        )
    return template


def _channels_of(account: Account, channel_ids: list[int]) -> list[Channel]:
    """The tenant's channels with these ids; 400 naming every id that is not one of them."""
    wanted = list(dict.fromkeys(channel_ids))
    channels = {channel.pk: channel for channel in Channel.objects.filter(account=account, pk__in=wanted)}
    unknown = [pk for pk in wanted if pk not in channels]
    if unknown:
        raise ApplicationError(
            "Unknown channel.",
            code="validation_error",
            details={"channels": [f"Unknown channel: {pk}." for pk in unknown]},
        )
    return [channels[pk] for pk in wanted]


# --- deployment -------------------------------------------------------------------------------


def _deploy_enqueue(agent: Agent, *, activate: bool) -> None:
    from agents.tasks import deploy_agent  # the job module imports this one

    after_commit(deploy_agent.delay, agent.pk, activate=activate)


def _deploy_start(agent: Agent, *, new_deployment: bool) -> None:
    """Move the agent to deploying and enqueue the job after commit.

    A new deployment (a redeploy) gets a new idempotency key: the runner answers a known key with
    the workflow it already made, which would carry the old definition. Retries and duplicates of
    one deployment's job share its key, so they never create a second workflow.
    """
    activate = agent.status != S.INACTIVE  # a paused agent stays paused after a redeploy
    changes: dict[str, Any] = {"last_error": ""}
    if new_deployment:
        changes["deploy_key"] = uuid.uuid4()
    if not agent_transition(agent=agent, target=S.DEPLOYING, **changes):
        _conflict_now(agent, S.DEPLOYING)
    _deploy_enqueue(agent, activate=activate)


def _conflict_now(agent: Agent, target: str) -> None:
    """The status moved under us: refuse with the transition from the status it has now."""
    current = Agent.objects.filter(pk=agent.pk).values_list("status", flat=True).first() or S.DELETED
    transition_check(current=current, target=target)
    raise Conflict("The agent changed meanwhile; try again.", code="invalid_transition")


def workflow_definition(agent: Agent) -> dict[str, Any]:
    """What is sent to the runner's POST /workflows (see docs/skybot-runner.md)."""
    return {
        "name": f"{agent.account.slug}/{agent.pk} {agent.name}",
        "template": agent.template.key,
        "category": agent.category,
        "workflow": agent.template.workflow,
        "config": agent.config,
        "webhook_url": f"{settings.SITE_URL}/webhooks/skybot",
        "reply_timeout_seconds": agent.reply_timeout_seconds,
        "metadata": {"agent_id": agent.pk, "account_id": agent.account_id, "account_slug": agent.account.slug},
    }


def _delete_quietly(workflow_id: str) -> None:
    """Remove a workflow nobody uses any more; a failure only leaves it idle on the runner."""
    try:
        with SkyBotClient() as client:
            client.delete_workflow(workflow_id)
    except (SkyBotRejected, SkyBotUnavailable, SkyBotNotConfigured) as exc:
        logger.warning("skybot_workflow_cleanup_failed", workflow_id=workflow_id, error=exc.message)


def _deploy_failed(agent: Agent, message: str) -> None:
    with transaction.atomic():
        agent_transition(agent=agent, target=S.FAILED, by_runner=True, last_error=message[:2000])
    logger.info("agent_deploy_failed", agent_id=agent.pk, error=message)


def agent_deployment_run(*, agent_id: int, activate: bool = True, final_attempt: bool = True) -> Agent | None:
    """Deploy an agent that is `deploying`: create its workflow (idempotency key = `deploy_key`),
    activate it unless `activate` is False, and record it; then remove the workflow it replaces.

    Raises `SkyBotUnavailable` when a retry may help and this is not the final attempt. A runner
    rejection (4xx), a missing configuration or the final failed attempt mark the agent failed with
    the reason in `last_error`. An agent that is no longer deploying (done by a duplicate of this
    job, or deleted) is left alone.
    """
    agent = Agent.objects.select_related("account", "template").filter(pk=agent_id).first()
    if agent is None or agent.status != S.DEPLOYING:
        logger.info("agent_deploy_skipped", agent_id=agent_id, status=agent.status if agent else None)
        return agent
    previous_workflow_id = agent.skybot_workflow_id
    created_id = ""
    try:
        with SkyBotClient() as client:
            workflow = client.deploy_agent(idempotency_key=str(agent.deploy_key), definition=workflow_definition(agent))
            created_id = workflow.id
            if activate:
                client.activate_workflow(created_id)
    except SkyBotNotConfigured:
        _deploy_failed(agent, NOT_CONFIGURED_MESSAGE)
        return agent
    except SkyBotRejected as exc:
        if created_id and created_id != previous_workflow_id:
            _delete_quietly(created_id)  # made, but could not be activated: nobody will use it
        _deploy_failed(agent, exc.message)
        return agent
    except SkyBotUnavailable as exc:
        if not final_attempt:
            raise
        _deploy_failed(agent, f"{exc.message} (gave up after retrying)")
        return agent

    with transaction.atomic():
        done = agent_transition(
            agent=agent,
            target=S.ACTIVE if activate else S.INACTIVE,
            by_runner=True,
            skybot_workflow_id=created_id,
            deployed_at=timezone.now(),
            last_error="",
        )
    if not done:
        now = Agent.objects.filter(pk=agent.pk).values("status", "skybot_workflow_id").first()
        if now is None or now["status"] == S.DELETED or now["skybot_workflow_id"] != created_id:
            _delete_quietly(created_id)  # the agent went away (or moved on) while we deployed
        return agent
    if previous_workflow_id and previous_workflow_id != created_id:
        _delete_quietly(previous_workflow_id)  # replaced by this deployment
    return agent


# --- runner calls made by the services ----------------------------------------------------------


@contextmanager
def _runner() -> Iterator[SkyBotClient]:
    """A runner client whose errors leave the API as 502/503 with the runner's message."""
    try:
        with SkyBotClient() as client:
            yield client
    except SkyBotNotConfigured:
        raise RunnerUnavailable(NOT_CONFIGURED_MESSAGE, code="skybot_not_configured") from None
    except SkyBotRejected as exc:
        raise RunnerRejected(
            f"The SkyBot runner refused the request: {exc.message}",
            details={"runner_status": exc.status, "runner_code": exc.code},
        ) from None
    except SkyBotUnavailable as exc:
        raise RunnerUnavailable(f"{RunnerUnavailable.default_message} ({exc.message})") from None


def _audit(action: str, agent: Agent, actor: Principal | None, context: RequestContext, **metadata: Any) -> None:
    audit_log_record(
        action=action,
        actor=actor,
        account=agent.account,
        target=agent,
        context=context,
        metadata={"name": agent.name, "status": agent.status, **metadata},
    )


# --- services -----------------------------------------------------------------------------------


def _is_plugin(agent: Agent) -> bool:
    return agent.template.runtime == AgentRuntime.PLUGIN


@transaction.atomic
def agent_create(
    *,
    account: Account,
    name: str,
    template: str,
    config: dict[str, Any],
    description: str = "",
    channels: list[int] | None = None,
    reply_timeout_seconds: int = 120,
    actor: Principal,
    context: RequestContext = SYSTEM,
) -> Agent:
    """A new agent from the template with key `template`; its deployment starts after commit."""
    agent_template = _template_get(template, account)
    config_validate(schema=agent_template.config_schema, config=config)
    channel_rows = _channels_of(account, channels or [])
    plugin = agent_template.runtime == AgentRuntime.PLUGIN
    agent = Agent.objects.create(
        account=account,
        name=name,
        description=description,
        category=agent_template.category,
        template=agent_template,
        config=config,
        reply_timeout_seconds=reply_timeout_seconds,
        created_by=actor.user,
        # Nothing to deploy: the platform runs a plugin agent itself, from the start.
        status=S.ACTIVE if plugin else S.DRAFT,
        deployed_at=timezone.now() if plugin else None,
    )
    if channel_rows:
        agent.channels.set(channel_rows)
    if plugin:
        agent_status_publish(agent)
        announce(AgentStarted(agent=agent))
    else:
        _deploy_start(agent, new_deployment=False)
    _audit("agent.created", agent, actor, context, template=agent_template.key, channels=[c.pk for c in channel_rows])
    return agent


@transaction.atomic
def agent_update(
    *,
    agent: Agent,
    actor: Principal,
    context: RequestContext = SYSTEM,
    name: str | None = None,
    description: str | None = None,
    config: dict[str, Any] | None = None,
    channels: list[int] | None = None,
    reply_timeout_seconds: int | None = None,
) -> Agent:
    """Change what was given. A new config is validated again; an agent already deployed (active,
    inactive or failed) is redeployed with it. A deploying agent's config cannot change (409)."""
    agent = Agent.objects.select_for_update().select_related("account", "template").get(pk=agent.pk)
    if agent.status == S.DELETED:
        transition_check(current=S.DELETED, target=S.DELETED)
    changed: list[str] = []
    for field, value in (
        ("name", name),
        ("description", description),
        ("reply_timeout_seconds", reply_timeout_seconds),
    ):
        if value is not None and getattr(agent, field) != value:
            setattr(agent, field, value)
            changed.append(field)
    redeploy = False
    if config is not None and config != agent.config:
        config_validate(schema=agent.template.config_schema, config=config)
        redeploy = agent.status != S.DRAFT and not _is_plugin(agent)
        if redeploy:
            transition_check(current=agent.status, target=S.DEPLOYING)
        agent.config = config
        changed.append("config")
    if channels is not None:
        channel_rows = _channels_of(agent.account, channels)
        if {c.pk for c in channel_rows} != set(agent.channels.values_list("pk", flat=True)):
            agent.channels.set(channel_rows)
            changed.append("channels")
    if not changed:
        return agent
    agent.save(update_fields=[f for f in changed if f != "channels"] + ["updated_at"])
    if redeploy:
        _deploy_start(agent, new_deployment=True)
    else:
        agent_status_publish(agent)
    _audit("agent.updated", agent, actor, context, fields=changed, redeployed=redeploy)
    return agent


@transaction.atomic
def agent_deploy(*, agent: Agent, actor: Principal, context: RequestContext = SYSTEM) -> Agent:
    """Deploy the agent (again) by hand: → deploying; the job runs after commit."""
    agent = Agent.objects.select_for_update().select_related("account", "template").get(pk=agent.pk)
    if _is_plugin(agent):
        raise Conflict("A plugin agent runs on the platform: there is nothing to deploy.", code="not_deployable")
    transition_check(current=agent.status, target=S.DEPLOYING)
    _deploy_start(agent, new_deployment=agent.status != S.DRAFT)
    _audit("agent.deployed", agent, actor, context)
    return agent


def _after_runner(agent: Agent, target: str, action: str, actor: Principal, context: RequestContext) -> Agent:
    with transaction.atomic():
        if target == S.DELETED:
            Channel.objects.filter(default_agent=agent).update(default_agent=None)
        if not agent_transition(agent=agent, target=target):
            _conflict_now(agent, target)
        _audit(action, agent, actor, context)
        if target == S.ACTIVE:
            announce(AgentStarted(agent=agent))
        if target in (S.INACTIVE, S.DELETED):
            # Nobody answers for a paused or deleted agent: its customers go to the team now.
            announce(AgentStopped(agent=agent, reason=f"agent_{target}"))
    return agent


def agent_activate(*, agent: Agent, actor: Principal, context: RequestContext = SYSTEM) -> Agent:
    """inactive → active: the runner activates the workflow first."""
    transition_check(current=agent.status, target=S.ACTIVE)
    if not _is_plugin(agent):
        with _runner() as client:
            client.activate_workflow(agent.skybot_workflow_id)
    return _after_runner(agent, S.ACTIVE, "agent.activated", actor, context)


def agent_deactivate(*, agent: Agent, actor: Principal, context: RequestContext = SYSTEM) -> Agent:
    """active → inactive: the runner deactivates the workflow first."""
    transition_check(current=agent.status, target=S.INACTIVE)
    if not _is_plugin(agent):
        with _runner() as client:
            client.deactivate_workflow(agent.skybot_workflow_id)
    return _after_runner(agent, S.INACTIVE, "agent.deactivated", actor, context)


def agent_delete(*, agent: Agent, actor: Principal, context: RequestContext = SYSTEM) -> Agent:
    """Deactivate and delete the agent's workflow on the runner, then mark the agent deleted (it
    leaves lists and answers 404 from then on). Channels stop starting conversations with it."""
    transition_check(current=agent.status, target=S.DELETED)
    if agent.skybot_workflow_id and not _is_plugin(agent):
        with _runner() as client:
            if agent.status != S.INACTIVE:
                # Refused means already inactive or gone; the delete below settles it either way.
                with contextlib.suppress(SkyBotRejected):
                    client.deactivate_workflow(agent.skybot_workflow_id)
            client.delete_workflow(agent.skybot_workflow_id)
    return _after_runner(agent, S.DELETED, "agent.deleted", actor, context)
