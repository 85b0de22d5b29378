"""Celery tasks of the integrations app: thin wrappers that load by id and call a service."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from accounts.selectors import account_admin_emails
from integrations.models import IdempotencyKey, WebhookEndpoint, WebhookEvent


@shared_task(acks_late=True)
def deliver_event(delivery_id: int) -> None:
    """Make the next attempt of one delivery (no-op when it is not due or another worker has it)."""
    from integrations.services.delivery import delivery_attempt

    delivery_attempt(delivery_id=delivery_id)


@shared_task
def redrive_due_deliveries() -> None:
    """Beat: retries whose time has come, and deliveries a lost enqueue or a crashed worker left."""
    from integrations.services.delivery import deliveries_due, deliveries_enqueue

    deliveries_enqueue(deliveries_due())


@shared_task
def purge_integration_records() -> None:
    """Beat: forget expired idempotency keys and webhook events (with their deliveries) past retention."""
    now = timezone.now()
    IdempotencyKey.objects.filter(expires_at__lte=now).delete()
    WebhookEvent.objects.filter(created_at__lt=now - settings.WEBHOOK_EVENT_RETENTION).delete()


@shared_task
def notify_endpoint_disabled(endpoint_id: int) -> None:
    """Email the tenant's CLIENT_ADMINs that an endpoint was turned off, and why."""
    endpoint = WebhookEndpoint.objects.select_related("account").filter(pk=endpoint_id).first()
    if endpoint is None or endpoint.is_active:
        return
    recipients = account_admin_emails(account_id=endpoint.account_id)
    if not recipients:
        return
    why = endpoint.get_disabled_reason_display().lower()
    send_mail(
        subject=f"Webhook endpoint turned off: {endpoint.url}",
        message=(
            f"SkyBot Inbox stopped sending events of {endpoint.account.name} to\n\n    {endpoint.url}\n\n"
            f"Reason: {why} ({endpoint.consecutive_failures} failed attempts in a row).\n\n"
            "Events that happen while it is off are not sent. Once the receiver works again, turn the "
            f"endpoint back on (PATCH /api/v1/webhooks/{endpoint.pk} with is_active: true) and redeliver "
            "the failed deliveries you need from its delivery log.\n"
        ),
        from_email=None,
        recipient_list=recipients,
    )
