"""Fixtures for handoff tests: those of the agents tests (the inbox's channel, Meta's samples and
signed webhook posting, an active agent on a stand-in SkyBot runner, a conversation it can hold)."""

from agents.tests.conftest import (  # noqa: F401
    _catalogue,
    _whatsapp_settings,
    agent,
    channel,
    conversation,
    post_webhook,
    runner,
    sample,
)
