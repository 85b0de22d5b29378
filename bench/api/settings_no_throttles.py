"""The production settings with DRF's throttles switched off, for the "throttles off" line of
bench/api: the same stack as skybot_inbox.settings.base but no throttle class runs at all (a high
rate would still read and write the counters)."""

from __future__ import annotations

from skybot_inbox.settings.base import *  # noqa: F403
from skybot_inbox.settings.base import REST_FRAMEWORK

REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}
