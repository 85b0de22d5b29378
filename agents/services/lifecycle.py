"""The one state machine of an agent's status. Every service and job that changes an agent's status
goes through `transition_check` (or `agent_transition`), so an impossible change is refused the
same way everywhere: 409, code `invalid_transition`, nothing changed.

    draft ─────► deploying ─────► active ◄────► inactive
                   ▲    │           │  ▲           │
                   │    ▼           │  │           │
                   └── failed ◄─────┘  └ deploying ┘   (redeploy from active, inactive or failed)

    any status but deleted ─────► deleted   (final)
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from agents.models import Agent, AgentStatus
from core.exceptions import Conflict
from core.realtime import publish

S = AgentStatus

TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.DEPLOYING, S.DELETED}),
    # A deployment ends active, or inactive when the agent was inactive before (redeploy of a
    # paused agent), or failed.
    S.DEPLOYING: frozenset({S.ACTIVE, S.INACTIVE, S.FAILED, S.DELETED}),
    # Redeploy (new config or by hand), pause, or the runner reporting the workflow broken.
    S.ACTIVE: frozenset({S.INACTIVE, S.DEPLOYING, S.FAILED, S.DELETED}),
    S.INACTIVE: frozenset({S.ACTIVE, S.DEPLOYING, S.DELETED}),
    S.FAILED: frozenset({S.DEPLOYING, S.DELETED}),
    S.DELETED: frozenset(),
}

# Outcomes only the runner decides (through the deploy job or its webhooks): nobody can ask to
# activate a deploying agent or to fail an active one.
RUNNER_ONLY: frozenset[tuple[str, str]] = frozenset(
    {(S.DEPLOYING, S.ACTIVE), (S.DEPLOYING, S.INACTIVE), (S.DEPLOYING, S.FAILED), (S.ACTIVE, S.FAILED)}
)

FEED = "agents"


def can_transition(current: str, target: str, *, by_runner: bool = False) -> bool:
    if not by_runner and (current, target) in RUNNER_ONLY:
        return False
    return target in TRANSITIONS.get(current, frozenset())


def transition_check(*, current: str, target: str, by_runner: bool = False) -> None:
    """Raise `Conflict` (409, `invalid_transition`) unless an agent may go from `current` to `target`;
    `by_runner` for outcomes reported by the runner (deploy job, webhooks)."""
    if not can_transition(current, target, by_runner=by_runner):
        raise Conflict(
            f"An agent cannot go from {current} to {target}.",
            code="invalid_transition",
            details={"from": current, "to": target},
        )


def agent_event_data(agent: Agent) -> dict[str, Any]:
    """The `agent.status` event body on the "agents" feed."""
    return {
        "id": agent.pk,
        "name": agent.name,
        "status": agent.status,
        "last_error": agent.last_error,
        "skybot_workflow_id": agent.skybot_workflow_id,
        "deployed_at": agent.deployed_at.isoformat() if agent.deployed_at else None,
    }


def agent_status_publish(agent: Agent) -> None:
    """Tell the tenant's agents feed about the agent's status, once the transaction commits."""
    publish(account_id=agent.account_id, feed=FEED, event="agent.status", data=agent_event_data(agent))


def agent_transition(*, agent: Agent, target: str, by_runner: bool = False, **changes: Any) -> bool:
    """Move `agent` to `target` (with other field `changes`) if it is still in the status it was
    loaded with; publish `agent.status` after commit.

    The update is conditional on the status in the database, so a concurrent change (another
    worker, a duplicated job) is never overwritten: answers False and changes nothing then.
    Raises `Conflict` for a transition the state machine does not allow.
    """
    current = agent.status
    transition_check(current=current, target=target, by_runner=by_runner)
    now = timezone.now()
    updated = Agent.objects.filter(pk=agent.pk, status=current).update(status=target, updated_at=now, **changes)
    if not updated:
        return False
    agent.status = target
    agent.updated_at = now
    for name, value in changes.items():
        setattr(agent, name, value)
    agent_status_publish(agent)
    return True
