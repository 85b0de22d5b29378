"""Celery tasks of the inbox: thin wrappers that load by id and call a service."""

from __future__ import annotations

import time
from typing import Any

import structlog
from celery import shared_task
from django.conf import settings

from core.flags import flag_clear, flag_set_if_absent
from core.tasks import backoff, retry_task
from inbox.models import Message

logger = structlog.get_logger(__name__)

DRAIN_SCHEDULED_FLAG = "inbox:drain-scheduled"
# A drain task processes at most this many batches, then hands over to a fresh task.
DRAIN_BATCHES_PER_TASK = 20
# A web process asks for a drain at most this often (a Redis round trip per notification costs
# more than the rest of the acknowledgement), and a drain keeps looking for new deliveries for
# DRAIN_LINGER_SECONDS before it lets go. Because the linger is longer than the interval, a
# delivery stored without asking is always seen by the drain that is still lingering.
SCHEDULE_INTERVAL_SECONDS = 0.2
DRAIN_LINGER_SECONDS = 1.0
_last_schedule_attempt = -1e9


def schedule_drain() -> None:
    """Make sure a drain task is on its way; at most one is scheduled at a time (SET NX)."""
    global _last_schedule_attempt
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        now = time.monotonic()
        if now - _last_schedule_attempt < SCHEDULE_INTERVAL_SECONDS:
            return
        _last_schedule_attempt = now
    if flag_set_if_absent(DRAIN_SCHEDULED_FLAG, ttl_seconds=30):
        process_inbound_events.delay()


@shared_task(acks_late=True)
def process_inbound_events() -> None:
    """Drain stored webhook deliveries in batches until none has come for a moment."""
    from inbox.services.ingest import inbound_events_drain

    if inbound_events_drain(max_batches=DRAIN_BATCHES_PER_TASK).events and inbound_events_drain(max_batches=1).events:
        process_inbound_events.delay()  # more keeps coming: continue in a fresh task
        return
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        idle_until = time.monotonic() + DRAIN_LINGER_SECONDS
        while time.monotonic() < idle_until:
            time.sleep(0.1)
            if inbound_events_drain(max_batches=DRAIN_BATCHES_PER_TASK).events:
                idle_until = time.monotonic() + DRAIN_LINGER_SECONDS
    flag_clear(DRAIN_SCHEDULED_FLAG)
    # A delivery stored while the flag was still set did not schedule a drain: look once more.
    if inbound_events_drain(max_batches=DRAIN_BATCHES_PER_TASK).events:
        schedule_drain()


@shared_task
def redrive_pending_events() -> None:
    """Beat: drain deferred deliveries, and any a lost enqueue or a crashed worker left behind."""
    from inbox.services.ingest import pending_deliveries_exist

    if pending_deliveries_exist():
        process_inbound_events.delay()


def _final(task: Any) -> bool:
    return bool(task.request.retries >= task.max_retries)


@shared_task(bind=True, acks_late=True, max_retries=6)
def send_message(self: Any, message_id: int) -> None:
    """Deliver a queued reply; retried with backoff on 5xx, 408, 429 and timeouts, never on other 4xx."""
    from inbox.services.messages import message_deliver
    from inbox.whatsapp import GraphApiError

    message = Message.objects.select_related("channel", "conversation__contact").filter(pk=message_id).first()
    if message is None:
        return
    try:
        message_deliver(message=message, final_attempt=_final(self))
    except GraphApiError as exc:
        retry_task(self, exc=exc, countdown=backoff(self.request.retries, cap=300))


@shared_task(bind=True, acks_late=True, max_retries=6)
def route_inbound_message(self: Any, message_id: int) -> None:
    """Forward an inbound message to the n8n router; every attempt is recorded."""
    from inbox.services.routing import RouterUnavailable, message_route

    message = (
        Message.objects.select_related("conversation__contact", "channel", "account").filter(pk=message_id).first()
    )
    if message is None:
        return
    try:
        message_route(message=message, attempt=self.request.retries + 1, final_attempt=_final(self))
    except RouterUnavailable as exc:
        retry_task(self, exc=exc, countdown=backoff(self.request.retries))


@shared_task(bind=True, acks_late=True, max_retries=5)
def download_media(self: Any, message_id: int) -> None:
    """Fetch an inbound message's media from the Graph API into file storage."""
    from inbox.services.media import media_download
    from inbox.whatsapp import GraphApiError

    message = Message.objects.select_related("channel").filter(pk=message_id).first()
    if message is None:
        return
    try:
        media_download(message=message, final_attempt=_final(self))
    except GraphApiError as exc:
        retry_task(self, exc=exc, countdown=backoff(self.request.retries, cap=300))
