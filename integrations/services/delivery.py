"""Sending deliveries: one signed POST per attempt through the SSRF-guarded client, every attempt
recorded, retried on a schedule, and endpoints that keep failing turned off.

Retry schedule (after the first attempt, each delay ±20% jitter): 5 s, 5 min, 30 min, 2 h, 5 h,
10 h, 10 h — eight attempts over about 28 hours. A `Retry-After` header (seconds or a date) pushes
the next attempt later, up to 24 hours. Only failures that may pass are retried: no answer
(timeouts, refused connections, names that do not resolve), 5xx, 408 and 429. Any other status
(3xx included: redirects are not followed) fails the delivery at once. 410 Gone means the receiver
wants nothing more: a Zapier subscription is removed, an API endpoint is turned off.

An attempt that got no answer records only why, as a category a tenant may read ("Destination not
allowed", "Host not found", "Timed out", "Connection refused"...: `outbound.failure_reason`); the
detail, such as the address a name resolved to, goes to the server log only.

An endpoint whose attempts have all failed for `DISABLE_AFTER` and at least `DISABLE_AFTER_FAILURES`
times in a row is turned off, and the tenant's CLIENT_ADMINs get an email.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx
import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.services.audit import audit_log_record
from core import outbound
from core.retry import status_is_retryable
from core.transactions import after_commit
from integrations.models import (
    DeliveryStatus,
    DisabledReason,
    EndpointSource,
    EventDelivery,
    EventDeliveryAttempt,
    WebhookEndpoint,
)
from integrations.signing import signature_header

logger = structlog.get_logger(__name__)

RETRY_DELAYS = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
JITTER = 0.2
MAX_RETRY_AFTER = timedelta(hours=24)
# While an attempt runs its delivery is leased: nobody else picks it up until this passes.
ATTEMPT_LEASE = timedelta(minutes=5)
DISABLE_AFTER = timedelta(hours=24)
DISABLE_AFTER_FAILURES = 10
RESPONSE_EXCERPT_CHARS = 2000
TIMEOUT = httpx.Timeout(15.0, connect=5.0)
# Below this a retry is scheduled as a delayed task; later ones are found by the beat task.
SHORT_RETRY = timedelta(minutes=1)


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    duration_ms: int
    excerpt: str
    error: str
    retryable: bool
    retry_after: timedelta | None = None
    # For the server log only: the full error, which may name internal hosts and addresses.
    detail: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def retry_delay(attempt: int, *, retry_after: timedelta | None = None) -> timedelta:
    """How long to wait after failed attempt number `attempt` (1-based)."""
    base = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS)) - 1]
    delay = base * random.uniform(1 - JITTER, 1 + JITTER)  # noqa: S311 - jitter, not security
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
    return delay


def _retry_after(value: str | None) -> timedelta | None:
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return timedelta(seconds=min(int(value), int(MAX_RETRY_AFTER.total_seconds())))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        return None
    return max(timedelta(0), when - timezone.now())


def _claim(delivery_id: int) -> EventDelivery | None:
    """Take a due delivery for one attempt (leased, so a second worker skips it)."""
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            EventDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint", "event")
            .filter(pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            .first()
        )
        if delivery is None:
            return None
        if not delivery.endpoint.is_active:
            # Turned off meanwhile (by a person, or for failing): this delivery stops here.
            delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
            delivery.save(update_fields=["status", "next_attempt_at", "updated_at"])
            return None
        delivery.attempt_count += 1
        delivery.next_attempt_at = now + ATTEMPT_LEASE
        delivery.save(update_fields=["attempt_count", "next_attempt_at", "updated_at"])
    return delivery


def _secrets(endpoint: WebhookEndpoint) -> list[str]:
    in_use = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and expires > timezone.now():
        in_use.append(endpoint.previous_secret)
    return in_use


def _send(delivery: EventDelivery) -> Outcome:
    endpoint, event = delivery.endpoint, delivery.event
    body = event.payload.encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "webhook-id": event.message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(
            _secrets(endpoint), message_id=event.message_id, timestamp=timestamp, body=body
        ),
    }
    started = time.perf_counter()
    try:
        response = outbound.post(endpoint.url, content=body, headers=headers, timeout=TIMEOUT)
    except outbound.BlockedDestination as exc:
        return Outcome(None, _ms(started), "", outbound.failure_reason(exc), retryable=False, detail=exc.detail)
    except httpx.HTTPError as exc:
        detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return Outcome(None, _ms(started), "", outbound.failure_reason(exc), retryable=True, detail=detail)
    code = response.status_code
    ok = 200 <= code < 300
    return Outcome(
        status_code=code,
        duration_ms=response.duration_ms,
        excerpt=response.text_excerpt(RESPONSE_EXCERPT_CHARS),
        error="" if ok else f"HTTP {code}",
        retryable=status_is_retryable(code),
        retry_after=_retry_after(response.headers.get("Retry-After")),
    )


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def delivery_attempt(*, delivery_id: int) -> EventDelivery | None:
    """Make the next attempt of a due delivery and record it; None when it was not due (already
    delivered, or another worker has it)."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return None
    endpoint = delivery.endpoint
    outcome = _send(delivery)
    _record(delivery, outcome)
    logger.info(
        "webhook_delivery_attempt",
        delivery_id=delivery.pk,
        endpoint_id=endpoint.pk,
        event_type=delivery.event.type,
        attempt=delivery.attempt_count,
        status_code=outcome.status_code,
        error=outcome.error,
        error_detail=outcome.detail,
        delivery_status=delivery.status,
    )
    return delivery


