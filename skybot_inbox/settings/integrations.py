"""Integrations: what tenant-chosen URLs may reach (core.outbound) and outgoing webhooks."""

from __future__ import annotations

from skybot_inbox.settings import env as config

OUTBOUND_ALLOW_LOOPBACK = config.OUTBOUND_ALLOW_LOOPBACK
OUTBOUND_ALLOWED_NETWORKS = config.OUTBOUND_ALLOWED_NETWORKS
OUTBOUND_REQUIRE_HTTPS = config.OUTBOUND_REQUIRE_HTTPS
