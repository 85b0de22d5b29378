"""Tests of the integration packages (the Zapier app, the n8n node): their own test suites, run
against the live platform the browser tests start."""

from tests.browser.conftest import platform  # noqa: F401
