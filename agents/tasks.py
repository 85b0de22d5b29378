"""Celery tasks of the agents app, one module per concern under `agents/jobs/` (autodiscovery
looks for `tasks` modules, so they are collected here)."""

from agents.jobs.deploy import *  # noqa: F403
from agents.jobs.reports import *  # noqa: F403
