"""The page shell on first contact, in a real browser at desk (1280 px) and phone (390 px) widths: the
icon, the Live status only where it means something, a phone layout that keeps everything in reach,
sign-in pages that lead back to sign-in, and platform staff acting in a tenant."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import screenshot, sign_in
from tests.platform import DEMO_PASSWORD

ADMIN = "admin@demo.skybot.local"
STAFF = "staff@skybot.local"
PHONE_WIDTH = 390
DEMO_AGENT = "Support desk"  # agents/demo.py: active, a week of executions, so a chart


def page_width(page: Any) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def not_found_responses(page: Any) -> list[str]:
    """Collect the addresses that answer 404 while the page lives."""
    missing: list[str] = []
    page.on("response", lambda response: missing.append(response.url) if response.status == 404 else None)
    return missing


def test_the_live_status_shows_only_where_a_feed_runs_and_nothing_404s(page):
    # given an admin signing in, every response watched
    missing = not_found_responses(page)
    sign_in(page, ADMIN)

    # then the inbox, which follows the live feed, says it is live
    expect(page.locator("#live-status")).to_be_visible()
    expect(page.locator("#live-status")).to_have_attribute("data-state", "open")

    # and Settings, which follows none, shows no Live status at all
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Settings", exact=True)).to_be_visible()
    expect(page.locator("#live-status")).to_be_hidden()

    # and no first page asked for something missing: the icon is there, /favicon.ico too
    assert missing == []
    assert page.request.get("/favicon.ico").status == 200
    icon = page.locator('link[rel="icon"]').get_attribute("href")
    assert page.request.get(icon).headers["content-type"].startswith("image/svg+xml")


def test_on_a_phone_the_navigation_reaches_settings_and_says_who_is_signed_in(phone_page):
    # given an admin on a phone
    sign_in(phone_page, ADMIN)

    # then every navigation entry, Settings too, is on the screen, and so is who is signed in
    navigation = phone_page.get_by_role("navigation", name="Main")
    for entry in ("Inbox", "Agents", "Leads", "Marketplace", "Developers", "Settings"):
        link = navigation.get_by_role("link", name=entry, exact=True)
        expect(link).to_be_in_viewport(ratio=1)
    who = phone_page.get_by_role("link", name=re.compile(re.escape(ADMIN)))
    expect(who).to_be_in_viewport()
    assert page_width(phone_page) <= PHONE_WIDTH
    screenshot(phone_page, "shell-nav-phone")

    # and both lead where they say
    navigation.get_by_role("link", name="Settings", exact=True).click()
    expect(phone_page.get_by_role("heading", name="Settings", exact=True)).to_be_visible()
    who.click()
    expect(phone_page.get_by_role("heading", name="Your profile")).to_be_visible()
    assert page_width(phone_page) <= PHONE_WIDTH


def test_on_a_phone_the_agent_chart_scrolls_inside_its_box(phone_page):
    # given an agent's page on a phone
    sign_in(phone_page, ADMIN)
    phone_page.goto("/agents/")
    phone_page.get_by_role("link", name=DEMO_AGENT).click()
    chart = phone_page.locator(".chart-wrap").first
    expect(chart).to_be_visible()

    # then the chart is wider than its box, which scrolls, and the page itself does not
    sizes = chart.evaluate("e => [e.scrollWidth, e.clientWidth, getComputedStyle(e).overflowX]")
    assert sizes[0] > sizes[1]
    assert sizes[2] in ("auto", "scroll")
    chart.evaluate("e => { e.scrollLeft = e.scrollWidth; }")
    assert chart.evaluate("e => e.scrollLeft") > 0
    assert page_width(phone_page) <= PHONE_WIDTH
    box = chart.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= PHONE_WIDTH


def test_on_a_phone_every_column_of_the_leads_table_can_be_reached(phone_page):
    # given the leads table on a phone
    sign_in(phone_page, ADMIN)
    phone_page.goto("/leads/")
    frame = phone_page.locator(".table-wrap").first
    created = phone_page.get_by_role("columnheader", name="Created")

    # then no column is hidden: the table scrolls sideways in its frame to the last one
    for name in ("Name", "Company", "Status", "Score", "Source", "Contact", "Created"):
        expect(phone_page.get_by_role("columnheader", name=name)).to_be_attached()
        assert phone_page.get_by_role("columnheader", name=name).evaluate("e => getComputedStyle(e).display") != "none"
    assert frame.evaluate("e => e.scrollWidth > e.clientWidth")
    created.scroll_into_view_if_needed()
    expect(created).to_be_in_viewport()
    assert page_width(phone_page) <= PHONE_WIDTH


def test_on_a_phone_the_password_reset_card_keeps_off_the_edges(phone_page):
    phone_page.goto("/accounts/password/reset/")

    card = phone_page.locator("main.card")
    box = card.bounding_box()

    assert box is not None
    assert box["x"] >= 12
    assert box["x"] + box["width"] <= PHONE_WIDTH - 12
    assert page_width(phone_page) <= PHONE_WIDTH
    screenshot(phone_page, "password-reset-phone")


def test_every_sign_in_page_speaks_our_words_and_leads_back_to_sign_in(page):
    for path, heading in [
        ("/accounts/password/reset/", "Reset your password"),
        ("/accounts/password/reset/key/1-bad-token/", "This reset link is no longer valid"),
        ("/accounts/magic-link/", "Email me a sign-in link"),
        ("/accounts/signup/", "No account for this address"),
    ]:
        # when a signed-out visitor opens it
        page.goto(path)

        # then it is ours, not allauth's stock page, and sign-in is one click away
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
        expect(page.get_by_role("link", name="SkyBot Inbox")).to_be_visible()
        for stock in ("Reset My Password", "Password Reset", "Bad Token", "Sign Up", "Remember Me"):
            assert stock not in page.content(), (path, stock)
        page.get_by_role("link", name=re.compile("Back to sign in")).first.click()
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    # and the reset form says what happens next, with the way back
    page.goto("/accounts/password/reset/")
    page.get_by_label("Email").fill(ADMIN)
    page.get_by_role("button", name="Email me a reset link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    expect(page.get_by_role("link", name="← Back to sign in")).to_be_visible()


def test_platform_staff_choose_a_tenant_work_in_it_and_stop(page):
    # given platform staff signing in (they belong to no tenant)
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(STAFF)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    # then they are offered the tenants to act in, not a "Permission denied" page
    expect(page.get_by_role("heading", name="Choose a workspace to act in")).to_be_visible()
    page.goto("/inbox/")
    expect(page.get_by_role("heading", name="Choose a workspace to act in")).to_be_visible()
    expect(page.get_by_text("Permission denied")).to_have_count(0)

    # when they act in the demo tenant
    page.get_by_role("button", name="Act in Demo Company").click()

    # then they are in its inbox, live, under a banner that says so on every page
    expect(page).to_have_url(re.compile(r"/inbox/$"))
    banner = page.get_by_role("status").filter(has_text="Acting in")
    expect(banner).to_contain_text("Acting in Demo Company as platform staff")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "open")
    expect(page.locator("#conversation-list a").first).to_be_visible()
    screenshot(page, "staff-acting-inbox")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    expect(banner).to_be_visible()
    page.get_by_role("link", name="Audit log", exact=True).click()
    expect(page.get_by_text("began acting in this workspace").first).to_be_visible()

    # when they stop
    banner.get_by_role("button", name="Stop").click()

    # then they are back at the switcher, in no tenant
    expect(page.get_by_role("heading", name="Choose a workspace to act in")).to_be_visible()
    expect(page.get_by_text("You no longer act in Demo Company.")).to_be_visible()
    expect(banner).to_have_count(0)
