"""Celery: Redis broker in production; tasks run eagerly in-process in the embedded default."""

from __future__ import annotations

from skybot_inbox.settings import env as config

CELERY_BROKER_URL = config.CELERY_BROKER_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = config.CELERY_TASK_ALWAYS_EAGER
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 4
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TIMEZONE = "UTC"
API_KEY_USAGE_FLUSH_SECONDS = config.API_KEY_USAGE_FLUSH_SECONDS
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "inbox-redrive-pending-deliveries": {"task": "inbox.tasks.redrive_pending_events", "schedule": 30.0},
    # No customer waits on a broken bot: hand conversations to the team when the agent is silent.
    "agents-handoff-stale-conversations": {"task": "agents.jobs.handoff.handoff_stale_conversations", "schedule": 30.0},
    # Webhook retries whose time has come (and deliveries whose enqueue was lost).
    "integrations-redrive-due-deliveries": {"task": "integrations.tasks.redrive_due_deliveries", "schedule": 15.0},
    "integrations-purge-records": {"task": "integrations.tasks.purge_integration_records", "schedule": 3600.0},
    # API-key usage counted in Redis, written to the database; a tick not run by the next is dropped.
    "accounts-flush-api-key-usage": {
        "task": "accounts.tasks.flush_api_key_usage",
        "schedule": float(API_KEY_USAGE_FLUSH_SECONDS),
        "options": {"expires": float(API_KEY_USAGE_FLUSH_SECONDS)},
    },
}
