"""Celery tasks: customer messages to the agent holding their conversation, and handing stale
conversations to the team.

Their names are the ones they had under `agents.jobs.handoff`, so tasks already queued and the beat
schedule (skybot_inbox/settings/celery.py) still find them."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from agents.skybot import SkyBotUnavailable
from core.tasks import backoff, retry_task
from inbox.models import Message

__all__ = ["handoff_stale_conversations", "route_to_agent"]


def _final(task: Any) -> bool:
    return bool(task.request.retries >= task.max_retries)


@shared_task(name="agents.jobs.handoff.route_to_agent", bind=True, acks_late=True, max_retries=5)
def route_to_agent(self: Any, message_id: int) -> None:
    """Send an inbound message to its conversation's agent; retried with backoff while the runner
    is unavailable, handed to the team when it refuses or never comes back."""
    from handoff.services import message_route_to_agent

    message = (
        Message.objects.select_related("conversation__agent__template", "conversation__contact", "channel")
        .filter(pk=message_id)
        .first()
    )
    if message is None:
        return
    try:
        message_route_to_agent(message=message, final_attempt=_final(self))
    except SkyBotUnavailable as exc:
        retry_task(self, exc=exc, countdown=backoff(self.request.retries, cap=60))


@shared_task(name="agents.jobs.handoff.handoff_stale_conversations")
def handoff_stale_conversations() -> int:
    """Beat: hand to the team conversations whose agent has not answered in time."""
    from handoff.services import conversations_handoff_stale

    return conversations_handoff_stale()
