"""Test settings: the same stack as the mode under test (embedded, or PostgreSQL + Redis when
DATABASE_URL/REDIS_URL are set), with fast hashing and per-worker isolation for parallel runs."""

from __future__ import annotations

import os

from skybot_inbox.settings.base import *  # noqa: F403
from skybot_inbox.settings.base import CACHES, CHANNEL_LAYERS, DATABASES, REST_FRAMEWORK
from skybot_inbox.settings.channels import redis_host
from skybot_inbox.settings.env import REDIS_URL

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
SECURE_SSL_REDIRECT = False

# Connection pools outlive a test database's creation; tests open plain connections.
DATABASES["default"].get("OPTIONS", {}).pop("pool", None)
DATABASES["default"]["CONN_MAX_AGE"] = 0
DATABASES["default"].get("OPTIONS", {}).pop("init_command", None)
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Each test worker gets its own in-memory database; pytest-django recognises only the plain
    # engine as SQLite (with the metrics wrapper it would look for a per-worker file instead).
    DATABASES["default"]["ENGINE"] = "django.db.backends.sqlite3"

# pytest-xdist workers share one Redis: give each its own database number and key prefix so one
# worker's cache flush or throttle counters never touch another's.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
_worker_index = int(_worker.removeprefix("gw") or 0) + int(os.environ.get("TEST_REDIS_DB_OFFSET", "0"))
if REDIS_URL:
    from urllib.parse import urlsplit, urlunsplit

    _parts = urlsplit(REDIS_URL)
    TEST_REDIS_URL = urlunsplit(_parts._replace(path=f"/{1 + _worker_index % 15}"))
    CACHES["default"]["LOCATION"] = TEST_REDIS_URL
    CACHES["default"]["KEY_PREFIX"] = f"test-{_worker}"
    CHANNEL_LAYERS["default"]["CONFIG"] = {"hosts": [redis_host(TEST_REDIS_URL)], "prefix": f"test-{_worker}"}
else:
    CACHES["default"]["LOCATION"] = f"skybot-test-{_worker}"

# High default rates so ordinary tests never trip the throttle; throttle tests set their own.
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {
    "burst": "10000/s",
    "sustained": "100000/m",
    "hourly": "1000000/h",
    "tenant_burst": "10000/s",
    "tenant_sustained": "100000/m",
    "tenant_hourly": "1000000/h",
}
