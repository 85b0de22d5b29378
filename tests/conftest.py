"""Fixtures of the end-to-end tests: the running platform (see tests/platform.py)."""

from tests.platform import graph_api, platform  # noqa: F401
