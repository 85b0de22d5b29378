"""The Celery application: `celery -A skybot_inbox worker` / `celery -A skybot_inbox beat`."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "skybot_inbox.settings.base")

app = Celery("skybot_inbox")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
