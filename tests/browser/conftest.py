"""Browser tests: the real platform (tests/platform.py) driven through Debian's Chromium.

Tests sign in as the demo logins and act as a person would: they only see what the pages show.
Screenshots go to `artifacts/screenshots/` (ignored by git, kept by CI as an artifact path).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.platform import DEMO_PASSWORD, ROOT, Platform

SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("CI"):
        raise pytest.UsageError(f"{CHROMIUM} is missing: `make install` installs Debian's chromium package.")
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.skip(reason=f"{CHROMIUM} is missing (make install brings it)"))


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    # Playwright's sync API runs an event loop while it lives: keep it to the browser test modules.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def browser_context(chromium: Any, platform: Platform) -> Iterator[Any]:
    context = chromium.new_context(base_url=platform.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(browser_context: Any) -> Any:
    return browser_context.new_page()


@pytest.fixture
def phone_page(chromium: Any, platform: Platform) -> Iterator[Any]:
    """A phone-width screen (390 by 844, touch), for layouts that must work on a phone."""
    context = chromium.new_context(
        base_url=platform.url, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def sign_in(page: Any, email: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the sign-in page, as a person does, and wait for the inbox."""
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/inbox/**")


def screenshot(page: Any, name: str) -> Path:
    """Save the page (whole length) as artifacts/screenshots/<name>.png for reviewers."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
