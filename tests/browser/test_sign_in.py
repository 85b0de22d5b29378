"""Signing in and out, and what each role's navigation offers, in a real browser."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import screenshot, sign_in

ADMIN = "admin@demo.skybot.local"
VIEWER = "viewer@demo.skybot.local"


def test_the_run_command_opens_on_the_sign_in_page(page):
    # when
    page.goto("/")

    # then
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("link", name="Email me a sign-in link instead")).to_be_visible()
    screenshot(page, "sign-in")


def test_a_wrong_password_says_so_and_keeps_the_person_out(page):
    # when
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(ADMIN)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()

    # then
    expect(page.get_by_text("The email address and/or password you specified are not correct.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))


def test_an_admin_signs_in_sees_every_area_and_signs_out(page):
    # when
    sign_in(page, ADMIN)

    # then
    navigation = page.get_by_role("navigation", name="Main")
    for area in ("Inbox", "Agents", "Leads", "Settings"):
        expect(navigation.get_by_role("link", name=area)).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    page.goto("/inbox/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/inbox/$"))


def test_a_viewer_is_offered_no_settings_and_cannot_open_them(page):
    # given
    sign_in(page, VIEWER)

    # then
    navigation = page.get_by_role("navigation", name="Main")
    expect(navigation.get_by_role("link", name="Inbox")).to_be_visible()
    expect(navigation.get_by_role("link", name="Settings")).to_have_count(0)

    # when the viewer types the address anyway
    response = page.goto("/settings/")

    # then the server refuses too
    assert response is not None
    assert response.status == 403
    expect(page.get_by_role("heading", name="Permission denied")).to_be_visible()