@transaction.atomic
def _record(delivery: EventDelivery, outcome: Outcome) -> None:
    if not EventDelivery.objects.select_for_update().filter(pk=delivery.pk).exists():
        return  # its endpoint was deleted while the request was on its way: nothing left to record
    now = timezone.now()
    EventDeliveryAttempt.objects.create(
        delivery=delivery,
        number=delivery.attempt_count,
        status_code=outcome.status_code,
        duration_ms=outcome.duration_ms,
        response_excerpt=outcome.excerpt,
        error=outcome.error,
    )
    endpoint = delivery.endpoint
    if outcome.succeeded:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.SUCCEEDED, None
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            consecutive_failures=0, failing_since=None, last_success_at=now
        )
    elif outcome.retryable and delivery.attempt_count < MAX_ATTEMPTS:
        delay = retry_delay(delivery.attempt_count, retry_after=outcome.retry_after)
        delivery.next_attempt_at = now + delay
        if delay <= SHORT_RETRY and not settings.CELERY_TASK_ALWAYS_EAGER:
            from integrations.tasks import deliver_event

            after_commit(deliver_event.apply_async, args=[delivery.pk], countdown=delay.total_seconds())
    else:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
    delivery.save(update_fields=["status", "next_attempt_at", "updated_at"])
    if outcome.status_code == 410:
        _gone(endpoint)
    elif not outcome.succeeded:
        _failed(endpoint, now)


def _failed(endpoint: WebhookEndpoint, now: datetime) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        consecutive_failures=F("consecutive_failures") + 1,
        failing_since=Coalesce(F("failing_since"), Value(now)),
        last_failure_at=now,
    )
    turned_off = WebhookEndpoint.objects.filter(
        pk=endpoint.pk,
        is_active=True,
        consecutive_failures__gte=DISABLE_AFTER_FAILURES,
        failing_since__lte=now - DISABLE_AFTER,
    ).update(is_active=False, disabled_reason=DisabledReason.FAILING, disabled_at=now, updated_at=now)
    if turned_off:
        endpoint.refresh_from_db()
        _turned_off(endpoint)


def _gone(endpoint: WebhookEndpoint) -> None:
    """The receiver answered 410 Gone: it wants no more events."""
    if endpoint.source == EndpointSource.ZAPIER:
        # A Zapier hook answers 410 once its Zap is off or deleted: the subscription is over.
        audit_log_record(
            action="webhook.deleted",
            actor=None,
            account=endpoint.account,
            target=endpoint,
            metadata={"url": endpoint.url, "source": endpoint.source, "reason": "gone"},
        )
        endpoint.delete()
        return
    now = timezone.now()
    turned_off = WebhookEndpoint.objects.filter(pk=endpoint.pk, is_active=True).update(
        is_active=False, disabled_reason=DisabledReason.GONE, disabled_at=now, updated_at=now
    )
    if turned_off:
        endpoint.refresh_from_db()
        _turned_off(endpoint)


def _turned_off(endpoint: WebhookEndpoint) -> None:
    audit_log_record(
        action="webhook.disabled",
        actor=None,
        account=endpoint.account,
        target=endpoint,
        metadata={
            "url": endpoint.url,
            "reason": endpoint.disabled_reason,
            "consecutive_failures": endpoint.consecutive_failures,
        },
    )
    logger.warning(
        "webhook_endpoint_disabled",
        endpoint_id=endpoint.pk,
        account_id=endpoint.account_id,
        reason=endpoint.disabled_reason,
    )
    from integrations.tasks import notify_endpoint_disabled

    after_commit(notify_endpoint_disabled.delay, endpoint.pk)


def deliveries_enqueue(delivery_ids: list[int]) -> None:
    """Hand deliveries to the workers (call it after commit)."""
    from integrations.tasks import deliver_event

    for delivery_id in delivery_ids:
        deliver_event.delay(delivery_id)


def deliveries_due(*, limit: int = 500) -> list[int]:
    """Ids of pending deliveries whose next attempt is due (oldest first)."""
    return list(
        EventDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
