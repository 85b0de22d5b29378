"""Integrations: what tenant-chosen URLs may reach (core.outbound) and outgoing webhooks."""

from __future__ import annotations

from datetime import timedelta

from skybot_inbox.settings import env as config

OUTBOUND_ALLOW_LOOPBACK = config.OUTBOUND_ALLOW_LOOPBACK
OUTBOUND_ALLOWED_NETWORKS = config.OUTBOUND_ALLOWED_NETWORKS
OUTBOUND_REQUIRE_HTTPS = config.OUTBOUND_REQUIRE_HTTPS

# Webhook events (with their deliveries and attempts) are kept this long for the delivery log.
WEBHOOK_EVENT_RETENTION = timedelta(days=30)
# A retried Zapier action with the same Idempotency-Key answers the first result for this long.
IDEMPOTENCY_KEY_TTL = timedelta(hours=24)
