"""A screenshot of every main page at desk (1280 px) and phone (390 px) widths, kept for reviewers as
artifacts/screenshots/<width>/<page>.png; each page must fit its width and log no console error."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.browser.conftest import SCREENSHOTS, sign_in
from tests.platform import Platform

ADMIN = "admin@demo.skybot.local"
WIDTHS = (1280, 390)

# (file name, address or how to get there); a callable finds its address on the page it is given.
SIGNED_IN_PAGES: list[tuple[str, Any]] = [
    ("inbox", "/inbox/"),
    ("conversation", lambda page: _first_link(page, "/inbox/", "#conversation-list a[href^='/inbox/']")),
    ("leads", "/leads/"),
    ("lead", lambda page: _first_link(page, "/leads/", "table a[href^='/leads/']")),
    ("contacts", "/contacts/"),
    ("contact", lambda page: _first_link(page, "/contacts/", "table a[href^='/contacts/']")),
    ("agents", "/agents/"),
    ("agent", lambda page: _first_link(page, "/agents/", "table a:text-is('Support desk')")),
    ("marketplace", "/marketplace/"),
    ("marketplace-installed", "/marketplace/installed/"),
    ("settings-overview", "/settings/"),
    ("settings-users", "/settings/users/"),
    ("settings-api-keys", "/settings/api-keys/"),
    ("settings-whatsapp", "/settings/whatsapp/"),
    ("settings-audit", "/settings/audit/"),
    ("settings-billing", "/settings/billing/"),
    ("developers", "/developers/"),
    ("developers-webhooks", "/developers/webhooks/"),
    ("profile", "/accounts/profile/"),
]
SIGNED_OUT_PAGES = [
    ("sign-in", "/accounts/login/"),
    ("password-reset", "/accounts/password/reset/"),
    ("magic-link", "/accounts/magic-link/"),
]


def _first_link(page: Any, listing: str, selector: str) -> str:
    page.goto(listing)
    return str(page.locator(selector).first.get_attribute("href"))


@pytest.fixture(params=WIDTHS, ids=lambda width: f"{width}px")
def sized_page(request: pytest.FixtureRequest, chromium: Any, platform: Platform) -> Iterator[Any]:
    width = request.param
    phone = width < 500
    context = chromium.new_context(
        base_url=platform.url,
        viewport={"width": width, "height": 844 if phone else 800},
        is_mobile=phone,
        has_touch=phone,
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield Screen(page, errors)
    context.close()


@dataclass
class Screen:
    page: Any
    console_errors: list[str]


def _shoot(screen: Screen, name: str, address: Any) -> str:
    """Open the page, check that it fits and logged no error; save it. Returns what went wrong, if anything."""
    page = screen.page
    width = page.viewport_size["width"]
    url = address(page) if callable(address) else address
    screen.console_errors.clear()
    response = page.goto(url)
    page.wait_for_load_state("load")
    problems = []
    if response is None or response.status >= 400:
        problems.append(f"{name}: {url} answered {response.status if response else 'nothing'}")
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    if scroll_width > width:
        problems.append(f"{name}: {scroll_width}px wide at {width}px")
    if screen.console_errors:
        problems.append(f"{name}: console errors {screen.console_errors}")
    folder = SCREENSHOTS / str(width)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    return "; ".join(problems)


def test_every_main_page_fits_its_width_without_console_errors(sized_page):
    # given a signed-out visitor, then an admin
    problems = [_shoot(sized_page, name, url) for name, url in SIGNED_OUT_PAGES]
    sign_in(sized_page.page, ADMIN)

    # when each main page is opened
    problems += [_shoot(sized_page, name, url) for name, url in SIGNED_IN_PAGES]

    # then each fits, logged nothing wrong, and is saved for reviewers
    assert [problem for problem in problems if problem] == []
    width = sized_page.page.viewport_size["width"]
    saved = {path.stem for path in (SCREENSHOTS / str(width)).glob("*.png")}
    assert {name for name, _ in SIGNED_IN_PAGES + SIGNED_OUT_PAGES} <= saved
